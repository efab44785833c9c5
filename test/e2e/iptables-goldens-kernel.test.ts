/**
 * Every golden input of the iptables renderer, rendered as `kproxy rules` would (with
 * --no-nfacct: the sandbox has no nfacct counters) and restored into a real kernel inside a
 * throwaway network namespace, followed by the jump rules: the kernel's iptables-restore accepts
 * every word we write, and a full-sync / partial-sync sequence applies cleanly.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { parseRulesFlags, renderRulesFor, rulesRequestFromOptions } from '../../src/cli/commands/rules.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import { jumpRules } from '../../src/dataplanes/iptables/jumps.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { runCommand } from '../../src/runtime/exec/run.js';
import { loadClusterObjects } from '../../src/runtime/sources/files.js';
import { requireKernel } from '../helpers/e2e.js';
import { repoPath } from '../helpers/paths.js';

const GOLDEN_DIR = repoPath('test/golden/iptables');

test('the kernel accepts the restore input of every golden, and the jump rules after it', async (t) => {
  if (!requireKernel(t, ['ip', 'iptables-restore', 'ip6tables-restore', 'iptables'])) return;
  const names = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.input.yaml')).sort();
  assert.ok(names.length > 20);
  for (const file of names) {
    const path = `${GOLDEN_DIR}/${file}`;
    const header = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith('# kproxy args'));
    assert.ok(header !== undefined, file);
    const args = header.slice(header.indexOf(':') + 1).trim().split(/\s+/);
    const request = rulesRequestFromOptions(parseRulesFlags([...args, '--no-nfacct', '-f', path]));
    const sink = new DiagnosticSink();
    const ruleset = renderRulesFor(await loadClusterObjects(request.files, sink), request, sink);
    const v6 = request.family === 'IPv6';
    // Unique even when an earlier run that had this pid was killed before removing its namespace.
    const ns = `kpx-golden-${process.pid}-${randomBytes(3).toString('hex')}`;
    await runCommand(['ip', 'netns', 'add', ns]);
    try {
      const exec = (argv: string[], stdin?: string): ReturnType<typeof runCommand> =>
        runCommand(['ip', 'netns', 'exec', ns, ...argv], stdin === undefined ? {} : { stdin });
      await exec([v6 ? 'ip6tables-restore' : 'iptables-restore', '--noflush'], serializeRuleset(ruleset));
      // A second identical full sync flushes and rewrites every chain it declares.
      await exec([v6 ? 'ip6tables-restore' : 'iptables-restore', '--noflush'], serializeRuleset(ruleset));
      const tool = v6 ? 'ip6tables' : 'iptables';
      for (const jump of jumpRules(request.format)) {
        await exec([tool, '-w', '-t', jump.table, '-N', jump.target]).catch(() => undefined);
        await exec([tool, '-w', '-t', jump.table, '-I', jump.chain, ...jump.words]);
      }
      const saved = await exec([v6 ? 'ip6tables-save' : 'iptables-save']);
      assert.match(saved.stdout, /-A KUBE-SERVICES /, file);
    } finally {
      await runCommand(['ip', 'netns', 'del', ns], { allowFailure: true });
    }
  }
});
