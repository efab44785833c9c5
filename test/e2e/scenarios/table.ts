/**
 * The dataplane scenario table (issue "Run it for real"): every proxy mode runs these same
 * scenarios on the real kernel. A scenario, or a single assertion of one, that cannot hold for a
 * mode by nature says so here, with the reason.
 */
import assert from 'node:assert/strict';
import type { ProxyMode } from '../../../src/core/model/config.js';
import type { TrafficResult } from '../../../src/runtime/sandbox/index.js';
import { SCENARIO_ALPHA, chiSquare } from './stats.js';
import type { Probe } from './probes.js';
import type { Scenario, ScenarioContext } from './types.js';

const EXTERNAL_CLIENT = '198.51.100.1';
const USERSPACE_SOURCE =
  'the userspace proxy opens its own connection to the pod, so the pod sees the node, not the client';

/**
 * Modes where the endpoints cannot see the client's own address, with the reason. Scenarios about
 * the source address still run there (reachability, locality); in place of the source check
 * they check that the reason holds: the endpoints did not see the client.
 */
const CLIENT_SOURCE_NOT_APPLICABLE: Partial<Record<ProxyMode, string>> = { userspace: USERSPACE_SOURCE };
const SOURCE_CHECK_NOTE = `(source check not applicable in ${Object.keys(CLIENT_SOURCE_NOT_APPLICABLE).sort().join(', ')} mode)`;

function pods(r: TrafficResult): string[] {
  return Object.keys(r.byPod).sort();
}

function sources(r: TrafficResult): string[] {
  return Object.keys(r.bySource).sort();
}

function assertAllAnswered(r: TrafficResult, expectedPods: readonly string[], what: string): void {
  assert.equal(r.errors, 0, `${what}: no errors (got ${JSON.stringify(r.errorKinds)})`);
  assert.deepEqual(pods(r), [...expectedPods].sort(), `${what}: every endpoint answers`);
}

/** The endpoints saw `client` as the source, and only it; where the mode cannot keep it, they never saw it. */
function assertSeesClient(ctx: ScenarioContext, r: TrafficResult, client: string, what: string): void {
  const reason = CLIENT_SOURCE_NOT_APPLICABLE[ctx.mode];
  if (reason === undefined) {
    assert.deepEqual(sources(r), [client], `${what}: the endpoints see the client's address`);
    return;
  }
  assert.ok(
    sources(r).length > 0 && !sources(r).includes(client),
    `${what}: seeing the client is not applicable in ${ctx.mode} mode (${reason}), yet the endpoints saw ${sources(r).join(', ')}`,
  );
}

async function reachesAll(ctx: ScenarioContext, probe: Probe, app: string, what: string): Promise<TrafficResult> {
  const r = await ctx.send(probe);
  assertAllAnswered(r, ctx.podsOf(app), what);
  return r;
}

/**
 * Requests per probe that must reach every one of three endpoints: with a random pick per
 * request, one endpoint is missed with probability 3·(2/3)^60 ≈ 8e-11 (with 30 it was 2e-5).
 */
const EVERY_POD_OF_THREE = 60;

/** Runs `task` for every item, `width` at a time. */
async function inBatches<T, R>(items: readonly T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(task))));
  return out;
}

const clusterIP = { kind: 'clusterIP' } as const;
const nodePort = (node?: string): Probe['via'] => (node === undefined ? { kind: 'nodePort' } : { kind: 'nodePort', node });

