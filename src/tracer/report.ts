/**
 * How trace and explain results are shown: the JSON shapes of the CLI contract (probabilities as
 * numbers, with the exact fractions beside them) and readable text.
 */
import type { Explanation, ExplainedService } from './explain.js';
import type { PathStep, TracePacket } from './packet.js';
import type { TraceResult } from './trace.js';

export interface PathStepJson {
  readonly hook: string;
  readonly table: string;
  readonly chain: string;
  readonly line: number | null;
  readonly position: number | null;
  readonly rule: string;
  readonly matched: boolean;
  readonly probability: number;
  readonly depth: number;
  /** Present (true) only for a jump the tracer assumed because the input lacked it. */
  readonly assumed?: true;
  readonly scenario?: string;
}

export interface TraceJson {
  readonly verdict: string;
  readonly distribution: Record<string, number>;
  readonly masquerade: boolean;
  readonly path: readonly PathStepJson[];
  readonly returning: TraceJson | null;
  /** Exact probabilities (`numerator/denominator`) of `distribution`. */
  readonly exact: Record<string, string>;
  readonly masqueradeProbability: number;
  /** With affinity: the probability that a returning client reaches its first endpoint again; null without. */
  readonly stickiness: number | null;
  readonly outcomes: readonly {
    readonly verdict: string;
    readonly endpoint: string | null;
    readonly probability: number;
    readonly exact: string;
    readonly masquerade: boolean;
    readonly decidedAt: { readonly table: string; readonly chain: string; readonly line: number | null } | null;
    readonly rejectWith: string | null;
    /** In `returning`: where the client's first packet went (endpoint or verdict); null for first packets. */
    readonly after: string | null;
  }[];
  readonly notes: readonly string[];
}

function stepJson(s: PathStep): PathStepJson {
  return {
    hook: s.hook,
    table: s.table,
    chain: s.chain,
    line: s.line,
    position: s.position,
    rule: s.rule,
    matched: s.matched,
    probability: s.probability.toNumber(),
    depth: s.depth,
    ...(s.assumed ? { assumed: true as const } : {}),
    ...(s.scenario === undefined ? {} : { scenario: s.scenario }),
  };
}

export function traceJson(r: TraceResult): TraceJson {
  return {
    verdict: r.verdict,
    distribution: Object.fromEntries(r.distribution.map((d) => [d.endpoint, d.probability.toNumber()])),
    masquerade: r.masquerade,
    path: r.path.map(stepJson),
    returning: r.returning === null ? null : traceJson(r.returning),
    exact: Object.fromEntries(r.distribution.map((d) => [d.endpoint, d.probability.toString()])),
    masqueradeProbability: r.masqueradeProbability.toNumber(),
    stickiness: r.stickiness === null ? null : r.stickiness.toNumber(),
    outcomes: r.outcomes.map((o) => ({
      verdict: o.verdict,
      endpoint: o.endpoint,
      probability: o.probability.toNumber(),
      exact: o.probability.toString(),
      masquerade: o.masquerade,
      decidedAt: o.decidedAt,
      rejectWith: o.rejectWith,
      after: o.after,
    })),
    notes: r.notes,
  };
}

/** A probability for people: 11 decimals as iptables-save prints them, trailing zeros kept short. */
export function formatProbability(p: number): string {
  if (p === 1) return '1';
  if (p === 0) return '0';
  return p.toFixed(11);
}

function stepLine(s: PathStep): string {
  const mark = s.matched ? '✓' : '·';
  const where = s.assumed ? '(assumed) ' : s.line === null ? '' : `line ${s.line}: `;
  const odds = s.probability.toNumber() < 1 ? ` [p=${formatProbability(s.probability.toNumber())}]` : '';
  return `${'  '.repeat(s.depth + 1)}${mark} ${s.table}/${s.chain} ${where}${s.rule}${odds}`;
}

