/**
 * Golden tests of the iptables renderer:
 * - kube-proxy's shared vectors (test/golden/kube-proxy/iptables-*), compared with kube-proxy's
 *   canonical sort (reference §5.12) modulo the fake's mark spelling (0x4000);
 * - kproxy's own goldens (test/golden/iptables/*.input.yaml), each running the `rules` command's
 *   option parsing with the arguments in its header, plus the packet flows of the kube-proxy test
 *   it was transcribed from.
 * Set UPDATE_GOLDEN=1 to rewrite kproxy's own expected files (never kube-proxy's).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { DiagnosticSink, formatDiagnostic } from '../../src/core/model/diagnostics.js';
import { parseRulesFlags, renderRulesFor, rulesRequestFromOptions } from '../../src/cli/commands/rules.js';
import { checkConsistency } from '../../src/dataplanes/iptables/consistency.js';
import { renderIptables } from '../../src/dataplanes/iptables/render.js';
import { loadClusterObjects } from '../../src/runtime/sources/files.js';
import { repoPath } from '../helpers/paths.js';
import { EXPECT_KUBE_FIREWALL_RULE, GOLDEN_FLOWS } from './iptables-golden-flows.js';
import { canonicalText, desired, fakeHost } from './iptables-helpers.js';
import { tracePacket } from './iptables-tracer.js';

const GOLDEN_DIR = repoPath('test/golden/iptables');

/** The text of an expected file without its `#` header lines. */
function expectedBody(path: string): string {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

function headerValue(text: string, key: string): string | null {
  const line = text.split('\n').find((l) => l.startsWith(`# ${key}`));
  if (line === undefined) return null;
  return line.slice(line.indexOf(':') + 1).trim();
}

test('kube-proxy vector iptables-overall (TestOverallIPTablesRules)', async () => {
  const sink = new DiagnosticSink();
  const objects = await loadClusterObjects([repoPath('test/golden/kube-proxy/iptables-overall.input.yaml')], sink);
  const ruleset = renderIptables({ state: desired(objects), scope: { full: true, changedServices: new Set() }, host: fakeHost() });
  assert.equal(canonicalText(ruleset), expectedBody(repoPath('test/golden/kube-proxy/iptables-overall.expected.txt')));
  assert.deepEqual(checkConsistency(ruleset), []);
});

const goldenNames = readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith('.input.yaml'))
  .map((f) => f.slice(0, -'.input.yaml'.length))
  .sort();

test('every golden with packet flows exists', () => {
  for (const name of Object.keys(GOLDEN_FLOWS)) assert.ok(goldenNames.includes(name), `missing golden ${name}`);
});

for (const name of goldenNames) {
  test(`golden ${name}`, async (t) => {
    const inputPath = `${GOLDEN_DIR}/${name}.input.yaml`;
    const expectedPath = `${GOLDEN_DIR}/${name}.expected.txt`;
    const header = readFileSync(inputPath, 'utf8');
    const args = headerValue(header, 'kproxy args');
    assert.ok(args !== null, `${name}: header has no "# kproxy args :" line`);
    const request = rulesRequestFromOptions(parseRulesFlags([...args.split(/\s+/), '-f', inputPath]));
    const sink = new DiagnosticSink();
    const objects = await loadClusterObjects(request.files, sink);
    const ruleset = renderRulesFor(objects, request, sink);
    const errors = sink.all.filter((d) => d.severity === 'error').map(formatDiagnostic);
    assert.deepEqual(errors, [], `${name}: the input has errors`);

    const got = canonicalText(ruleset);
    if (process.env.UPDATE_GOLDEN === '1' && name !== 'bad-ips') {
      const source = headerValue(header, 'Source') ?? headerValue(header, 'Source test') ?? '';
      writeFileSync(
        expectedPath,
        `# Expected: kproxy rules ${args} (kube-proxy's canonical sort, reference §5.12; mark written 0x4000 as kube-proxy's tests do)\n` +
          `# Source: ${source}\n${got}`,
      );
    }
    assert.equal(got, expectedBody(expectedPath));
    assert.deepEqual(checkConsistency(ruleset), [], `${name}: inconsistent ruleset`);

    const expectFirewall = EXPECT_KUBE_FIREWALL_RULE[name];
    if (expectFirewall !== undefined) {
      const firewallRules = ruleset.tables.find((tb) => tb.name === 'filter')?.rules.filter((r) => r.chain === 'KUBE-FIREWALL') ?? [];
      assert.equal(firewallRules.length, expectFirewall ? 1 : 0, 'KUBE-FIREWALL anti-martian rule');
    }
    for (const flow of GOLDEN_FLOWS[name] ?? []) {
      await t.test(`flow: ${flow.name}`, () => {
        const result = tracePacket(ruleset, flow);
        assert.deepEqual(result, { output: flow.output, masq: flow.masq ?? false });
      });
    }
  });
}
