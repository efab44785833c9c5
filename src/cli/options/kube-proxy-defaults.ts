/**
 * kube-proxy's defaulting of a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1), which
 * runs on the decoded file before anything reads or validates it
 * (pkg/proxy/apis/config/v1alpha1/defaults.go, SetDefaults_KubeProxyConfiguration).
 *
 * Go decodes an absent field and `null` alike: a plain field keeps its zero value ("", 0, 0s,
 * false) and a pointer field stays nil. Defaulting then replaces the zero value of some plain
 * fields (`iptables.syncPeriod: 0s` → 30s) and nil pointers (`oomScoreAdj: null` → -999); an
 * explicit zero in a pointer field is kept (`conntrack.maxPerCore: 0` leaves the limit as is).
 * That is how kubeadm's config.conf, written with zeros and nulls, means kube-proxy's defaults.
 */
import { parseIP } from '../../core/net/ip.js';
import type { ConfigValue } from './kube-proxy-config.js';
import { appendPortIfNeeded } from './validate.js';

const HEALTHZ_PORT = 10256;
const METRICS_PORT = 10249;

/** The v1alpha1 object after kube-proxy's defaulting; every duration in seconds. */
export interface DefaultedKubeProxyConfiguration {
  readonly bindAddress: string;
  readonly bindAddressHardFail: boolean;
  readonly clientConnection: {
    readonly acceptContentTypes: string;
    readonly burst: number;
    readonly contentType: string;
    readonly kubeconfig: string;
    readonly qps: number;
  };
  readonly clusterCIDR: string;
  readonly configSyncPeriod: number;
  readonly conntrack: {
    readonly maxPerCore: number;
    readonly min: number;
    readonly tcpBeLiberal: boolean;
    readonly tcpCloseWaitTimeout: number;
    readonly tcpEstablishedTimeout: number;
    readonly udpStreamTimeout: number;
    readonly udpTimeout: number;
  };
  readonly detectLocal: { readonly bridgeInterface: string; readonly interfaceNamePrefix: string };
  readonly detectLocalMode: string;
  readonly enableProfiling: boolean;
  readonly featureGates: Readonly<Record<string, boolean>>;
  readonly healthzBindAddress: string;
  readonly hostnameOverride: string;
  readonly iptables: ModeBlock & { readonly localhostNodePorts: boolean };
  readonly ipvs: {
    readonly excludeCIDRs: readonly string[];
    readonly minSyncPeriod: number;
    readonly scheduler: string;
    readonly strictARP: boolean;
    readonly syncPeriod: number;
    readonly tcpFinTimeout: number;
    readonly tcpTimeout: number;
    readonly udpTimeout: number;
  };
  readonly logging: { readonly format: string };
  readonly metricsBindAddress: string;
  readonly mode: string;
  readonly nftables: ModeBlock;
  readonly nodePortAddresses: readonly string[];
  readonly oomScoreAdj: number;
  readonly portRange: string;
  readonly serviceProxyName: string;
  readonly showHiddenMetricsForVersion: string;
  /** Userspace mode (kube-proxy ≤ 1.25). */
  readonly udpIdleTimeout: number;
}

interface ModeBlock {
  readonly masqueradeAll: boolean;
  readonly masqueradeBit: number;
  readonly minSyncPeriod: number;
  readonly syncPeriod: number;
}

/** Reads the decoded fields (by dotted path; absent = not set or null) as Go would see them. */
class Fields {
  constructor(private readonly values: ReadonlyMap<string, ConfigValue>) {}

  /** A plain string field: "" when not set. */
  string(path: string): string {
    const v = this.values.get(path);
    return typeof v === 'string' ? v : '';
  }

  /** A plain number field: 0 when not set (durations are already in seconds). */
  number(path: string): number {
    const v = this.values.get(path);
    return typeof v === 'number' ? v : 0;
  }

  bool(path: string): boolean {
    return this.values.get(path) === true;
  }

  /** A pointer field: undefined when not set (nil), else its value, zero included. */
  pointerNumber(path: string): number | undefined {
    const v = this.values.get(path);
    return typeof v === 'number' ? v : undefined;
  }

  pointerBool(path: string): boolean | undefined {
    const v = this.values.get(path);
    return typeof v === 'boolean' ? v : undefined;
  }

  list(path: string): readonly string[] {
    const v = this.values.get(path);
    return Array.isArray(v) ? (v as readonly string[]) : [];
  }

  boolMap(path: string): Readonly<Record<string, boolean>> {
    const v = this.values.get(path);
    return typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, boolean>) : {};
  }
}

/** `value`, or `fallback` when value is Go's zero value for its type ("" or 0). */
function orDefault(value: string, fallback: string): string;
function orDefault(value: number, fallback: number): number;
function orDefault(value: string | number, fallback: string | number): string | number {
  return value === '' || value === 0 ? fallback : value;
}

