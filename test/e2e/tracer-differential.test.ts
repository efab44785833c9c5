/**
 * The tracer's proof (issue "Explain"): the scenario table runs on the real kernel in iptables
 * mode, and after every probe the node's rules are read back with `iptables-save`, the probe's
 * packet is traced through that dump, and the prediction is held against what the kernel did:
 *
 * - the spread over pods: chi-square of the measured answers per pod against the traced exact
 *   distribution (categories expected < 5 times are merged). A run makes about 25 such tests;
 *   each fails only at p < 2e-7 / 30 (Bonferroni), so that a run fails by chance with
 *   probability 2e-7 at most (see ./scenarios/stats.ts for the suite's budget); the scenario
 *   with 1500 requests is the one with the power to tell a slightly wrong probability;
 * - refused and dropped where predicted: REJECT ↔ ECONNREFUSED, DROP ↔ timeouts, DNAT ↔ answers
 *   (an outcome the tracer gives probability 0 fails at once);
 * - masquerading: the share of answers whose pod saw another source than the client;
 * - session affinity: the trace's `returning` result predicts what a client's later requests
 *   reach given its first one ("one endpoint per client" when it is sticky); the first requests
 *   of all clients of a service are pooled for a chi-square at the end;
 * - a DNAT to a pod on another node: the second hop is traced through that node's dump and must
 *   pass unchanged; otherwise the probe is not traceable by one node's rules and is left out
 *   with the reason printed;
 * - while the rules change (scaling, a deleted pod's terminating endpoint, UDP flows), the
 *   scenarios wait with `ctx.eventually` until the new state shows; the harness then sends the
 *   probe once more and reports it (`settled`), and that probe is compared like any other — so
 *   the serving-terminating fallback (no ready endpoint left: traffic goes to the terminating but
 *   still serving ones) is held against the kernel too.
 *
 * Every comparison is counted; the last test asserts a minimum, that every scenario of the table
 * compared at least one probe, and that every verdict (DNAT, REJECT, DROP), origin (pod, node,
 * outside), masquerading both ways, affinity, a second hop, a terminating endpoint left out while
 * a ready one serves, and the terminating fallback were compared, so it cannot pass vacuously.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import type { Sandbox, TrafficResult } from '../../src/runtime/sandbox/index.js';
import type { IrProgram } from '../../src/tracer/ir.js';
import { EMPTY_IPSETS } from '../../src/tracer/ipset.js';
import { lowerIptables } from '../../src/tracer/lower-iptables.js';
import type { TracePacket } from '../../src/tracer/packet.js';
import { trace, type TraceResult } from '../../src/tracer/trace.js';
import { kernelSkip } from '../helpers/e2e.js';
import { compareCounts, errorCategory, observedCategories, type CountComparison } from './differential/compare.js';
import { predict, returningShares, type PodLookup, type Prediction, type RemoteOutcome } from './differential/predict.js';
import { runScenarioTable } from './scenarios/harness.js';
import { SCENARIOS } from './scenarios/table.js';
import type { Observation } from './scenarios/types.js';

/** The table sends 91 probes in iptables mode; a few may be left out with a reason, none silently. */
const MIN_COMPARED = 85;

/** The chance that some chi-square test of a run fails although every prediction is right. */
const RUN_ALPHA = 2e-7;
/** At most this many chi-square tests per run (the summary checks it): each runs at level RUN_ALPHA / TESTS. */
const CHI_SQUARE_TESTS = 30;
const ALPHA = RUN_ALPHA / CHI_SQUARE_TESTS;

interface Tally {
  compared: number;
  /** Comparisons made, and how many of them were chi-square tests (the others: support checks). */
  checks: number;
  readonly verdicts: Map<string, number>;
  readonly origins: Map<string, number>;
  readonly nodes: Set<string>;
  chiSquares: number;
  sticky: number;
  secondHops: number;
  masqueraded: number;
  direct: number;
  readonly notCompared: string[];
  /** One line per compared probe: prediction and measurement. */
  readonly lines: string[];
  /** Session affinity: first requests of every client, pooled per traced service address. */
  readonly firstPicks: Map<string, { shares: ReadonlyMap<string, number>; counts: Map<string, number> }>;
  /** Compared probes per scenario. */
  readonly byScenario: Map<string, number>;
  /** Compared probes sent once a change had settled (`ctx.eventually`). */
  settled: number;
  /** Compared probes where a service had a terminating pod the tracer gave 0 while a ready one served. */
  terminatingLeftOut: number;
  /** Compared probes where every endpoint predicted was a terminating pod (the serving-terminating fallback). */
  terminatingFallback: number;
}