/** The path, with runs of rules a packet did not match in one chain folded into one line. */
function formatPath(path: readonly PathStep[]): string[] {
  const out: string[] = [];
  let hookShown = '';
  let scenarioShown: string | undefined;
  for (let i = 0; i < path.length; i++) {
    const s = path[i];
    if (s === undefined) continue;
    if (s.scenario !== scenarioShown && s.scenario !== undefined) {
      out.push(`  ${s.scenario}:`);
      scenarioShown = s.scenario;
      hookShown = '';
    }
    if (s.hook !== hookShown) {
      out.push(`  ${s.hook}`);
      hookShown = s.hook;
    }
    let j = i;
    while (j + 1 < path.length && !s.matched) {
      const next = path[j + 1];
      if (next === undefined || next.matched || next.chain !== s.chain || next.depth !== s.depth || next.scenario !== s.scenario) break;
      j++;
    }
    if (j - i >= 2) {
      const last = path[j];
      const lines = s.line !== null && last?.line != null ? ` (lines ${s.line}–${last.line})` : '';
      out.push(`${'  '.repeat(s.depth + 1)}· ${s.table}/${s.chain}: ${j - i + 1} rules not matched${lines}`);
      i = j;
      continue;
    }
    out.push(stepLine(s));
  }
  return out;
}

function packetLine(p: TracePacket): string {
  const host = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  return `${p.protocol} ${host(p.src, p.sport)} → ${host(p.dst, p.dport)}, from ${p.from}`;
}

function resultLines(r: TraceResult, indent: string): string[] {
  const out: string[] = [`${indent}verdict: ${r.verdict}`];
  for (const o of r.outcomes) {
    const what = o.endpoint === null ? o.verdict : `${o.verdict} → ${o.endpoint}`;
    const where = o.decidedAt === null ? '' : ` at ${o.decidedAt.table}/${o.decidedAt.chain}${o.decidedAt.line === null ? '' : ` line ${o.decidedAt.line}`}`;
    const masq = o.masquerade ? ', masqueraded' : '';
    const after = o.after === null ? '' : `after ${o.after}: `;
    out.push(`${indent}  ${formatProbability(o.probability.toNumber()).padEnd(13)} ${after}${what}${where}${masq}  (exactly ${o.probability.toString()})`);
  }
  const m = r.masqueradeProbability.toNumber();
  out.push(`${indent}masquerade: ${m === 0 ? 'no' : m === 1 ? 'yes' : `with probability ${formatProbability(m)}`}`);
  return out;
}

export function formatTrace(packet: TracePacket, r: TraceResult): string {
  const out: string[] = [`packet: ${packetLine(packet)}`];
  for (const n of r.notes) out.push(`note: ${n}`);
  out.push('', 'path (✓ matched, · not matched; depth-first over both outcomes of random rules):', ...formatPath(r.path), '');
  out.push(...resultLines(r, ''));
  if (r.returning !== null) {
    out.push('', 'a returning client (session affinity: the first packet\'s -m recent entry in place):');
    out.push(...formatPath(r.returning.path), ...resultLines(r.returning, '  '));
    const sticky = r.stickiness?.toNumber() ?? 0;
    out.push(
      sticky === 1
        ? '  sticky: a returning client always reaches the endpoint of its first packet'
        : `  sticky: a returning client reaches the endpoint of its first packet with probability ${formatProbability(sticky)}`,
    );
  }
  return out.join('\n') + '\n';
}

/** A service as `explain --json` prints it: the explained service, probabilities as numbers and exact fractions. */
type JsonEndpoint = { readonly address: string; readonly probability: number; readonly exact: string };

type ExplainJsonService = Omit<ExplainedService, 'endpoints' | 'externalEndpoints'> & {
  readonly endpoints: readonly JsonEndpoint[];
  readonly externalEndpoints: readonly JsonEndpoint[] | null;
};

function jsonEndpoint(ep: ExplainedService['endpoints'][number]): JsonEndpoint {
  return { address: ep.address, probability: ep.probability.toNumber(), exact: ep.probability.toString() };
}

export interface ExplainJson {
  readonly services: readonly ExplainJsonService[];
  readonly anomalies: Explanation['anomalies'];
  /** What was assumed about the input (e.g. kube-proxy's jumps). */
  readonly notes: readonly string[];
}

/** `notes`: what was assumed about the input; the explanation's own notes follow. */
export function explainJson(e: Explanation, notes: readonly string[] = []): ExplainJson {
  return {
    services: e.services.map((s) => ({
      ...s,
      endpoints: s.endpoints.map(jsonEndpoint),
      externalEndpoints: s.externalEndpoints?.map(jsonEndpoint) ?? null,
    })),
    anomalies: e.anomalies,
    notes: [...notes, ...e.notes],
  };
}

