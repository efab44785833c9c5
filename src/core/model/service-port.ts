/**
 * The per-family internal model kube-proxy works with: one ServicePortInfo per
 * (Service, port name, protocol) and its endpoints (reference §2).
 */
import type { IPFamily, Protocol } from './objects.js';

export interface ServicePortKey {
  readonly namespace: string;
  readonly name: string;
  /** "" for an unnamed port. */
  readonly portName: string;
  readonly protocol: Protocol;
}

export type SessionAffinity =
  | { readonly type: 'None' }
  | { readonly type: 'ClientIP'; readonly timeoutSeconds: number };

export interface ServicePortInfo {
  readonly key: ServicePortKey;
  readonly family: IPFamily;
  /** Canonical cluster IP of this family. */
  readonly clusterIP: string;
  readonly port: number;
  /** 0 when none. */
  readonly nodePort: number;
  /** As written in the Service (number, or a container port name). */
  readonly targetPort: number | string;
  /** Canonical IPs of this family (invalid ones dropped). */
  readonly externalIPs: readonly string[];
  /** status.loadBalancer.ingress[].ip of this family whose ipMode is unset or VIP. */
  readonly loadBalancerVIPs: readonly string[];
  /** Canonical CIDRs of this family (trimmed, masked). */
  readonly loadBalancerSourceRanges: readonly string[];
  readonly sessionAffinity: SessionAffinity;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  /** Only for LoadBalancer + externalTrafficPolicy Local; 0 otherwise. */
  readonly healthCheckNodePort: number;
}

export interface EndpointInfo {
  /** Canonical IP. */
  readonly ip: string;
  readonly port: number;
  /** `ip:port` as Go's JoinHostPort writes it; the sort and dedup key. */
  readonly endpoint: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly isLocal: boolean;
  readonly nodeName: string | null;
  readonly zoneHints: readonly string[] | null;
  readonly nodeHints: readonly string[] | null;
}
