/**
 * ClusterObjects + ProxyConfig → the DesiredState of one IP family. Pure and deterministic:
 * the output never depends on input order.
 */
import { cidrContains, parseCIDR, parseIP } from '../net/ip.js';
import type { DiagnosticSink } from '../model/diagnostics.js';
import type { ProxyConfig } from '../model/config.js';
import type { ClusterObjects, IPFamily } from '../model/objects.js';
import type { ServicePortInfo } from '../model/service-port.js';
import { categorizeEndpoints } from '../policy/categorize.js';
import { servicePortPolicy, usesClusterEndpoints, usesLocalEndpoints } from '../policy/service-policy.js';
import { endpointsByServicePort, servicePortKeyString } from './endpoints.js';
import { localDetector } from './local-detector.js';
import { nodeView, type NodeView } from './node.js';
import { optionDiagnostic } from './option-diagnostics.js';
import { selectProxiedObjects } from './proxy-filter.js';
import { servicePortsForFamily } from './service-ports.js';
import type { DesiredState, NodePortAddresses, ServicePortState } from './types.js';

/** kube-proxy switches to "large cluster mode" above this many endpoints (reference §5.8). */
const LARGE_CLUSTER_ENDPOINT_THRESHOLD = 1000;

const PREFER_SAME_NODE_GATE = 'PreferSameTrafficDistribution';

function compareKeys(a: ServicePortInfo, b: ServicePortInfo): number {
  const ka = [a.key.namespace, a.key.name, a.key.portName, a.key.protocol];
  const kb = [b.key.namespace, b.key.name, b.key.portName, b.key.protocol];
  for (let i = 0; i < ka.length; i++) {
    const x = ka[i] ?? '';
    const y = kb[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * --nodeport-addresses of this family as CIDRs; empty = all addresses. "primary" is the node's
 * primary IP; when kube-proxy cannot tell it (no Node address, no --node-ip) it assumes loopback,
 * and so does kproxy, saying so.
 */
function nodePortCIDRs(config: ProxyConfig, family: IPFamily, node: NodeView, sink: DiagnosticSink): string[] {
  const cidrs: string[] = [];
  for (const value of config.nodePortAddresses) {
    if (value === 'primary') {
      if (node.ips[0] === undefined) {
        const message =
          `primary: this node's ${family} address is unknown (no Node object named "${node.name}" with one, no --node-ip), ` +
          `so NodePorts are accepted on ${node.primaryIP} only (kube-proxy assumes loopback too); give the Node or --node-ip`;
        sink.add(optionDiagnostic(config, { flag: '--nodeport-addresses', field: 'nodePortAddresses' }, 'warning', message));
      }
      cidrs.push(`${node.primaryIP}/${family === 'IPv4' ? 32 : 128}`);
      continue;
    }
    const c = parseCIDR(value.trim());
    if (c?.family === family) cidrs.push(c.text);
  }
  return cidrs;
}

/**
 * kube-proxy serves localhost NodePorts only for IPv4, and only when --nodeport-addresses
 * covers 127.0.0.0 (or is unset).
 */
function localhostNodePorts(config: ProxyConfig, family: IPFamily, cidrs: readonly string[]): boolean {
  if (!config.localhostNodePorts || family !== 'IPv4') return false;
  if (cidrs.length === 0) return true;
  const loopback = parseIP('127.0.0.0');
  return cidrs.some((c) => {
    const p = parseCIDR(c);
    return p !== null && loopback !== null && cidrContains(p, loopback);
  });
}

function nodePortAddresses(cidrs: readonly string[], family: IPFamily, node: NodeView): NodePortAddresses {
  if (cidrs.length === 0 || cidrs.some((c) => c.endsWith('/0'))) return { kind: 'all' };
  // The node's local addresses are its IPs plus loopback, as a real node's interfaces would be.
  const local = [...node.ips, family === 'IPv4' ? '127.0.0.1' : '::1'];
  const ips: string[] = [];
  for (const ip of local) {
    const parsed = parseIP(ip);
    if (parsed === null) continue;
    const inRange = cidrs.some((c) => {
      const p = parseCIDR(c);
      return p !== null && cidrContains(p, parsed);
    });
    if (inRange && !ips.includes(parsed.text)) ips.push(parsed.text);
  }
  return { kind: 'ips', ips };
}

function rangesInclude(ranges: readonly string[], ip: string): boolean {
  const parsed = parseIP(ip);
  if (parsed === null) return false;
  return ranges.some((r) => {
    const c = parseCIDR(r);
    return c !== null && cidrContains(c, parsed);
  });
}

export function buildDesiredState(
  input: ClusterObjects,
  config: ProxyConfig,
  family: IPFamily,
  sink: DiagnosticSink,
): DesiredState {
  const objects = selectProxiedObjects(input, config.serviceProxyName);
  const node = nodeView(objects, config, family);
  const preferSameNodeEnabled = config.featureGates[PREFER_SAME_NODE_GATE] ?? true;
  const endpointsMap = endpointsByServicePort(objects.endpointSlices, {
    family,
    nodeName: config.nodeName,
    nodeHintsEnabled: preferSameNodeEnabled,
  });

  const npCIDRs = nodePortCIDRs(config, family, node, sink);
  const infos = objects.services.flatMap((svc) => servicePortsForFamily(svc, family)).sort(compareKeys);
  let totalEndpoints = 0;
  const servicePorts: ServicePortState[] = infos.map((info) => {
    const endpoints = endpointsMap.get(servicePortKeyString(info.key)) ?? [];
    totalEndpoints += endpoints.length;
    const selection = categorizeEndpoints({
      endpoints,
      usesClusterEndpoints: usesClusterEndpoints(info),
      usesLocalEndpoints: usesLocalEndpoints(info),
      nodeName: config.nodeName,
      zone: node.zone,
      preferSameNodeEnabled,
    });
    const policy = servicePortPolicy(info, selection, rangesInclude(info.loadBalancerSourceRanges, node.primaryIP));
    return { info, endpoints, selection, policy };
  });

  return {
    family,
    nodeName: config.nodeName,
    nodeIPs: node.ips,
    localDetector: localDetector(config, family, node, sink),
    masqueradeAll: config.masqueradeAll,
    masqueradeMark: 2 ** config.masqueradeBit,
    localhostNodePorts: localhostNodePorts(config, family, npCIDRs),
    nodePortAddresses: nodePortAddresses(npCIDRs, family, node),
    servicePorts,
    totalEndpoints,
    largeClusterMode: totalEndpoints > LARGE_CLUSTER_ENDPOINT_THRESHOLD,
  };
}