const tally: Tally = {
  compared: 0,
  checks: 0,
  verdicts: new Map(),
  origins: new Map(),
  nodes: new Set(),
  chiSquares: 0,
  sticky: 0,
  secondHops: 0,
  masqueraded: 0,
  direct: 0,
  notCompared: [],
  lines: [],
  firstPicks: new Map(),
  byScenario: new Map(),
  settled: 0,
  terminatingLeftOut: 0,
  terminatingFallback: 0,
};

function bump(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

interface NodeRules {
  readonly program: IrProgram;
  /** Every address of the node's namespace (what the kernel calls LOCAL). */
  readonly localIPs: readonly string[];
}

/** KPROXY_DIFFERENTIAL_DUMPS=DIR keeps each node's last dump there (how test/fixtures/dumps/sandbox-*.save.txt were made). */
const KEEP_DUMPS = process.env['KPROXY_DIFFERENTIAL_DUMPS'];

async function nodeRules(sb: Sandbox, nodeName: string): Promise<NodeRules> {
  const netns = sb.nodeNetns(nodeName);
  const dump = (await sb.exec(netns, ['iptables-save'])).stdout;
  if (KEEP_DUMPS !== undefined) await writeFile(path.join(KEEP_DUMPS, `${sb.name}-${nodeName}.save.txt`), dump);
  const program = lowerIptables(parseIptables(dump, `iptables-save of ${nodeName}`));
  const assumed = program.notes.filter((n) => n.includes('assumed kube-proxy'));
  assert.deepEqual(assumed, [], `a real dump of ${nodeName} carries kube-proxy's jumps itself`);
  const addrs = (await sb.exec(netns, ['ip', '-o', 'addr', 'show'])).stdout;
  const localIPs = [...addrs.matchAll(/\sinet6? ([0-9a-f.:]+)\//g)].map((m) => m[1] ?? '');
  assert.ok(localIPs.includes(sb.node(nodeName).address), `${nodeName} has its address ${sb.node(nodeName).address}: ${localIPs.join(' ')}`);
  return { program, localIPs };
}

function podLookup(sb: Sandbox): PodLookup {
  const pods = sb.state.pods;
  return (ip) => pods.find((p) => p.ip === ip);
}

function describeProbe(o: Observation): string {
  const r = o.resolved;
  const settled = o.settled === undefined ? '' : `, once settled: ${o.settled}`;
  return `${r.protocol} ${r.srcIP} → ${r.dstIP}:${r.dstPort} from ${r.origin} (rules of ${r.node}${settled})`;
}

/**
 * Terminating pods of the probed service: counts a probe that left them out while a ready pod
 * served, and one that went only to them (the fallback). Which pods are terminating is the
 * sandbox's state when the probe was compared.
 */
function tallyTerminating(sb: Sandbox, o: Observation, prediction: Prediction): void {
  const selector = sb.service(o.probe.service).selector ?? {};
  const selected = sb.pods.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v));
  const terminating = new Set(selected.filter((p) => p.phase === 'Terminating').map((p) => `pod:${p.name}`));
  if (terminating.size === 0) return;
  const predicted = [...prediction.shares].filter(([k, p]) => k.startsWith('pod:') && p > 0).map(([k]) => k);
  if (predicted.length === 0) return;
  if (predicted.every((k) => terminating.has(k))) tally.terminatingFallback++;
  else if (predicted.every((k) => !terminating.has(k))) tally.terminatingLeftOut++;
}

function notCompared(where: string, reason: string): void {
  const line = `not compared: ${where}: ${reason}`;
  tally.notCompared.push(line);
  process.stderr.write(`tracer-differential: ${line}\n`);
}

/** The category of each request, in order (an error's kind is known per request only when there is one kind). */
function requestCategories(r: TrafficResult): string[] {
  const kinds = Object.keys(r.errorKinds);
  const errorCat = kinds.length === 1 ? errorCategory(kinds[0] ?? '') : 'error:mixed';
  return r.sequence.map((pod) => (pod === null ? errorCat : `pod:${pod}`));
}

function countsOf(categories: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of categories) bump(out, c);
  return out;
}

/**
 * A DNAT to a pod on another node: that node forwards the packet (its source the first node's
 * address when masqueraded). Null when its rules let it through unchanged; else the reason the
 * probe is not traceable by one node's rules.
 */
async function secondHop(sb: Sandbox, o: Observation, remote: RemoteOutcome): Promise<string | null> {
  const r = o.resolved;
  const rules = await nodeRules(sb, remote.pod.nodeName);
  const [host, port] = [remote.pod.ip, Number(remote.endpoint.slice(remote.endpoint.lastIndexOf(':') + 1))];
  const packet: TracePacket = {
    src: remote.masquerade ? sb.node(r.node).address : r.srcIP,
    dst: host,
    protocol: r.protocol,
    sport: 40000,
    dport: port,
    from: 'external',
    inInterface: 'eth0',
  };
  const hop = trace(rules.program, packet, { nodeIPs: rules.localIPs, ipsets: EMPTY_IPSETS });
  const passes = hop.outcomes.every((x) => x.verdict === 'NO_SERVICE' || x.verdict === 'ACCEPT');
  if (passes) return null;
  return `after the DNAT on ${r.node} the packet crosses ${remote.pod.nodeName}, whose rules would ${hop.verdict} it (a second proxying hop)`;
}

