/**
 * The effective configuration, written back out: as a KubeProxyConfiguration v1alpha1 document
 * (`--write-config-to`, fields in kube-proxy's order and formats) and as kube-proxy's `/configz`
 * body (the internal configuration under Go field names).
 */
import { stringify } from 'yaml';
import type { ProxyConfig } from '../../core/model/config.js';
import { KUBE_PROXY_CONFIG_API_VERSION } from './kube-proxy-config.js';
import type { OperationalSettings } from './operational.js';

/** Go's time.Duration.String() for whole and fractional seconds: 0s, 250ms, 30s, 15m0s, 24h0m0s. */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Number((seconds % 60).toFixed(9));
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

function modeBlock(p: ProxyConfig, mode: ProxyConfig['mode'][]): { minSyncPeriod: string; syncPeriod: string } {
  const active = mode.includes(p.mode);
  return { minSyncPeriod: goDuration(active ? p.minSyncPeriodSeconds : 0), syncPeriod: goDuration(active ? p.syncPeriodSeconds : 0) };
}

/** The v1alpha1 object, as kube-proxy's round trip writes it (only the active mode's block carries sync periods). */
function v1alpha1Config(p: ProxyConfig, o: OperationalSettings): Record<string, unknown> {
  const ipt = modeBlock(p, ['iptables', 'userspace']);
  const ipvs = modeBlock(p, ['ipvs']);
  const nft = modeBlock(p, ['nftables']);
  return {
    apiVersion: KUBE_PROXY_CONFIG_API_VERSION,
    bindAddress: o.bindAddress,
    bindAddressHardFail: o.bindAddressHardFail,
    clientConnection: {
      acceptContentTypes: o.acceptContentTypes,
      burst: o.burst,
      contentType: o.contentType,
      kubeconfig: o.kubeconfig,
      qps: o.qps,
    },
    clusterCIDR: p.clusterCIDRs.join(','),
    configSyncPeriod: goDuration(o.configSyncPeriodSeconds),
    conntrack: {
      maxPerCore: o.conntrack.maxPerCore,
      min: o.conntrack.min,
      tcpBeLiberal: false,
      tcpCloseWaitTimeout: goDuration(o.conntrack.tcpCloseWaitTimeoutSeconds),
      tcpEstablishedTimeout: goDuration(o.conntrack.tcpEstablishedTimeoutSeconds),
      udpStreamTimeout: goDuration(o.conntrack.udpStreamTimeoutSeconds),
      udpTimeout: goDuration(o.conntrack.udpTimeoutSeconds),
    },
    detectLocal: { bridgeInterface: p.bridgeInterface, interfaceNamePrefix: p.interfaceNamePrefix },
    detectLocalMode: p.detectLocalMode,
    enableProfiling: o.enableProfiling,
    featureGates: Object.keys(p.featureGates).length === 0 ? undefined : p.featureGates,
    healthzBindAddress: p.healthzBindAddress,
    hostnameOverride: p.nodeName,
    iptables: {
      localhostNodePorts: p.localhostNodePorts,
      masqueradeAll: p.mode === 'nftables' ? false : p.masqueradeAll,
      masqueradeBit: p.masqueradeBit,
      ...ipt,
    },
    ipvs: {
      excludeCIDRs: o.ipvs.excludeCIDRs.length === 0 ? null : o.ipvs.excludeCIDRs,
      ipSet: { hashSize: 1024, maxElements: 65536 },
      ...ipvs,
      scheduler: o.ipvs.scheduler,
      strictARP: o.ipvs.strictARP,
      tcpFinTimeout: goDuration(o.ipvs.tcpFinTimeoutSeconds),
      tcpTimeout: goDuration(o.ipvs.tcpTimeoutSeconds),
      udpTimeout: goDuration(o.ipvs.udpTimeoutSeconds),
    },
    kind: 'KubeProxyConfiguration',
    logging: { flushFrequency: '5s', format: o.loggingFormat, verbosity: 0 },
    metricsBindAddress: p.metricsBindAddress,
    mode: p.mode,
    nftables: { masqueradeAll: p.mode === 'nftables' ? p.masqueradeAll : false, masqueradeBit: p.masqueradeBit, ...nft },
    nodePortAddresses: p.nodePortAddresses.length === 0 ? null : p.nodePortAddresses,
    oomScoreAdj: o.oomScoreAdj,
    portRange: p.proxyPortRange,
    serviceProxyName: p.serviceProxyName === '' ? undefined : p.serviceProxyName,
    showHiddenMetricsForVersion: o.showHiddenMetricsForVersion,
    udpIdleTimeout: p.mode === 'userspace' ? goDuration(p.udpIdleTimeoutMs / 1000) : undefined,
  };
}