export const SCENARIOS: readonly Scenario[] = [
  {
    name: `ClusterIP from a pod reaches every endpoint, unmasqueraded ${SOURCE_CHECK_NOTE}`,
    group: 'one-node',
    async run(ctx) {
      const r = await reachesAll(ctx, { from: { kind: 'client' }, service: 'web', via: clusterIP, count: 60 }, 'web', 'pod → ClusterIP');
      assertSeesClient(ctx, r, ctx.sb.clientPod().ip, 'pod → ClusterIP');
    },
  },
  {
    name: 'ClusterIP from the node',
    group: 'one-node',
    async run(ctx) {
      await reachesAll(ctx, { from: { kind: 'node' }, service: 'web', via: clusterIP, count: 60 }, 'web', 'node → ClusterIP');
    },
  },
  {
    name: 'NodePort from outside (externalTrafficPolicy Cluster: masqueraded)',
    group: 'one-node',
    async run(ctx) {
      const r = await reachesAll(ctx, { from: { kind: 'external' }, service: 'web-np', via: nodePort(), count: 60 }, 'web', 'external → NodePort');
      assert.ok(!sources(r).includes(EXTERNAL_CLIENT), `masqueraded: the pods saw ${sources(r).join(', ')}`);
    },
  },
  {
    name: 'hairpin: a pod reaches itself through its own service',
    group: 'one-node',
    async run(ctx) {
      const self = ctx.podsOf('web')[0] ?? '';
      const r = await ctx.send({ from: { kind: 'pod', pod: self }, service: 'web', via: clusterIP, count: 60 });
      assertAllAnswered(r, ctx.podsOf('web'), 'pod → its own service');
      assert.ok((r.byPod[self] ?? 0) > 0, `${self} answered itself`);
    },
  },
  {
    name: 'externalIPs from outside',
    group: 'one-node',
    async run(ctx) {
      await reachesAll(ctx, { from: { kind: 'external' }, service: 'web-ext', via: { kind: 'externalIP' }, count: 60 }, 'web', 'external → externalIP');
    },
  },
  {
    name: 'LoadBalancer IP from outside',
    group: 'one-node',
    async run(ctx) {
      await reachesAll(ctx, { from: { kind: 'external' }, service: 'web-lb', via: { kind: 'loadBalancer' }, count: 60 }, 'web', 'external → LB IP');
    },
  },
  {
    name: 'loadBalancerSourceRanges: an allowed source gets in, a denied source is dropped',
    group: 'one-node',
    async run(ctx) {
      const lb = { kind: 'loadBalancer' } as const;
      await reachesAll(ctx, { from: { kind: 'external' }, service: 'web-lb-ranges', via: lb, count: EVERY_POD_OF_THREE }, 'web', 'allowed source');
      const [denied] = await ctx.sb.addExternalAddresses(1);
      const r = await ctx.send({ from: { kind: 'external', sourceIP: denied ?? '' }, service: 'web-lb-ranges', via: lb, count: 3, timeoutMs: 700 });
      assert.equal(r.answered, 0, 'a source outside the ranges gets no answer');
      assert.deepEqual(Object.keys(r.errorKinds), ['timeout'], `dropped, not refused: ${JSON.stringify(r.errorKinds)}`);
    },
  },
  {
    name: 'UDP',
    group: 'one-node',
    async run(ctx) {
      await reachesAll(ctx, { from: { kind: 'client' }, service: 'web-udp', via: clusterIP, count: 60 }, 'web', 'UDP to ClusterIP');
    },
  },
  {
    name: 'named targetPort',
    group: 'one-node',
    async run(ctx) {
      await reachesAll(ctx, { from: { kind: 'client' }, service: 'web-multi', port: 'http', via: clusterIP, count: EVERY_POD_OF_THREE }, 'web', 'targetPort: http');
    },
  },
  {
    name: 'multiple ports on one service',
    group: 'one-node',
    async run(ctx) {
      for (const port of ['http', 'alt']) {
        await reachesAll(ctx, { from: { kind: 'client' }, service: 'web-multi', port, via: clusterIP, count: EVERY_POD_OF_THREE }, 'web', `port ${port}`);
      }
    },
  },
  {
    name: 'session affinity: one client always reaches one pod',
    group: 'one-node',
    async run(ctx) {
      const r = await ctx.send({ from: { kind: 'external' }, service: 'web-sticky-long', via: nodePort(), count: 30, concurrency: 1 });
      assert.equal(r.errors, 0);
      assert.equal(pods(r).length, 1, `one pod for one client: ${JSON.stringify(r.byPod)}`);
    },
  },
  {
    name: 'session affinity: different clients spread over the pods',
    group: 'one-node',
    async run(ctx) {
      const clients = await ctx.sb.addExternalAddresses(20);
      const seen = new Set<string>();
      await inBatches(clients, 5, async (ip) => {
        const r = await ctx.send({ from: { kind: 'external', sourceIP: ip }, service: 'web-sticky-long', via: nodePort(), count: 3, concurrency: 1 });
        assert.equal(r.errors, 0);
        assert.equal(pods(r).length, 1, `client ${ip} sticks to one pod: ${JSON.stringify(r.byPod)}`);
        for (const p of pods(r)) seen.add(p);
      });
      // All 20 clients on one pod would happen with probability 3·(1/3)^20 ≈ 9e-10.
      assert.ok(seen.size >= 2, `20 clients reached ${[...seen].join(', ')}`);
    },
  },
  {
    name: 'session affinity: the timeout expires',
    group: 'one-node',
    async run(ctx) {
      // Clients of their own (the other affinity scenarios use the first 20 addresses).
      const clients = (await ctx.sb.addExternalAddresses(40)).slice(20);
      const pick = async (ip: string): Promise<string> => {
        const r = await ctx.send({ from: { kind: 'external', sourceIP: ip }, service: 'web-sticky', via: nodePort(), count: 1, concurrency: 1 });
        assert.equal(r.errors, 0, `client ${ip}: ${JSON.stringify(r.errorKinds)}`);
        return pods(r)[0] ?? '';
      };
      const first = await inBatches(clients, 5, pick);
      // timeoutSeconds is 1: after a pause of 1.3 s each client is free to land anywhere. If the
      // records did not expire, every client would stay; if they do, each stays with probability
      // 1/3 (iptables) — all 20 with probability (1/3)^20 ≈ 3e-10 — and in userspace mode round
      // robin moves at least one of them.
      await new Promise((resolve) => setTimeout(resolve, 1300));
      const second = await inBatches(clients, 5, pick);
      const moved = clients.filter((_, i) => first[i] !== second[i]);
      assert.ok(moved.length > 0, `after the timeout some client moved: ${clients.map((ip, i) => `${ip} ${first[i] ?? '?'} → ${second[i] ?? '?'}`).join(', ')}`);
    },
  },
  {
    name: 'a service without endpoints refuses connections at once',
    group: 'one-node',
    async run(ctx) {
      const r = await ctx.send({ from: { kind: 'client' }, service: 'nothing', via: clusterIP, count: 5, concurrency: 1, timeoutMs: 3000 });
      assert.equal(r.answered, 0);
      assert.deepEqual(Object.keys(r.errorKinds), ['ECONNREFUSED'], JSON.stringify(r.errorKinds));
      // Timed by the client itself (not counting how long a loaded machine takes to start it):
      // five refusals, not a SYN retransmitted after 1 s before each.
      assert.ok(r.durationMs < 2500, `refused at once, not after a timeout (${r.durationMs} ms)`);
    },
  },
  {
    // 1500 requests: a spread with the classic bug of probability 1/n on every rule (1/3, 2/9,
    // 4/9) fails at this level nearly always (power ≈ 0.9999), a right one once in 1e7 runs.
    name: `the spread over 1500 requests passes a chi-square test (p < ${SCENARIO_ALPHA})`,
    group: 'one-node',
    async run(ctx) {
      const r = await ctx.send({ from: { kind: 'client' }, service: 'web', via: clusterIP, count: 1500, concurrency: 8 });
      assert.equal(r.errors, 0);
      const names = ctx.podsOf('web');
      const test = chiSquare(names.map((n) => r.byPod[n] ?? 0), names.map(() => 1 / names.length), SCENARIO_ALPHA);
      assert.ok(test.consistent, `χ²=${test.statistic.toFixed(2)} (p=${test.p.toPrecision(3)} < ${SCENARIO_ALPHA}) for ${JSON.stringify(r.byPod)}`);
    },
  },
  {
    name: `externalTrafficPolicy Local: only local endpoints answer, and they see the client ${SOURCE_CHECK_NOTE}`,
    group: 'two-nodes',
    async run(ctx) {
      for (const node of ['node-1', 'node-2']) {
        const r = await ctx.send({ from: { kind: 'external' }, service: 'spread-local', via: nodePort(node), count: 40 });
        assertAllAnswered(r, ctx.podsOf('spread', node), `NodePort on ${node}`);
        assertSeesClient(ctx, r, EXTERNAL_CLIENT, `NodePort on ${node}`);
      }
    },
  },
  {
    name: 'externalTrafficPolicy Local: a node without local endpoints drops',
    group: 'two-nodes',
    async run(ctx) {
      const r = await ctx.send({ from: { kind: 'external' }, service: 'solo-local', via: nodePort('node-2'), count: 3, timeoutMs: 700 });
      assert.equal(r.answered, 0, 'node-2 has no endpoint of solo-local');
      assert.deepEqual(Object.keys(r.errorKinds), ['timeout'], JSON.stringify(r.errorKinds));
      const ok = await ctx.send({ from: { kind: 'external' }, service: 'solo-local', via: nodePort('node-1'), count: 10 });
      assertAllAnswered(ok, ['solo'], 'NodePort on the node of solo');
    },
  },
  {
    name: 'externalTrafficPolicy Cluster: every endpoint, masqueraded',
    group: 'two-nodes',
    async run(ctx) {
      const r = await ctx.send({ from: { kind: 'external' }, service: 'spread-cluster', via: nodePort('node-2'), count: 80 });
      assertAllAnswered(r, ctx.podsOf('spread'), 'NodePort on node-2');
      assert.ok(!sources(r).includes(EXTERNAL_CLIENT), `masqueraded: the pods saw ${sources(r).join(', ')}`);
    },
  },
  {
    name: 'internalTrafficPolicy Local: pods reach only their node\'s endpoints',
    group: 'two-nodes',
    async run(ctx) {
      for (const node of ['node-1', 'node-2']) {
        const r = await ctx.send({ from: { kind: 'client', node }, service: 'spread-itp', via: clusterIP, count: 40 });
        assertAllAnswered(r, ctx.podsOf('spread', node), `client on ${node}`);
      }
    },
  },
  {
    name: 'scaling 3→5→1 while the proxy runs: traffic follows',
    group: 'changes',
    async run(ctx) {
      const probe: Probe = { from: { kind: 'client' }, service: 'scale', via: clusterIP, count: 100, concurrency: 8 };
      await reachesAll(ctx, probe, 'scale', '3 replicas');
      await ctx.sb.scale('scale', 5);
      await ctx.eventually(probe, (r) => r.errors === 0 && pods(r).length === 5, 'traffic to reach 5 pods');
      const down = await ctx.sb.scale('scale', 1, { graceSeconds: 2 });
      const [left] = ctx.podsOf('scale');
      await ctx.eventually(probe, (r) => r.errors === 0 && pods(r).join() === left, `traffic to go only to ${left ?? '?'}`);
      await down.finished;
      const r = await ctx.send(probe);
      assertAllAnswered(r, ctx.podsOf('scale'), '1 replica');
    },
  },
  {
    name: 'a deleted pod\'s terminating endpoint: no new traffic while another is ready, the fallback when none is',
    group: 'changes',
    async run(ctx) {
      const probe: Probe = { from: { kind: 'client' }, service: 'term', via: clusterIP, count: 40, timeoutMs: 1000 };
      const [first, second] = ctx.podsOf('term');
      assert.ok(first !== undefined && second !== undefined);
      const a = await ctx.sb.deletePod(first, { replace: false, graceSeconds: 8 });
      await ctx.eventually(probe, (r) => r.errors === 0 && pods(r).join() === second, `traffic only to the ready ${second}`);
      const b = await ctx.sb.deletePod(second, { replace: false, graceSeconds: 8 });
      // Both terminating but serving: kube-proxy falls back to serving-terminating endpoints.
      await ctx.eventually(probe, (r) => r.errors === 0 && pods(r).join() === [first, second].sort().join(), 'both terminating pods to serve');
      await Promise.all([a.finished, b.finished]);
      // One request per try: the kernel rate-limits the ICMP errors REJECT sends (a burst of
      // about 6, then one per second per client), so a flood would see timeouts after a few.
      const single: Probe = { ...probe, count: 1, concurrency: 1 };
      await ctx.eventually(single, (r) => Object.keys(r.errorKinds).join() === 'ECONNREFUSED', 'refusal once both are gone');
    },
  },
  {
    name: 'UDP: when an endpoint goes away its flows are cleared, so the client is not blackholed',
    group: 'changes',
    async run(ctx) {
      // One flow: the same source port every time, so without a conntrack cleanup the flow
      // would keep its DNAT to the deleted pod for as long as the client keeps sending.
      const flow: Probe = { from: { kind: 'client' }, service: 'dns', via: clusterIP, count: 3, concurrency: 1, sourcePort: 40053, timeoutMs: 500 };
      const first = await ctx.send(flow);
      assert.equal(first.errors, 0);
      const [pinned, ...others] = pods(first);
      assert.ok(pinned !== undefined && others.length === 0, `one flow reaches one pod: ${JSON.stringify(first.byPod)}`);
      const gone = await ctx.sb.deletePod(pinned, { replace: false, graceSeconds: 0 });
      await gone.finished;
      const rest = ctx.podsOf('dns');
      await ctx.eventually(
        { ...flow, count: 1 },
        (r) => r.errors === 0 && pods(r).join() === rest.join(),
        `the flow to move to ${rest.join()}`,
        15_000,
      );
    },
  },
];
