/**
 * `trace -f --proxy-mode userspace`: the portal rules kube-proxy's userspace mode programs, with
 * the jumps it installs, traced like any rules — to the proxy listener `kproxy rules --mode
 * userspace` lists for that service port, and a note saying what the listener does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runKproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';

const MANIFESTS = repoPath('test/fixtures/manifests/shop-local-policy.yaml');
const FLAGS = ['-f', MANIFESTS, '--proxy-mode', 'userspace', '--hostname-override', 'node-1'];

interface TraceOut {
  verdict: string;
  distribution: Record<string, number>;
  outcomes: { verdict: string; decidedAt: { table: string; chain: string } | null }[];
  path: { chain: string; rule: string; matched: boolean }[];
  notes: string[];
}

/** `proto/port` → the listener line of `kproxy rules --mode userspace` (the plan, as comments). */
function listeners(): Map<string, string> {
  const r = runKproxy(['rules', ...FLAGS]);
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, string>();
  for (const m of r.stdout.matchAll(/^# +(\d+)\/(tcp|udp) +(.+)$/gm)) out.set(`${m[2] ?? ''}/${m[1] ?? ''}`, m[3] ?? '');
  assert.ok(out.size >= 5, r.stdout);
  return out;
}

function traceJson(args: readonly string[]): TraceOut {
  const r = runKproxy(['trace', ...FLAGS, ...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as TraceOut;
}

test('a pod to a ClusterIP is REDIRECTed to the listener kproxy rules lists for it; the note names its endpoints', () => {
  const byPort = listeners();
  const t = traceJson(['--src', '10.244.0.9', '--dst', '10.96.0.10:80', '--proto', 'tcp', '--from', 'pod']);
  assert.equal(t.verdict, 'DNAT');
  const [target, p] = Object.entries(t.distribution)[0] ?? ['', 0];
  assert.equal(p, 1);
  const port = target.slice(target.lastIndexOf(':') + 1);
  assert.match(byPort.get(`tcp/${port}`) ?? '', /^shop\/web:http \[internal, cluster\] balanced/);
  assert.ok(t.path.some((s) => s.matched && s.chain === 'KUBE-PORTALS-CONTAINER' && s.rule.includes(`REDIRECT --to-ports ${port}`)));
  const note = t.notes.find((n) => n.startsWith(`${target} is the userspace proxy's listener for shop/web:http`));
  assert.ok(note !== undefined, t.notes.join('\n'));
  assert.match(note, /over 7 endpoint\(s\), in turn \(round robin, each 1\/7 of new connections/);
  assert.match(note, /ClientIP affinity \(10800s\)/);
});

test('outside traffic to a node port (externalTrafficPolicy: Local) goes to the external listener: local endpoints only', () => {
  const byPort = listeners();
  const t = traceJson(['--src', '8.8.8.8', '--dst', '198.51.100.2:30080', '--proto', 'tcp', '--from', 'external']);
  assert.equal(t.verdict, 'DNAT');
  const target = Object.keys(t.distribution)[0] ?? '';
  assert.match(target, /^198\.51\.100\.2:\d+$/);
  assert.match(byPort.get(`tcp/${target.split(':')[1] ?? ''}`) ?? '', /^shop\/web:http \[external\] balanced.*-> 10\.244\.0\.5:8080 10\.244\.0\.6:8080$/);
  assert.ok(t.notes.some((n) => n.includes('over 2 endpoint(s)') && n.includes('10.244.0.5:8080, 10.244.0.6:8080')), t.notes.join('\n'));
});

test('the node to a service without endpoints: DNATed to its listener, whose port the filter table rejects', () => {
  const t = traceJson(['--src', '198.51.100.2', '--dst', '10.96.0.11:443', '--proto', 'tcp', '--from', 'node']);
  assert.equal(t.verdict, 'REJECT');
  assert.deepEqual(t.distribution, {});
  assert.deepEqual(t.outcomes.map((o) => o.decidedAt?.chain), ['KUBE-NODEPORT-NON-LOCAL']);
  assert.ok(t.path.some((s) => s.matched && s.chain === 'KUBE-PORTALS-HOST' && s.rule.includes('-j DNAT --to-destination 198.51.100.2:')));
});

test('a destination that is no service passes unchanged', () => {
  const t = traceJson(['--src', '10.244.0.9', '--dst', '10.96.0.99:80', '--proto', 'tcp', '--from', 'pod']);
  assert.deepEqual([t.verdict, t.distribution], ['NO_SERVICE', {}]);
  assert.ok(!t.notes.some((n) => n.includes('listener for')));
});

test('without the node\'s address: pod traffic is still traced, with the one warning `rules` gives', () => {
  const article = repoPath('examples/article-nginx.yaml');
  const r = runKproxy(['trace', '-f', article, '--proxy-mode', 'userspace', '--hostname-override', 'node-1',
    '--src', '172.18.0.9', '--dst', '172.18.255.127:80', '--proto', 'tcp', '--from', 'pod', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const t = JSON.parse(r.stdout) as TraceOut;
  assert.ok(t.path.some((p) => p.matched && p.chain === 'KUBE-PORTALS-CONTAINER'), JSON.stringify(t.path));
  assert.equal(r.stderr.match(/flags: --node-ip: warning: userspace mode: this node's IPv4 address is unknown/g)?.length, 1, r.stderr);
});
