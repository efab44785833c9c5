/**
 * The desired state of one IP family on one node: everything a dataplane needs, with every
 * Kubernetes decision already taken (reference §2.3 and the derived values of §5.4).
 */
import type { IPFamily } from '../model/objects.js';
import type { EndpointInfo, ServicePortInfo } from '../model/service-port.js';

export type LocalTrafficDetector =
  | { readonly kind: 'cidr'; readonly cidr: string }
  | { readonly kind: 'bridge'; readonly iface: string }
  | { readonly kind: 'prefix'; readonly prefix: string };

export interface EndpointSelection {
  readonly clusterEndpoints: readonly EndpointInfo[];
  readonly localEndpoints: readonly EndpointInfo[];
  /** The endpoints any rule can reach (decides which per-endpoint chains exist). */
  readonly allReachableEndpoints: readonly EndpointInfo[];
  readonly hasAnyEndpoints: boolean;
}

/** What to do with traffic of one kind (internal: ClusterIP; external: the rest). */
export type TrafficVerdict = 'forward' | 'reject' | 'drop';

export interface ServicePortPolicy {
  readonly externallyAccessible: boolean;
  readonly usesClusterEndpoints: boolean;
  readonly usesLocalEndpoints: boolean;
  readonly hasEndpoints: boolean;
  /** The cluster-policy chain (SVC) exists. */
  readonly usesClusterPolicy: boolean;
  /** The local-policy chain (SVL) exists. */
  readonly usesLocalPolicy: boolean;
  /** Which policy chain ClusterIP traffic goes to. */
  readonly internalPolicy: 'cluster' | 'local';
  readonly hasInternalEndpoints: boolean;
  /** Which policy chain external traffic goes to. */
  readonly externalPolicy: 'cluster' | 'local';
  readonly hasExternalEndpoints: boolean;
  /** The external-destinations chain (EXT) exists. */
  readonly usesExternalChain: boolean;
  /** The source-range firewall chain (FW) exists. */
  readonly usesFirewall: boolean;
  readonly internalVerdict: TrafficVerdict;
  readonly externalVerdict: TrafficVerdict;
  /** Whether a load-balancer source range contains one of the node's IPs (FW accepts the LB IPs as sources then). */
  readonly sourceRangesIncludeNode: boolean;
}

export interface ServicePortState {
  readonly info: ServicePortInfo;
  /** Every endpoint of this service port (ready or not), deduplicated and sorted by `endpoint` string. */
  readonly endpoints: readonly EndpointInfo[];
  readonly selection: EndpointSelection;
  readonly policy: ServicePortPolicy;
}

export type NodePortAddresses =
  | { readonly kind: 'all' }
  | { readonly kind: 'ips'; readonly ips: readonly string[] };

export interface DesiredState {
  readonly family: IPFamily;
  readonly nodeName: string;
  /** The node's IPs of this family, canonical (from the Node object or --node-ip). */
  readonly nodeIPs: readonly string[];
  readonly localDetector: LocalTrafficDetector | null;
  readonly masqueradeAll: boolean;
  /** The masquerade mark value (1 << masqueradeBit). */
  readonly masqueradeMark: number;
  /** Localhost NodePorts (iptables mode, IPv4 only). */
  readonly localhostNodePorts: boolean;
  readonly nodePortAddresses: NodePortAddresses;
  /** Sorted by namespace, name, port name, protocol. */
  readonly servicePorts: readonly ServicePortState[];
  /** Count of all endpoints of all service ports (ready or not). */
  readonly totalEndpoints: number;
  /** More than 1000 endpoints: kube-proxy drops some comments (reference §5.8). */
  readonly largeClusterMode: boolean;
}