/** Go writes YAML through JSON: keys sorted, unset (undefined) fields left out. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (typeof v !== 'object' || v === null) return v;
  const rec = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(rec).sort()) if (rec[k] !== undefined) out[k] = sortedKeys(rec[k]);
  return out;
}

export function v1alpha1Yaml(p: ProxyConfig, o: OperationalSettings): string {
  return stringify(sortedKeys(v1alpha1Config(p, o)), { nullStr: 'null' });
}

/** kube-proxy's /configz: `{"kubeproxy.config.k8s.io": <internal config with Go field names>}`. */
export function configzBody(p: ProxyConfig, o: OperationalSettings): Record<string, unknown> {
  const ns = (s: number): number => Math.round(s * 1e9);
  return {
    'kubeproxy.config.k8s.io': {
      FeatureGates: p.featureGates,
      ClientConnection: {
        Kubeconfig: o.kubeconfig,
        AcceptContentTypes: o.acceptContentTypes,
        ContentType: o.contentType,
        QPS: o.qps,
        Burst: o.burst,
      },
      Logging: { Format: o.loggingFormat, Verbosity: 0 },
      HostnameOverride: p.nodeName,
      BindAddress: o.bindAddress,
      HealthzBindAddress: p.healthzBindAddress,
      MetricsBindAddress: p.metricsBindAddress,
      BindAddressHardFail: o.bindAddressHardFail,
      EnableProfiling: o.enableProfiling,
      ShowHiddenMetricsForVersion: o.showHiddenMetricsForVersion,
      Mode: p.mode,
      IPTables: { MasqueradeBit: p.masqueradeBit, LocalhostNodePorts: p.localhostNodePorts },
      IPVS: {
        Scheduler: o.ipvs.scheduler,
        ExcludeCIDRs: o.ipvs.excludeCIDRs.length === 0 ? null : o.ipvs.excludeCIDRs,
        StrictARP: o.ipvs.strictARP,
        TCPTimeout: ns(o.ipvs.tcpTimeoutSeconds),
        TCPFinTimeout: ns(o.ipvs.tcpFinTimeoutSeconds),
        UDPTimeout: ns(o.ipvs.udpTimeoutSeconds),
      },
      NFTables: { MasqueradeBit: p.masqueradeBit },
      Linux: {
        Conntrack: {
          MaxPerCore: o.conntrack.maxPerCore,
          Min: o.conntrack.min,
          TCPEstablishedTimeout: ns(o.conntrack.tcpEstablishedTimeoutSeconds),
          TCPCloseWaitTimeout: ns(o.conntrack.tcpCloseWaitTimeoutSeconds),
          UDPTimeout: ns(o.conntrack.udpTimeoutSeconds),
          UDPStreamTimeout: ns(o.conntrack.udpStreamTimeoutSeconds),
        },
        MasqueradeAll: p.masqueradeAll,
        OOMScoreAdj: o.oomScoreAdj,
      },
      DetectLocalMode: p.detectLocalMode,
      DetectLocal: { BridgeInterface: p.bridgeInterface, InterfaceNamePrefix: p.interfaceNamePrefix, ClusterCIDRs: p.clusterCIDRs },
      NodePortAddresses: p.nodePortAddresses.length === 0 ? null : p.nodePortAddresses,
      SyncPeriod: ns(p.syncPeriodSeconds),
      MinSyncPeriod: ns(p.minSyncPeriodSeconds),
      ConfigSyncPeriod: ns(o.configSyncPeriodSeconds),
      PortRange: p.proxyPortRange,
      UDPIdleTimeout: p.mode === 'userspace' ? ns(p.udpIdleTimeoutMs / 1000) : undefined,
    },
  };
}