function check(c: CountComparison, where: string, what: string): void {
  assert.ok(c.ok, `${where}: ${what}: the kernel disagrees with the tracer: ${c.detail}`);
  tally.checks++;
  if (c.tested) tally.chiSquares++;
}

function compareSpread(o: Observation, where: string, prediction: Prediction): void {
  const c = compareCounts(observedCategories(o.result), prediction.shares, ALPHA);
  check(c, where, 'outcomes per pod / refused / dropped');
}

/** Session affinity: the first request follows the first-packet distribution, later ones the returning client's. */
function compareSticky(o: Observation, where: string, result: TraceResult, prediction: Prediction, podByIP: PodLookup): boolean {
  if ((o.probe.concurrency ?? 4) !== 1) {
    notCompared(where, 'session affinity with concurrent requests: which request sets the affinity entry first is a race');
    return false;
  }
  const [first, ...later] = requestCategories(o.result);
  if (first === undefined) return false;
  const c = compareCounts(new Map([[first, 1]]), prediction.shares, ALPHA);
  check(c, where, 'first request of a client with session affinity');
  const key = `${o.resolved.protocol} ${o.resolved.dstIP}:${o.resolved.dstPort} from ${o.resolved.origin} via ${o.resolved.node}`;
  const pool = tally.firstPicks.get(key) ?? { shares: prediction.shares, counts: new Map<string, number>() };
  bump(pool.counts, first);
  tally.firstPicks.set(key, pool);
  if (later.length > 0) {
    const given = returningShares(result, podByIP).get(first) ?? new Map<string, number>();
    const sticky = given.get(first) === 1;
    const c2 = compareCounts(countsOf(later), given, ALPHA);
    const expectation = sticky ? `one endpoint per client (${first} every time)` : `the returning client's distribution after ${first}`;
    check(c2, where, `later requests: ${expectation}`);
  }
  tally.sticky++;
  return true;
}

/** The share of answers whose pod saw another source than the client (masqueraded). */
function compareMasquerade(o: Observation, where: string, expected: number | null): void {
  if (expected === null) return;
  const seen = Object.values(o.result.bySource).reduce((a, b) => a + b, 0);
  if (seen === 0) return;
  const direct = o.result.bySource[o.resolved.srcIP] ?? 0;
  const observed = new Map([
    ['masqueraded', seen - direct],
    ['direct', direct],
  ]);
  const c = compareCounts(observed, new Map([['masqueraded', expected], ['direct', 1 - expected]]), ALPHA);
  check(c, where, 'source the pods saw (masqueraded or the client\'s own)');
  if (expected > 0) tally.masqueraded++;
  if (expected < 1) tally.direct++;
}

function inInterface(sb: Sandbox, o: Observation): string | undefined {
  switch (o.resolved.origin) {
    case 'pod':
      return sb.state.pods.find((p) => p.ip === o.resolved.srcIP)?.hostVeth;
    case 'external':
      return 'eth0';
    case 'node':
      return undefined;
  }
}

async function onObservation(o: Observation, sb: Sandbox): Promise<void> {
  const where = `${o.scenario} — ${describeProbe(o)}`;
  const r = o.resolved;
  const rules = await nodeRules(sb, r.node);
  const podByIP = podLookup(sb);
  const iface = inInterface(sb, o);
  const packet: TracePacket = {
    src: r.srcIP,
    dst: r.dstIP,
    protocol: r.protocol,
    sport: 40000,
    dport: r.dstPort,
    from: r.origin,
    ...(iface === undefined ? {} : { inInterface: iface }),
  };
  const result = trace(rules.program, packet, { nodeIPs: rules.localIPs, ipsets: EMPTY_IPSETS });
  const prediction = predict(result, podByIP, r.node);
  assert.deepEqual(prediction.problems, [], where);
  const unproxied = prediction.shares.get('unproxied') ?? 0;
  if (unproxied > 0) {
    notCompared(where, `the rules leave the packet unproxied with probability ${unproxied}; where it goes then is routing, which no ruleset tells`);
    return;
  }
  for (const remote of prediction.remote) {
    const reason = await secondHop(sb, o, remote);
    if (reason !== null) {
      notCompared(where, reason);
      return;
    }
  }
  if (prediction.remote.length > 0) tally.secondHops++;
  if (result.returning !== null) {
    if (!compareSticky(o, where, result, prediction, podByIP)) return;
    const again = predict(result.returning, podByIP, r.node).masqueradeGivenDnat;
    if (again === prediction.masqueradeGivenDnat) compareMasquerade(o, where, again);
  } else {
    compareSpread(o, where, prediction);
    compareMasquerade(o, where, prediction.masqueradeGivenDnat);
  }
  tally.compared++;
  const verdicts = new Set(result.outcomes.filter((x) => !x.probability.isZero()).map((x) => x.verdict));
  for (const v of verdicts) bump(tally.verdicts, v);
  bump(tally.origins, r.origin);
  const shares = [...prediction.shares].map(([k, p]) => `${k} ${p.toFixed(4)}`).join(', ');
  const measured = [...observedCategories(o.result)].map(([k, n]) => `${k} ${n}`).join(', ');
  const masq = prediction.masqueradeGivenDnat === null ? '' : `; masqueraded ${prediction.masqueradeGivenDnat.toFixed(4)}`;
  const sticky = result.stickiness === null ? '' : `; sticky ${result.stickiness.toNumber().toFixed(4)}`;
  tally.lines.push(`${where}: predicted ${shares}${masq}${sticky}; measured ${measured}, sources ${JSON.stringify(o.result.bySource)}`);
  tally.nodes.add(r.node);
  bump(tally.byScenario, o.scenario);
  if (o.settled !== undefined) tally.settled++;
  tallyTerminating(sb, o, prediction);
}

