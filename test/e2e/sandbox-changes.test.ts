/**
 * The sandbox changes like a cluster: scaling adds pods that are published once they listen and
 * removes pods through a terminating phase (published ready:false, serving:true,
 * terminating:true while still answering), pod deletion does the same; afterwards the pods'
 * namespaces and servers are gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import type { EndpointConditions } from '../../src/core/model/objects.js';
import { createSandbox, listNetns, type Sandbox } from '../../src/runtime/sandbox/index.js';
import { loadClusterObjects } from '../../src/runtime/sources/files.js';
import { assertRunGone, objectsFromYaml, pidAlive, requireKernel, tempStateRoot } from '../helpers/e2e.js';

const MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        ports: [{name: http, containerPort: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, protocol: TCP, targetPort: http}
`;

let root = '';
let removeRoot: () => Promise<void> = () => Promise.resolve();
before(async () => {
  ({ root, remove: removeRoot } = await tempStateRoot());
});
after(async () => {
  await removeRoot();
});

type Published = Record<string, { ip: string; conditions: EndpointConditions; port: number | null }>;

/** The endpoints of Service web as the proxy would read them now, by pod IP → pod name. */
async function published(sb: Sandbox): Promise<Published> {
  const cluster = await loadClusterObjects([sb.manifestFile], new DiagnosticSink());
  const byIP = new Map(sb.state.pods.map((p) => [p.ip, p.name]));
  const out: Published = {};
  for (const slice of cluster.endpointSlices.filter((s) => s.serviceName === 'web')) {
    for (const e of slice.endpoints) {
      const ip = e.addresses[0] ?? '';
      out[byIP.get(ip) ?? ip] = { ip, conditions: e.conditions, port: slice.ports[0]?.port ?? null };
    }
  }
  return out;
}

const READY = { ready: true, serving: true, terminating: false };
const TERMINATING = { ready: false, serving: true, terminating: true };

function conditionsOf(p: Published): Record<string, EndpointConditions> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.conditions]));
}

describe('sandbox changes (real kernel)', () => {
  it('scale up, scale down with a terminating phase, delete pods with and without replacement', async (t) => {
    if (!requireKernel(t)) return;
    const sb = await createSandbox(objectsFromYaml(MANIFESTS), { name: 'changes', stateRoot: root, nodes: 2 });
    const pids = new Set<number>();
    const remember = (): void => {
      for (const p of sb.pods) if (p.pid !== null) pids.add(p.pid);
    };
    try {
      remember();
      const first = await published(sb);
      assert.deepEqual(conditionsOf(first), { 'web-0': READY, 'web-1': READY, 'web-2': READY });
      assert.ok(Object.values(first).every((e) => e.port === 8080), 'the named targetPort resolves to 8080');

      // 3 → 5: the new pods are published ready once they listen, and answer.
      const up = await sb.scale('web', 5, { graceSeconds: 1 });
      remember();
      assert.deepEqual(up.added, ['web-3', 'web-4']);
      assert.deepEqual(up.terminating, []);
      const five = await published(sb);
      assert.deepEqual(Object.keys(five).sort(), ['web-0', 'web-1', 'web-2', 'web-3', 'web-4']);
      assert.ok(Object.values(five).every((e) => e.conditions.ready === true));
      for (const name of up.added) {
        const r = await sb.httpRequests(sb.clientNetns(), sb.pod(name).ip, 8080, { count: 1 });
        assert.deepEqual(r.byPod, { [name]: 1 });
      }

      // 5 → 2: the newest three terminate, still serving, for the grace period; then they are gone.
      // The grace covers reading the manifests and starting a client that reaches web-4 (which a
      // loaded machine may take a second or more for).
      const down = await sb.scale('web', 2, { graceSeconds: 4 });
      assert.deepEqual([...down.terminating].sort(), ['web-2', 'web-3', 'web-4']);
      assert.deepEqual(conditionsOf(await published(sb)), {
        'web-0': READY,
        'web-1': READY,
        'web-2': TERMINATING,
        'web-3': TERMINATING,
        'web-4': TERMINATING,
      });
      const during = await sb.httpRequests(sb.clientNetns(), sb.pod('web-4').ip, 8080, { count: 1 });
      assert.deepEqual(during.byPod, { 'web-4': 1 }, 'a terminating pod still answers during its grace period');
      const goneNetns = ['web-2', 'web-3', 'web-4'].map((n) => sb.podNetns(n));
      const gonePids = ['web-2', 'web-3', 'web-4'].map((n) => sb.pod(n).pid);
      await down.finished;
      assert.deepEqual(conditionsOf(await published(sb)), { 'web-0': READY, 'web-1': READY });
      const present = await listNetns();
      assert.deepEqual(goneNetns.filter((n) => present.includes(n)), [], 'their namespaces are deleted');
      assert.deepEqual(gonePids.filter((p) => p !== null && pidAlive(p)), [], 'their servers are stopped');

      // Deleting a Deployment's pod: it terminates and, by default, a replacement comes up.
      const replaced = await sb.deletePod('web-0', { graceSeconds: 1 });
      remember();
      assert.deepEqual(replaced.added, ['web-5']);
      assert.deepEqual(conditionsOf(await published(sb)), { 'web-0': TERMINATING, 'web-1': READY, 'web-5': READY });
      await replaced.finished;
      assert.deepEqual(Object.keys(await published(sb)).sort(), ['web-1', 'web-5']);

      // Without replacement: the last terminating endpoint is all that is left, then nothing.
      await (await sb.scale('web', 1, { graceSeconds: 0 })).finished;
      const [last] = sb.pods.filter((p) => p.phase === 'Running').map((p) => p.name);
      assert.ok(last !== undefined);
      const alone = await sb.deletePod(last, { graceSeconds: 1, replace: false });
      assert.deepEqual(alone.added, []);
      assert.deepEqual(conditionsOf(await published(sb)), { [last]: TERMINATING });
      await alone.finished;
      assert.deepEqual(await published(sb), {});
      assert.deepEqual(sb.state.deployments.map((d) => [d.name, d.replicas]), [['web', 1]]);
    } finally {
      await sb.down();
    }
    await assertRunGone(sb.id, [...pids]);
  });
});