/** The bind address's family decides the default health and metrics hosts. */
function defaultServerHosts(bindAddress: string): { healthz: string; metrics: string } {
  return parseIP(bindAddress)?.family === 'IPv4' ? { healthz: '0.0.0.0', metrics: '127.0.0.1' } : { healthz: '[::]', metrics: '[::1]' };
}

function serverAddress(value: string, defaultHost: string, port: number): string {
  return value === '' ? `${defaultHost}:${port}` : appendPortIfNeeded(value, port);
}

/** Applies kube-proxy's v1alpha1 defaulting to the decoded fields. */
export function defaultKubeProxyConfiguration(values: ReadonlyMap<string, ConfigValue>): DefaultedKubeProxyConfiguration {
  const f = new Fields(values);
  const bindAddress = orDefault(f.string('bindAddress'), '0.0.0.0');
  const hosts = defaultServerHosts(bindAddress);
  return {
    bindAddress,
    bindAddressHardFail: f.bool('bindAddressHardFail'),
    clientConnection: {
      acceptContentTypes: f.string('clientConnection.acceptContentTypes'),
      burst: orDefault(f.number('clientConnection.burst'), 10),
      contentType: orDefault(f.string('clientConnection.contentType'), 'application/vnd.kubernetes.protobuf'),
      kubeconfig: f.string('clientConnection.kubeconfig'),
      qps: orDefault(f.number('clientConnection.qps'), 5),
    },
    clusterCIDR: f.string('clusterCIDR'),
    configSyncPeriod: orDefault(f.number('configSyncPeriod'), 15 * 60),
    conntrack: {
      maxPerCore: f.pointerNumber('conntrack.maxPerCore') ?? 32 * 1024,
      min: f.pointerNumber('conntrack.min') ?? 128 * 1024,
      tcpBeLiberal: f.bool('conntrack.tcpBeLiberal'),
      tcpCloseWaitTimeout: f.pointerNumber('conntrack.tcpCloseWaitTimeout') ?? 3600,
      tcpEstablishedTimeout: f.pointerNumber('conntrack.tcpEstablishedTimeout') ?? 24 * 3600,
      udpStreamTimeout: f.number('conntrack.udpStreamTimeout'),
      udpTimeout: f.number('conntrack.udpTimeout'),
    },
    detectLocal: {
      bridgeInterface: f.string('detectLocal.bridgeInterface'),
      interfaceNamePrefix: f.string('detectLocal.interfaceNamePrefix'),
    },
    detectLocalMode: f.string('detectLocalMode'),
    enableProfiling: f.bool('enableProfiling'),
    featureGates: f.boolMap('featureGates'),
    healthzBindAddress: serverAddress(f.string('healthzBindAddress'), hosts.healthz, HEALTHZ_PORT),
    hostnameOverride: f.string('hostnameOverride'),
    iptables: {
      localhostNodePorts: f.pointerBool('iptables.localhostNodePorts') ?? true,
      masqueradeAll: f.bool('iptables.masqueradeAll'),
      masqueradeBit: f.pointerNumber('iptables.masqueradeBit') ?? 14,
      minSyncPeriod: orDefault(f.number('iptables.minSyncPeriod'), 1),
      syncPeriod: orDefault(f.number('iptables.syncPeriod'), 30),
    },
    ipvs: {
      excludeCIDRs: f.list('ipvs.excludeCIDRs'),
      minSyncPeriod: f.number('ipvs.minSyncPeriod'),
      scheduler: f.string('ipvs.scheduler'),
      strictARP: f.bool('ipvs.strictARP'),
      syncPeriod: orDefault(f.number('ipvs.syncPeriod'), 30),
      tcpFinTimeout: f.number('ipvs.tcpFinTimeout'),
      tcpTimeout: f.number('ipvs.tcpTimeout'),
      udpTimeout: f.number('ipvs.udpTimeout'),
    },
    logging: { format: orDefault(f.string('logging.format'), 'text') },
    metricsBindAddress: serverAddress(f.string('metricsBindAddress'), hosts.metrics, METRICS_PORT),
    mode: f.string('mode'),
    nftables: {
      masqueradeAll: f.bool('nftables.masqueradeAll'),
      masqueradeBit: f.pointerNumber('nftables.masqueradeBit') ?? 14,
      minSyncPeriod: orDefault(f.number('nftables.minSyncPeriod'), 1),
      syncPeriod: orDefault(f.number('nftables.syncPeriod'), 30),
    },
    nodePortAddresses: f.list('nodePortAddresses'),
    oomScoreAdj: f.pointerNumber('oomScoreAdj') ?? -999,
    portRange: f.string('portRange'),
    serviceProxyName: f.string('serviceProxyName'),
    showHiddenMetricsForVersion: f.string('showHiddenMetricsForVersion'),
    udpIdleTimeout: orDefault(f.number('udpIdleTimeout'), 0.25),
  };
}