runScenarioTable('iptables', { onObservation });

test('tracer differential: enough probes compared, every verdict, origin and behaviour covered', (t) => {
  const skip = kernelSkip(['ip', 'iptables', 'iptables-save', 'iptables-restore', 'curl']);
  if (skip !== false) {
    t.skip(skip);
    return;
  }
  for (const line of tally.lines) t.diagnostic(line);
  for (const line of tally.notCompared) t.diagnostic(line);
  const pooled = [...tally.firstPicks].map(([key, pool]) => {
    const c = compareCounts(pool.counts, pool.shares, ALPHA);
    if (c.tested) tally.chiSquares++;
    const clients = [...pool.counts.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(`session affinity, first requests of ${clients} clients to ${key}: ${c.detail}`);
    return { key, c };
  });
  t.diagnostic(
    `compared ${tally.compared} probes (${tally.checks} checks, ${tally.chiSquares} of them chi-square tests at p < ${ALPHA}); ` +
      `verdicts ${JSON.stringify(Object.fromEntries(tally.verdicts))}; origins ${JSON.stringify(Object.fromEntries(tally.origins))}; ` +
      `affinity ${tally.sticky}; second hops ${tally.secondHops}; once settled ${tally.settled}; ` +
      `terminating endpoint left out ${tally.terminatingLeftOut}, terminating fallback ${tally.terminatingFallback}`,
  );
  for (const { key, c } of pooled) assert.ok(c.ok, `first requests of the clients of ${key}: ${c.detail}`);
  assert.ok(tally.chiSquares <= CHI_SQUARE_TESTS, `${tally.chiSquares} chi-square tests ran: raise CHI_SQUARE_TESTS so the level per test stays right`);
  if (process.env['KPROXY_SCENARIO'] !== undefined) {
    assert.ok(tally.compared > 0, 'KPROXY_SCENARIO picked scenarios, but no probe was compared');
    return;
  }
  assert.ok(tally.compared >= MIN_COMPARED, `only ${tally.compared} probes were compared (at least ${MIN_COMPARED} expected)`);
  for (const verdict of ['DNAT', 'REJECT', 'DROP']) assert.ok((tally.verdicts.get(verdict) ?? 0) > 0, `a ${verdict} prediction was compared`);
  for (const origin of ['pod', 'node', 'external']) assert.ok((tally.origins.get(origin) ?? 0) > 0, `a probe from ${origin} was compared`);
  assert.ok(tally.masqueraded > 0 && tally.direct > 0, 'masquerading was compared both ways');
  assert.ok(tally.sticky >= 10, `session affinity was compared (${tally.sticky} clients)`);
  assert.ok(tally.firstPicks.size > 0, 'the first requests of affinity clients were pooled');
  assert.ok(tally.secondHops > 0, 'a DNAT to another node was followed through its rules');
  assert.ok(tally.nodes.has('node-2'), 'the rules of a second node were traced');
  const silent = SCENARIOS.filter((s) => s.notApplicable?.iptables === undefined && (tally.byScenario.get(s.name) ?? 0) === 0).map((s) => s.name);
  assert.deepEqual(silent, [], 'every scenario of the table compared at least one probe');
  assert.ok(tally.settled >= 5, `probes sent once a change had settled were compared (${tally.settled})`);
  assert.ok(tally.terminatingLeftOut > 0, 'a terminating endpoint left out while a ready one serves was compared');
  assert.ok(tally.terminatingFallback > 0, 'the serving-terminating fallback (only terminating endpoints) was compared');
});
