/**
 * `explain`: every service port found in a dump — named from kube-proxy's rule comments (current
 * and 2018-era styles) — with its addresses, node ports, source ranges, affinity, traffic
 * policies and endpoints with exact probabilities (evaluated by the engine from the service's
 * chain), plus anomalies: services without endpoints, unreachable and stale chains, endpoint
 * chains no service uses, jumps to missing chains, rules shadowed by earlier ones.
 */
import { findAnomalies } from './explain-anomalies.js';
import { collectFilter, collectNat, Collector } from './explain-collect.js';
import { finishService } from './explain-service.js';
import type { AddressNameIndex, Anomaly, ChainNameIndex, Explanation } from './explain-types.js';
import type { IrProgram } from './ir.js';

export { splitServicePortName } from './explain-collect.js';
export { probeSource } from './explain-service.js';
export { NODE_ADDRESS, serviceAddressKey } from './explain-types.js';
export type { AddressNameIndex, Anomaly, AnomalyKind, ChainNameIndex, ExplainedEndpoint, ExplainedService, Explanation, ServiceEntry } from './explain-types.js';

export function explainProgram(program: IrProgram, names: ChainNameIndex = new Map(), addresses: AddressNameIndex = new Map()): Explanation {
  const c = new Collector(names, addresses);
  collectNat(program, c);
  collectFilter(program, c);
  const anomalies: Anomaly[] = [];
  const services = [...c.drafts.values()]
    .sort((a, b) => Number(b.named) - Number(a.named) || (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port < b.port ? -1 : a.port > b.port ? 1 : a.protocol < b.protocol ? -1 : 1))
    .map((d) => finishService(program, d, anomalies));
  for (const s of services) {
    const label = `${s.name}${s.port === '' ? '' : `:${s.port}`} (${s.protocol})`;
    if (s.withoutEndpoints === 'REJECT') {
      anomalies.push({ kind: 'no-endpoints', table: 'filter', chain: 'KUBE-SERVICES', line: null, message: `${label} has no endpoints: its traffic is rejected` });
    } else if (s.withoutEndpoints === 'DROP') {
      anomalies.push({
        kind: 'no-local-endpoints',
        table: 'filter',
        chain: 'KUBE-EXTERNAL-SERVICES',
        line: null,
        message: `${label} has no endpoints on this node: traffic its traffic policy keeps local is dropped`,
      });
    } else if (s.endpoints.length === 0 && s.chains.length > 0) {
      anomalies.push({ kind: 'no-endpoints', table: 'nat', chain: s.chains[0] ?? '', line: null, message: `${label}: its chains lead to no endpoint` });
    }
  }
  anomalies.push(...findAnomalies(program));
  const sorted = [...anomalies].sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : (a.line ?? 0) - (b.line ?? 0)));
  const notes = unnamedNote(services.filter((s) => !s.named).length, names.size > 0);
  if (c.uncommentedVerdicts.length > 0) {
    notes.push(
      `filter rules without comments refuse or drop traffic to ${c.uncommentedVerdicts.join(', ')}: ` +
        'kube-proxy writes such rules for services without (local) endpoints and for load-balancer source ranges; which service each is for, no chain tells',
    );
  }
  return { services, anomalies: sorted, notes };
}

function unnamedNote(unnamed: number, manifestsGiven: boolean): string[] {
  if (unnamed === 0) return [];
  const why = manifestsGiven ? 'and the -f manifests hold no service port with their chain hashes' : 'and no -f manifests were given';
  return [
    `${unnamed} service port(s) carry no kube-proxy comments ${why}: they are listed by their KUBE-SVC chain name, whose hash stands for ` +
      'namespace/name:port and protocol; give the manifests with -f PATH to name them',
  ];
}
