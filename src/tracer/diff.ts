/**
 * `diff`: what kproxy would program (explained from its rendered rules) against what a node's
 * dump holds (explained the same way), by service port and endpoint.
 */
import type { ExplainedService, Explanation } from './explain.js';

export type DiffStatus = 'same' | 'missing' | 'extra' | 'different';

export interface FieldDifference {
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
}

export interface EndpointDifference {
  readonly address: string;
  /** Probability kproxy would program (exact fraction), null when the endpoint is not expected. */
  readonly expected: string | null;
  /** Probability in the dump, null when the dump lacks the endpoint. */
  readonly actual: string | null;
}

export interface ServiceDiff {
  readonly name: string;
  readonly port: string;
  readonly protocol: string;
  /** missing: kproxy would program it, the dump lacks it; extra: only the dump has it. */
  readonly status: DiffStatus;
  readonly fields: readonly FieldDifference[];
  readonly endpoints: readonly EndpointDifference[];
}

export interface RulesDiff {
  readonly services: readonly ServiceDiff[];
  readonly identical: boolean;
}

function key(s: ExplainedService): string {
  return `${s.name}|${s.port}|${s.protocol}`;
}

function show(value: ExplainedService[keyof ExplainedService]): string {
  if (value === null) return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const COMPARED: readonly (keyof ExplainedService)[] = [
  'clusterIP',
  'servicePort',
  'nodePorts',
  'externalIPs',
  'loadBalancerIPs',
  'sourceRanges',
  'healthCheckNodePort',
  'affinity',
  'internalTrafficPolicy',
  'externalTrafficPolicy',
  'withoutEndpoints',
];

/** Where outside traffic goes with externalTrafficPolicy: Local (this node's endpoints): `-` for no such policy. */
function showExternal(endpoints: ExplainedService['externalEndpoints']): string {
  if (endpoints === null) return '-';
  if (endpoints.length === 0) return 'none';
  return endpoints.map((ep) => `${ep.address} (p=${ep.probability.toString()})`).join(', ');
}

function compareService(expected: ExplainedService, actual: ExplainedService): ServiceDiff {
  const fields: FieldDifference[] = [];
  for (const f of COMPARED) {
    const e = show(expected[f]);
    const a = show(actual[f]);
    if (e !== a) fields.push({ field: f, expected: e, actual: a });
  }
  const e = showExternal(expected.externalEndpoints);
  const a = showExternal(actual.externalEndpoints);
  if (e !== a) fields.push({ field: 'externalEndpoints', expected: e, actual: a });
  const endpoints: EndpointDifference[] = [];
  const actualBy = new Map(actual.endpoints.map((ep) => [ep.address, ep.probability]));
  const expectedBy = new Map(expected.endpoints.map((ep) => [ep.address, ep.probability]));
  for (const address of [...new Set([...expectedBy.keys(), ...actualBy.keys()])].sort()) {
    const e = expectedBy.get(address) ?? null;
    const a = actualBy.get(address) ?? null;
    if (e !== null && a !== null && e.equals(a)) continue;
    endpoints.push({ address, expected: e?.toString() ?? null, actual: a?.toString() ?? null });
  }
  const status: DiffStatus = fields.length === 0 && endpoints.length === 0 ? 'same' : 'different';
  return { name: expected.name, port: expected.port, protocol: expected.protocol, status, fields, endpoints };
}

function alone(s: ExplainedService, status: 'missing' | 'extra'): ServiceDiff {
  const endpoints = s.endpoints.map((ep) =>
    status === 'missing' ? { address: ep.address, expected: ep.probability.toString(), actual: null } : { address: ep.address, expected: null, actual: ep.probability.toString() },
  );
  return { name: s.name, port: s.port, protocol: s.protocol, status, fields: [], endpoints };
}

export function diffExplanations(expected: Explanation, actual: Explanation): RulesDiff {
  const actualBy = new Map(actual.services.map((s) => [key(s), s]));
  const expectedKeys = new Set(expected.services.map(key));
  const out: ServiceDiff[] = [];
  for (const s of expected.services) {
    const a = actualBy.get(key(s));
    out.push(a === undefined ? alone(s, 'missing') : compareService(s, a));
  }
  for (const s of actual.services) if (!expectedKeys.has(key(s))) out.push(alone(s, 'extra'));
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port < b.port ? -1 : a.port > b.port ? 1 : a.protocol < b.protocol ? -1 : 1));
  return { services: out, identical: out.every((s) => s.status === 'same') };
}

export function formatDiff(d: RulesDiff): string {
  const out: string[] = [];
  for (const s of d.services) {
    const label = `${s.name}${s.port === '' ? '' : `:${s.port}`} (${s.protocol})`;
    switch (s.status) {
      case 'same':
        out.push(`  ${label}: same`);
        break;
      case 'missing':
        out.push(`- ${label}: missing from the dump (kproxy would program it)`);
        break;
      case 'extra':
        out.push(`+ ${label}: only in the dump (kproxy would not program it)`);
        break;
      case 'different':
        out.push(`~ ${label}: different`);
        break;
    }
    for (const f of s.fields) out.push(`    ${f.field}: expected ${f.expected}, dump has ${f.actual}`);
    if (s.status === 'different') {
      for (const ep of s.endpoints) {
        if (ep.actual === null) out.push(`    - endpoint ${ep.address} (p=${ep.expected ?? ''}) missing from the dump`);
        else if (ep.expected === null) out.push(`    + endpoint ${ep.address} (p=${ep.actual}) only in the dump`);
        else out.push(`    ~ endpoint ${ep.address}: probability expected ${ep.expected}, dump has ${ep.actual}`);
      }
    }
  }
  out.push(d.identical ? 'no differences' : `${d.services.filter((s) => s.status !== 'same').length} service port(s) differ`);
  return out.join('\n') + '\n';
}
