/**
 * `kproxy diff -f PATH --rules DUMP`: what kproxy would program for the manifests against what
 * a node's dump holds, by service and endpoint. Exit status 1 when they differ, as diff(1).
 */
import { Option, type Command } from 'commander';
import { KproxyError } from '../../core/errors.js';
import { diffExplanations, formatDiff } from '../../tracer/diff.js';
import { explainProgram } from '../../tracer/explain.js';
import { lowerIptables } from '../../tracer/lower-iptables.js';
import type { RulesFlagValues } from './rules.js';
import { addManifestOptions, readDump, renderManifests } from './trace.js';
import { chainNameIndex } from './explain.js';

interface DiffFlagValues extends RulesFlagValues {
  readonly rules?: string;
  readonly json?: boolean;
}

async function runDiff(opts: DiffFlagValues): Promise<void> {
  if (opts.rules === undefined || (opts.filename ?? []).length === 0) {
    throw new KproxyError('E_USAGE', 'diff: give both -f PATH (manifests) and --rules DUMP (iptables-save output or restore input)');
  }
  const family = opts.ipFamily === 'ipv6' ? 'IPv6' : 'IPv4';
  const rendered = await renderManifests(opts, family);
  const names = chainNameIndex(rendered.state);
  const expected = explainProgram(lowerIptables(rendered.ruleset), names);
  const actual = explainProgram(lowerIptables(await readDump(opts.rules)), names);
  const diff = diffExplanations(expected, actual);
  if (opts.json === true) process.stdout.write(`${JSON.stringify(diff, null, 2)}\n`);
  else process.stdout.write(formatDiff(diff));
  process.exitCode = diff.identical ? 0 : 1;
}

export function registerDiffCommand(program: Command): void {
  const cmd = program
    .command('diff')
    .description(
      'Compare what kproxy would program for -f manifests with what a dump holds (--rules), by service port and ' +
        'endpoint: missing, extra, different (addresses, ports, policies, endpoints and their exact probabilities). ' +
        'Exit status 1 when they differ.',
    )
    .option('--rules <dump>', 'iptables-save output or iptables-restore input (- for stdin)')
    .addOption(new Option('--ip-family <family>', 'which family to render').choices(['ipv4', 'ipv6']).default('ipv4'))
    .option('--json', 'print only JSON on stdout');
  addManifestOptions(cmd);
  cmd.action(async (opts: DiffFlagValues) => {
    await runDiff(opts);
  });
}
