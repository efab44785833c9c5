/**
 * kube-proxy's options that change what is programmed, under kube-proxy's names
 * (flags and KubeProxyConfiguration fields). Built by src/cli (flags + --config file).
 */
export type ProxyMode = 'iptables' | 'ipvs' | 'nftables' | 'userspace';
export const PROXY_MODES: readonly ProxyMode[] = ['iptables', 'ipvs', 'nftables', 'userspace'];

export type DetectLocalMode = 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix';

/** Where the options came from, so that diagnostics about them can say so. */
export type OptionsOrigin = { readonly kind: 'flags' } | { readonly kind: 'file'; readonly path: string };

export interface ProxyConfig {
  readonly mode: ProxyMode;
  /** --hostname-override (lower-cased, trimmed); defaults to the machine's hostname. */
  readonly nodeName: string;
  /** --node-ip: the node's addresses when no Node object is given (any family). */
  readonly nodeIPs: readonly string[];
  /** --cluster-cidr, split on ",". */
  readonly clusterCIDRs: readonly string[];
  /** --detect-local-mode; "" behaves as ClusterCIDR. */
  readonly detectLocalMode: DetectLocalMode;
  readonly bridgeInterface: string;
  readonly interfaceNamePrefix: string;
  readonly masqueradeAll: boolean;
  /** --iptables-masquerade-bit, 0..31, default 14. */
  readonly masqueradeBit: number;
  /** --iptables-localhost-nodeports, default true. */
  readonly localhostNodePorts: boolean;
  /** --nodeport-addresses: CIDRs, or the single value "primary"; empty = all local addresses. */
  readonly nodePortAddresses: readonly string[];
  /** serviceProxyName: "" = handle objects without the service-proxy-name label. */
  readonly serviceProxyName: string;
  readonly syncPeriodSeconds: number;
  readonly minSyncPeriodSeconds: number;
  readonly healthzBindAddress: string;
  readonly metricsBindAddress: string;
  /** Feature gates that change rendering (PreferSameTrafficDistribution). */
  readonly featureGates: Readonly<Record<string, boolean>>;
  /** userspace mode: --proxy-port-range as given ("" or "0-0": the kernel picks each proxy port). */
  readonly proxyPortRange: string;
  /** userspace mode: --udp-timeout, the idle time after which a UDP session ends (kube-proxy: 250ms). */
  readonly udpIdleTimeoutMs: number;
  /** The command line (absent) or a --config file. */
  readonly origin?: OptionsOrigin;
}

export const DEFAULT_PROXY_CONFIG: ProxyConfig = {
  mode: 'iptables',
  nodeName: '',
  nodeIPs: [],
  clusterCIDRs: [],
  detectLocalMode: 'ClusterCIDR',
  bridgeInterface: '',
  interfaceNamePrefix: '',
  masqueradeAll: false,
  masqueradeBit: 14,
  localhostNodePorts: true,
  nodePortAddresses: [],
  serviceProxyName: '',
  syncPeriodSeconds: 30,
  minSyncPeriodSeconds: 1,
  healthzBindAddress: '0.0.0.0:10256',
  metricsBindAddress: '127.0.0.1:10249',
  featureGates: {},
  proxyPortRange: '',
  udpIdleTimeoutMs: 250,
};
