// `kproxy trace` and `kproxy explain` as a user runs them (the built CLI in a child process):
// the JSON shapes of the command-line contract, text output, usage errors, stdin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { repoPath } from '../helpers/paths.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const DUMP = repoPath('test/fixtures/dumps/nginx-current.nft.save.txt');

function kproxy(args: readonly string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface TraceOut {
  verdict: string;
  distribution: Record<string, number>;
  exact: Record<string, string>;
  masquerade: boolean;
  path: { table: string; chain: string; line: number | null; rule: string; matched: boolean }[];
  returning: TraceOut | null;
}

const PACKET = ['--src', '172.18.0.9', '--dst', '172.18.255.127:80', '--proto', 'tcp', '--from', 'pod'];

test('trace --json: only JSON on stdout, with verdict, distribution, masquerade, path and returning', () => {
  const r = kproxy(['trace', '--rules', DUMP, ...PACKET, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as TraceOut;
  assert.equal(out.verdict, 'DNAT');
  assert.deepEqual(Object.keys(out.distribution), ['172.18.0.5:80', '172.18.0.6:80', '172.18.0.7:80']);
  for (const p of Object.values(out.distribution)) assert.ok(Math.abs(p - 1 / 3) < 1e-6);
  assert.equal(out.exact['172.18.0.5:80'], '715827883/2147483648');
  assert.equal(out.masquerade, false);
  assert.equal(out.returning, null);
  const first = out.path[0];
  assert.deepEqual(first && [first.table, first.chain, first.line, first.matched], ['nat', 'PREROUTING', 43, true]);
  assert.ok(out.path.every((s) => typeof s.rule === 'string'));
});

test('trace reads the dump from stdin, and prints a readable path and distribution', () => {
  const r = kproxy(['trace', '--rules', '-', ...PACKET], fs.readFileSync(DUMP, 'utf8'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /verdict: DNAT/);
  assert.match(r.stdout, /0\.33333333349 DNAT → 172\.18\.0\.5:80 +\(exactly 715827883\/2147483648\)/);
  assert.match(r.stdout, /✓ nat\/KUBE-SVC-2CMXP7HKUVJN7L6M line 58: .*--probability 0\.33333333349/);
  assert.match(r.stdout, /masquerade: no/);
});


test('trace -f renders manifests (the article example) and traces what kproxy would program', () => {
  const r = kproxy(['trace', '-f', repoPath('examples/article-nginx-endpoints.yaml'), '--hostname-override', 'node-1', ...PACKET, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as TraceOut;
  assert.deepEqual(out.exact, {
    '172.18.0.5:80': '715827883/2147483648',
    '172.18.0.6:80': '1431655765/4294967296',
    '172.18.0.7:80': '1431655765/4294967296',
  });
});

test('trace: session affinity shows the returning client', () => {
  const r = kproxy([
    'trace', '--rules', repoPath('test/fixtures/dumps/overall-current.nft.save.txt'),
    '--src', '203.0.113.5', '--dst', '5.6.7.8:80', '--proto', 'tcp', '--from', 'external', '--node-ip', '192.168.0.2', '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as TraceOut;
  assert.deepEqual(out.distribution, { '10.180.0.3:80': 1 });
  assert.equal(out.masquerade, true);
  assert.ok(out.returning);
  assert.deepEqual(out.returning.distribution, { '10.180.0.3:80': 1 });
  assert.ok(out.returning.path.some((s) => s.matched && s.rule.includes('--rcheck')));
});

test('trace: usage errors and untraceable rules exit 2 with a coded message', () => {
  const noRules = kproxy(['trace', ...PACKET]);
  assert.equal(noRules.status, 2);
  assert.match(noRules.stderr, /give the rules with either --rules DUMP .* or -f PATH .*\[E_USAGE\]/);
  const badDst = kproxy(['trace', '--rules', DUMP, '--src', '1.2.3.4', '--dst', '1.2.3.4', '--proto', 'tcp', '--from', 'pod']);
  assert.match(badDst.stderr, /--dst: expected IP:PORT/);
  const dump = '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m owner --uid-owner 0 -j ACCEPT\nCOMMIT\n';
  const untraceable = kproxy(['trace', '--rules', '-', ...PACKET], dump);
  assert.equal(untraceable.status, 2);
  assert.match(untraceable.stderr, /cannot trace past line 3 \(table nat, chain PREROUTING\): -m owner: .*\[E_TRACE\]/);
  const broken = kproxy(['trace', '--rules', '-', ...PACKET], '*nat\n-A X -j Y\n');
  assert.match(broken.stderr, /stdin:1: table nat has no COMMIT line.*\[E_PARSE\]/);
});

test('explain --json: services with name, clusterIP, endpoints; anomalies', () => {
  const r = kproxy(['explain', DUMP, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { services: { name: string; clusterIP: string; endpoints: { address: string; probability: number }[] }[]; anomalies: unknown[] };
  const nginx = out.services.find((s) => s.name === 'default/nginx');
  assert.ok(nginx);
  assert.equal(nginx.clusterIP, '172.18.255.127');
  assert.deepEqual(nginx.endpoints.map((e) => e.address), ['172.18.0.5:80', '172.18.0.6:80', '172.18.0.7:80']);
  assert.deepEqual(out.anomalies, []);
  const text = kproxy(['explain', repoPath('test/fixtures/dumps/overall-current.nft.save.txt')]);
  assert.match(text.stdout, /ns5\/svc5:p80 \(tcp\)\n {2}cluster IP {6}172\.30\.0\.45:80/);
  assert.match(text.stdout, /affinity {8}ClientIP, 10800s/);
  assert.match(text.stdout, /no-endpoints: filter\/KUBE-SERVICES: ns6\/svc6:p80 \(tcp\) has no endpoints/);
});
