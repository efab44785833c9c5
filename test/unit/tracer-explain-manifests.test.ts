/**
 * explain and diff on dumps without comments (named from -f manifests), on 1.18-format dumps, and
 * with externalTrafficPolicy: Local — run as a user runs them, on what `kproxy rules` renders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runKproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';
import type { RulesDiff } from '../../src/tracer/diff.js';
import type { ExplainJson } from '../../src/tracer/report.js';

const MANIFESTS = repoPath('test/fixtures/manifests/shop-local-policy.yaml');
const PROXY_FLAGS = ['--cluster-cidr', '10.244.0.0/16'];

function rendered(format: 'current' | 'legacy', node = 'node-1'): string {
  const r = runKproxy(['rules', '-f', MANIFESTS, '--hostname-override', node, ...PROXY_FLAGS, '--format', format]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The dump with every `-m comment --comment X` removed, as some nodes' rules are. */
function withoutComments(dump: string): string {
  const bare = dump.replace(/ -m comment --comment ("[^"]*"|\S+)/g, '');
  assert.doesNotMatch(bare, /--comment/);
  return bare;
}

function explain(dump: string, extra: readonly string[] = []): ExplainJson {
  const r = runKproxy(['explain', '-', '--json', ...extra], dump);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ExplainJson;
}

function service(e: ExplainJson, name: string): ExplainJson['services'][number] {
  const s = e.services.find((x) => `${x.name}${x.port === '' ? '' : `:${x.port}`}` === name);
  assert.ok(s !== undefined, `${name} in ${e.services.map((x) => `${x.name}:${x.port}`).join(', ')}`);
  return s;
}

test('explain: a 1.18 dump without comments — external IPs (which jump to KUBE-SVC-* too) are not taken for the cluster IP', () => {
  const legacy = rendered('legacy');
  for (const e of [explain(withoutComments(legacy)), explain(withoutComments(legacy), ['-f', MANIFESTS, ...PROXY_FLAGS])]) {
    for (const s of e.services.filter((x) => x.protocol !== 'tcp' || x.clusterIP !== '10.96.0.11')) {
      assert.equal(s.clusterIP, '10.96.0.10', s.name);
      assert.deepEqual(s.externalIPs, ['203.0.113.9'], s.name);
      assert.deepEqual(s.loadBalancerIPs, ['203.0.113.50'], s.name);
    }
  }
  // And the same with comments, where the comments say which rule is which.
  const commented = service(explain(legacy), 'shop/web:http');
  assert.deepEqual([commented.clusterIP, commented.externalIPs], ['10.96.0.10', ['203.0.113.9']]);
});

test('explain -f: a service without endpoints (only filter REJECT rules, no chain) is named from the manifests\' addresses', () => {
  const bare = withoutComments(rendered('current'));
  const anonymous = explain(bare);
  assert.ok(!anonymous.services.some((s) => s.name === 'shop/empty'));
  assert.ok(anonymous.notes.some((n) => n.includes('10.96.0.11:443 (REJECT')), anonymous.notes.join('\n'));
  const named = explain(bare, ['-f', MANIFESTS, ...PROXY_FLAGS]);
  const empty = service(named, 'shop/empty');
  assert.deepEqual([empty.clusterIP, empty.servicePort, empty.nodePorts, empty.withoutEndpoints, empty.endpoints], ['10.96.0.11', 443, [30443], 'REJECT', []]);
  assert.ok(named.anomalies.some((a) => a.kind === 'no-endpoints' && a.message.includes('shop/empty')));
  // The load balancer's source-range DROPs are explained by its source ranges: no rule is left unexplained.
  assert.deepEqual(named.notes.filter((n) => n.includes('without comments')), []);
  assert.deepEqual(service(named, 'shop/web:http').sourceRanges, ['192.0.2.0/24']);
});

test('explain: externalTrafficPolicy: Local — traffic from outside reaches only this node\'s endpoints, with exact odds', () => {
  for (const format of ['current', 'legacy'] as const) {
    const web = service(explain(rendered(format)), 'shop/web:http');
    assert.equal(web.externalTrafficPolicy, 'Local', format);
    assert.equal(web.endpoints.length, 7, format);
    assert.deepEqual(web.externalEndpoints?.map((ep) => [ep.address, ep.exact]), [
      ['10.244.0.5:8080', '1/2'],
      ['10.244.0.6:8080', '1/2'],
    ], format);
  }
  const onNode3 = service(explain(rendered('current', 'node-3')), 'shop/web:http');
  assert.deepEqual(onNode3.externalEndpoints, []);
  const empty = service(explain(rendered('current')), 'shop/empty');
  assert.equal(empty.externalEndpoints, null);
  const text = runKproxy(['explain', '-'], rendered('current'));
  assert.match(text.stdout, /from outside {4}10\.244\.0\.5:8080 +0\.50000000000 {2}\(exactly 1\/2; local endpoints only\)/);
});

test('diff: the dump of another node differs in where outside traffic goes (externalTrafficPolicy: Local)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kproxy-diff-'));
  try {
    const dump = path.join(dir, 'node-1.rules');
    fs.writeFileSync(dump, withoutComments(rendered('current', 'node-1')));
    const run = (node: string): { status: number | null; out: RulesDiff } => {
      const r = runKproxy(['diff', '-f', MANIFESTS, '--hostname-override', node, ...PROXY_FLAGS, '--rules', dump, '--json']);
      return { status: r.status, out: JSON.parse(r.stdout) as RulesDiff };
    };
    const same = run('node-1');
    assert.deepEqual([same.status, same.out.services.map((s) => [s.name, s.port, s.status])], [
      0,
      [
        ['shop/empty', '', 'same'],
        ['shop/web', 'dns', 'same'],
        ['shop/web', 'http', 'same'],
      ],
    ]);
    const other = run('node-2');
    assert.equal(other.status, 1);
    const http = other.out.services.find((s) => s.port === 'http');
    const field = http?.fields.find((f) => f.field === 'externalEndpoints');
    assert.ok(field !== undefined, JSON.stringify(http));
    assert.match(field.expected, /^10\.244\.1\.10:8080 \(p=/);
    assert.equal(field.actual, '10.244.0.5:8080 (p=1/2), 10.244.0.6:8080 (p=1/2)');
    assert.deepEqual(http?.endpoints, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
