/**
 * Kubernetes API objects as kproxy understands them, after decoding (src/core/k8s/decode*.ts).
 * Only the fields kproxy uses are kept. IPs and CIDRs are kept as written (trimmed); the
 * service-port builder parses them the way kube-proxy does and reports what it drops.
 */
import type { SourceLocation } from './diagnostics.js';

export type IPFamily = 'IPv4' | 'IPv6';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export interface ObjectMeta {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** RFC 3339 text, or null when the object is not being deleted. */
  readonly deletionTimestamp: string | null;
  /** Where the object came from; used in diagnostics. */
  readonly source: SourceLocation;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface ServicePortSpec {
  /** `""` for an unnamed port. */
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** A number, or the name of a container port; defaults to `port` when unset. */
  readonly targetPort: number | string;
  /** 0 when none. */
  readonly nodePort: number;
  /** Index in spec.ports, for diagnostics. */
  readonly index: number;
}

export interface LoadBalancerIngress {
  readonly ip: string;
  readonly hostname: string;
  /** null when the field is absent (means VIP). */
  readonly ipMode: 'VIP' | 'Proxy' | null;
}

export interface Service {
  readonly kind: 'Service';
  readonly meta: ObjectMeta;
  /** An empty type (`type: ""`) is treated as ClusterIP, as kube-proxy does. */
  readonly type: ServiceType;
  /** spec.clusterIP as written ("" when absent, "None" for headless). */
  readonly clusterIP: string;
  /** spec.clusterIPs as written (may be empty; then clusterIP alone is used). */
  readonly clusterIPs: readonly string[];
  readonly ipFamilies: readonly IPFamily[];
  readonly ports: readonly ServicePortSpec[];
  /** null when the Service has no selector (endpoints are managed by hand). */
  readonly selector: Readonly<Record<string, string>> | null;
  readonly externalIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly loadBalancerIngress: readonly LoadBalancerIngress[];
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds, API default 10800. */
  readonly sessionAffinityTimeoutSeconds: number;
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  readonly internalTrafficPolicy: 'Cluster' | 'Local';
  /** 0 when unset. */
  readonly healthCheckNodePort: number;
  readonly publishNotReadyAddresses: boolean;
  /** spec.trafficDistribution, null when unset. */
  readonly trafficDistribution: string | null;
}

export interface EndpointConditions {
  /** null = unset, which kube-proxy reads as true for ready/serving and false for terminating. */
  readonly ready: boolean | null;
  readonly serving: boolean | null;
  readonly terminating: boolean | null;
}

export interface SliceEndpoint {
  readonly addresses: readonly string[];
  readonly conditions: EndpointConditions;
  readonly nodeName: string | null;
  readonly zone: string | null;
  /** hints.forZones[].name; null when there are no hints. */
  readonly zoneHints: readonly string[] | null;
  /** hints.forNodes[].name; null when there are no hints. */
  readonly nodeHints: readonly string[] | null;
}

export interface SlicePort {
  /** null when the name is absent (kube-proxy ignores such ports; the API always sets ""). */
  readonly name: string | null;
  /** null when absent. */
  readonly port: number | null;
  readonly protocol: Protocol;
}

export interface EndpointSlice {
  readonly kind: 'EndpointSlice';
  readonly meta: ObjectMeta;
  /** The `kubernetes.io/service-name` label; null when missing. */
  readonly serviceName: string | null;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly ports: readonly SlicePort[];
  readonly endpoints: readonly SliceEndpoint[];
  /** How this slice came to be: given in the input, mirrored from v1 Endpoints, or derived from Pods. */
  readonly origin: 'input' | 'endpoints' | 'pods';
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface Node {
  readonly kind: 'Node';
  readonly meta: ObjectMeta;
  readonly addresses: readonly NodeAddress[];
  readonly podCIDRs: readonly string[];
  readonly taintKeys: readonly string[];
}

export interface ContainerPort {
  readonly name: string;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

export interface Pod {
  readonly kind: 'Pod';
  readonly meta: ObjectMeta;
  readonly nodeName: string | null;
  readonly hostname: string | null;
  readonly podIPs: readonly string[];
  readonly phase: string;
  /** The Ready condition (status.conditions[type=Ready].status == "True"). */
  readonly ready: boolean;
  readonly containerPorts: readonly ContainerPort[];
}

/** v1 Endpoints, kept so the mirroring step can turn it into EndpointSlices. */
export interface EndpointAddress {
  readonly ip: string;
  readonly nodeName: string | null;
  readonly hostname: string | null;
}

export interface EndpointPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface EndpointSubset {
  readonly addresses: readonly EndpointAddress[];
  readonly notReadyAddresses: readonly EndpointAddress[];
  readonly ports: readonly EndpointPort[];
}

export interface Endpoints {
  readonly kind: 'Endpoints';
  readonly meta: ObjectMeta;
  readonly subsets: readonly EndpointSubset[];
}

/** Workload objects the sandbox expands into Pods. */
export interface Deployment {
  readonly kind: 'Deployment';
  readonly meta: ObjectMeta;
  readonly replicas: number;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly containerPorts: readonly ContainerPort[];
}

export type ApiObject = Service | EndpointSlice | Endpoints | Node | Pod | Deployment;

/** Everything decoded from the inputs, grouped by kind. */
export interface ClusterObjects {
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly endpoints: readonly Endpoints[];
  readonly nodes: readonly Node[];
  readonly pods: readonly Pod[];
  readonly deployments: readonly Deployment[];
}

export const EMPTY_CLUSTER: ClusterObjects = {
  services: [],
  endpointSlices: [],
  endpoints: [],
  nodes: [],
  pods: [],
  deployments: [],
};