function serviceLabel(s: ExplainedService): string {
  if (!s.named) return `${s.name} (unnamed)`;
  return `${s.name}${s.port === '' ? '' : `:${s.port}`}`;
}

function hostPort(ip: string | null, port: number | null): string {
  return ip === null ? '-' : `${ip.includes(':') ? `[${ip}]` : ip}:${port ?? '?'}`;
}

/** One line per service port: the overview `explain` prints before the details. */
function explainTable(services: readonly ExplainedService[]): string[] {
  const header = ['SERVICE', 'PROTO', 'CLUSTER-IP', 'NODE-PORTS', 'EXTERNAL/LB-IPS', 'ENDPOINTS', 'AFFINITY', 'POLICY int/ext'];
  const rows = services.map((s) => [
    serviceLabel(s),
    s.protocol,
    hostPort(s.clusterIP, s.servicePort),
    s.nodePorts.length === 0 ? '-' : s.nodePorts.join(','),
    [...s.externalIPs, ...s.loadBalancerIPs].join(',') || '-',
    s.endpoints.length === 0 ? (s.withoutEndpoints ?? 'none') : String(s.endpoints.length),
    s.affinity === null ? '-' : `ClientIP${s.affinity.timeoutSeconds === null ? '' : ` ${s.affinity.timeoutSeconds}s`}`,
    `${s.internalTrafficPolicy}/${s.externalTrafficPolicy ?? '-'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)];
}

export function formatExplain(e: Explanation, notes: readonly string[]): string {
  const out: string[] = [];
  for (const n of [...notes, ...e.notes]) out.push(`note: ${n}`);
  if (e.services.length > 0) out.push(...explainTable(e.services), '');
  for (const s of e.services) {
    out.push(s.named ? `${serviceLabel(s)} (${s.protocol})` : `${s.name} (${s.protocol}; unnamed: no comment or -f manifest says which service)`);
    if (s.clusterIP !== null) out.push(`  cluster IP      ${hostPort(s.clusterIP, s.servicePort)}${s.internalTrafficPolicy === 'Local' ? '  (internalTrafficPolicy: Local)' : ''}`);
    if (s.nodePorts.length > 0) out.push(`  node ports      ${s.nodePorts.join(', ')}`);
    if (s.externalIPs.length > 0) out.push(`  external IPs    ${s.externalIPs.join(', ')}`);
    if (s.loadBalancerIPs.length > 0) out.push(`  load balancer   ${s.loadBalancerIPs.join(', ')}`);
    if (s.sourceRanges.length > 0) out.push(`  source ranges   ${s.sourceRanges.join(', ')}`);
    if (s.externalTrafficPolicy !== null) out.push(`  external policy ${s.externalTrafficPolicy}`);
    if (s.healthCheckNodePort !== null) out.push(`  health check    ${s.healthCheckNodePort}`);
    if (s.affinity !== null) out.push(`  affinity        ClientIP${s.affinity.timeoutSeconds === null ? '' : `, ${s.affinity.timeoutSeconds}s`}`);
    if (s.endpoints.length === 0) out.push(`  endpoints       none${s.withoutEndpoints === null ? '' : ` (traffic: ${s.withoutEndpoints})`}`);
    for (const ep of s.endpoints) out.push(`  endpoint        ${ep.address.padEnd(24)} ${formatProbability(ep.probability.toNumber())}  (exactly ${ep.probability.toString()})`);
    if (s.externalEndpoints?.length === 0) out.push('  from outside    no endpoint on this node (externalTrafficPolicy: Local)');
    for (const ep of s.externalEndpoints ?? []) {
      out.push(`  from outside    ${ep.address.padEnd(24)} ${formatProbability(ep.probability.toNumber())}  (exactly ${ep.probability.toString()}; local endpoints only)`);
    }
    if (s.chains.length > 0) out.push(`  chains          ${s.chains.join(' ')}`);
  }
  if (e.services.length === 0) out.push('no kube-proxy services found in these rules');
  out.push('', e.anomalies.length === 0 ? 'anomalies: none' : 'anomalies:');
  for (const a of e.anomalies) out.push(`  ${a.kind}: ${a.table}/${a.chain}${a.line === null ? '' : ` line ${a.line}`}: ${a.message}`);
  return out.join('\n') + '\n';
}
