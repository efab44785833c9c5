/**
 * What `explain` finds in a dump: service ports with their addresses, policies and endpoints,
 * anomalies, and notes for the reader.
 */
import type { TableName } from '../dataplanes/iptables/model.js';
import type { Rational } from './rational.js';

export interface ExplainedEndpoint {
  readonly address: string;
  readonly probability: Rational;
}

export interface ExplainedService {
  /**
   * `namespace/name`; for a service whose rules carry no comment (and no -f manifests name it),
   * its `KUBE-SVC-<hash>` chain name (the hash stands for namespace/name:port and protocol).
   */
  readonly name: string;
  /** False when the name is a chain name: neither comments nor manifests said which service it is. */
  readonly named: boolean;
  /** The port name ('' when unnamed). */
  readonly port: string;
  readonly protocol: string;
  readonly clusterIP: string | null;
  readonly servicePort: number | null;
  readonly nodePorts: readonly number[];
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly sourceRanges: readonly string[];
  readonly healthCheckNodePort: number | null;
  readonly affinity: { readonly kind: 'ClientIP'; readonly timeoutSeconds: number | null } | null;
  readonly internalTrafficPolicy: 'Cluster' | 'Local';
  readonly externalTrafficPolicy: 'Cluster' | 'Local' | null;
  /** What traffic meets when there are no (local) endpoints: the filter rule's verdict. */
  readonly withoutEndpoints: 'REJECT' | 'DROP' | null;
  readonly endpoints: readonly ExplainedEndpoint[];
  /**
   * With externalTrafficPolicy: Local, where traffic from outside (node ports, external and
   * load-balancer IPs) goes: this node's endpoints only (empty: none here). Null otherwise —
   * outside traffic then goes to `endpoints`.
   */
  readonly externalEndpoints: readonly ExplainedEndpoint[] | null;
  /** The nat chains its traffic walks. */
  readonly chains: readonly string[];
  /** Where its traffic enters kube-proxy's per-service chains (from KUBE-SERVICES / KUBE-NODEPORTS). */
  readonly entries: readonly ServiceEntry[];
}

export interface ServiceEntry {
  readonly kind: 'cluster' | 'external' | 'lb' | 'nodeport';
  /** The nat chain it jumps to; null when only a filter rule (REJECT or DROP: no endpoints) is there for it. */
  readonly chain: string | null;
  /** The destination address the entry rule matches (null for node ports). */
  readonly dst: string | null;
  readonly port: number | null;
}

export type AnomalyKind =
  | 'no-endpoints'
  | 'no-local-endpoints'
  | 'unreachable-chain'
  | 'orphan-endpoint-chain'
  | 'stale-chain'
  | 'missing-chain'
  | 'shadowed-rule'
  | 'untraceable';

export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly table: TableName;
  readonly chain: string;
  readonly line: number | null;
  readonly message: string;
}

export interface Explanation {
  readonly services: readonly ExplainedService[];
  readonly anomalies: readonly Anomaly[];
  /** What the reader should know about the explanation (e.g. services it could not name). */
  readonly notes: readonly string[];
}

/** Chain name → the service port it belongs to (from manifests), for rules without comments. */
export type ChainNameIndex = ReadonlyMap<string, { readonly name: string; readonly port: string }>;

/**
 * Service addresses of -f manifests → the service port they belong to, to name the filter rules
 * (REJECT, DROP) of services without endpoints, which carry no chain name. Keys: serviceAddressKey.
 */
export type AddressNameIndex = ReadonlyMap<string, { readonly name: string; readonly port: string; readonly loadBalancer: boolean }>;

/** Stands for any local address of the node (`-m addrtype --dst-type LOCAL`): node ports. */
export const NODE_ADDRESS = 'node';

/** `tcp 10.96.0.10:80`; a node port is `tcp node:30080`. */
export function serviceAddressKey(protocol: string, dst: string | null, port: number | null): string {
  return `${protocol.toLowerCase()} ${dst ?? '-'}:${port ?? '-'}`;
}
