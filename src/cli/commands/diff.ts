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
import { addManifestOptions, describeOption, DUMP_HELP, MANIFEST_HELP, readDumpProgram, renderManifests } from './trace.js';
import { chainNameIndex, serviceAddressIndex } from './explain.js';

interface DiffFlagValues extends RulesFlagValues {
  readonly rules?: string;
  readonly json?: boolean;
}

async function runDiff(opts: DiffFlagValues): Promise<void> {
  if (opts.rules === undefined || (opts.filename ?? []).length === 0) {
    throw new KproxyError('E_USAGE', 'diff: give both -f PATH (manifests) and --rules DUMP (iptables-save output or restore input)');
  }
  const family = opts.ipFamily === 'ipv6' ? 'IPv6' : 'IPv4';
  const rendered = await renderManifests(opts, family, 'diff');
  const names = chainNameIndex([rendered.state]);
  const addresses = serviceAddressIndex([rendered.state]);
  const expected = explainProgram(lowerIptables(rendered.ruleset), names, addresses);
  const dump = await readDumpProgram(opts.rules);
  for (const note of dump.notes) process.stderr.write(`kproxy: note: ${note}\n`);
  const diff = diffExplanations(expected, explainProgram(dump, names, addresses));
  if (opts.json === true) process.stdout.write(`${JSON.stringify(diff, null, 2)}\n`);
  else process.stdout.write(formatDiff(diff));
  process.exitCode = diff.identical ? 0 : 1;
}

export function registerDiffCommand(program: Command): void {
  const cmd = program
    .command('diff')
    .description(
      'Compare what kproxy would program for -f manifests with what a node\'s dump holds (--rules), by service port and ' +
        'endpoint: missing, extra, different (addresses, ports, policies, endpoints and their exact probabilities). ' +
        'Exit status 0 when they agree, 1 when they differ, 2 on an error.',
    )
    .option('--rules <dump>', 'the node\'s rules: iptables-save output, iptables-restore input or bare rule lines (- for stdin) (required)')
    .addOption(new Option('--ip-family <family>', 'which family of the manifests to render (match the dump: iptables-save or ip6tables-save)').choices(['ipv4', 'ipv6']).default('ipv4'))
    .option('--json', 'print only JSON on stdout: {services: [{name, port, protocol, status, fields, endpoints}], identical}');
  addManifestOptions(cmd);
  describeOption(cmd, '-f', 'the manifests (YAML/JSON file, folder, or -; repeatable) whose rules kproxy would program (required)');
  describeOption(cmd, '--hostname-override', 'the node the dump was taken on (its name decides which endpoints are local); default: this machine\'s hostname');
  cmd.addHelpText('after', `${DUMP_HELP}\n${MANIFEST_HELP}\n`);
  cmd.action(async (opts: DiffFlagValues) => {
    await runDiff(opts);
  });
}
