/**
 * Decoding a v1 Service with the API server's silent defaults (type ClusterIP, protocol TCP,
 * sessionAffinity None with 10800 s, traffic policies Cluster, targetPort = port) and
 * kube-proxy's reading of everything an API server would have refused.
 */
import type { SourceLocation } from '../model/diagnostics.js';
import type { Service, ServicePortSpec, ServiceType } from '../model/objects.js';
import { type Field, child, readBoolean, readInteger, readRecord, readString, recordEntries } from './fields.js';
import { decodeMeta } from './meta.js';
import { isInDefaultNodePortRange, isPortNumber } from './names.js';
import { type ObjectReporter, quote } from './report.js';
import { decodeExternalIPs, decodeLoadBalancerIngress, decodeSourceRanges } from './service-external.js';
import { decodeClusterIPs } from './service-ips.js';
import { decodeServicePorts } from './service-ports.js';

const SKIPPED = 'the Service is skipped';
const TYPES: readonly string[] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

interface DecodedType {
  readonly type: ServiceType;
  /** False when the written type was "" or unknown: kube-proxy then never applies eTP Local. */
  readonly written: boolean;
}

function decodeType(spec: Field, r: ObjectReporter): DecodedType | null {
  const f = child(spec, 'type');
  const t = readString(f);
  if (t.kind === 'absent') return { type: 'ClusterIP', written: true };
  if (t.kind === 'bad') {
    r.error(f.path, `${t.problem}; ${SKIPPED}`);
    return null;
  }
  if (TYPES.includes(t.value)) return { type: t.value as ServiceType, written: true };
  const what = t.value === '' ? 'empty' : `${quote(t.value)} is not a Service type`;
  r.warning(f.path, `${what}: an API server refuses it; kube-proxy treats the Service as ClusterIP`);
  return { type: 'ClusterIP', written: false };
}

function decodeSelector(spec: Field, r: ObjectReporter): Record<string, string> | null | undefined {
  const f = child(spec, 'selector');
  const rec = readRecord(f);
  if (rec.kind === 'absent') return null;
  if (rec.kind === 'bad') {
    r.error(f.path, `${rec.problem}; ${SKIPPED}`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [key, entry] of recordEntries(f, rec.value)) {
    if (typeof entry.value !== 'string') {
      r.error(entry.path, `must be a string, not ${quote(entry.value)}; ${SKIPPED}`);
      return undefined;
    }
    out[key] = entry.value;
  }
  // An empty selector is stored as no selector (the API server's protobuf storage drops it).
  return Object.keys(out).length === 0 ? null : out;
}

function decodeChoice<T extends string>(f: Field, r: ObjectReporter, choices: readonly T[], fallback: T): T {
  const v = readString(f);
  if (v.kind === 'absent') return fallback;
  if (v.kind === 'bad') {
    r.error(f.path, `${v.problem}; ignored, so it defaults to ${fallback}`);
    return fallback;
  }
  const found = choices.find((c) => c === v.value);
  if (found !== undefined) return found;
  r.warning(f.path, `${quote(v.value)} is not one of ${choices.join(', ')}: an API server refuses it; kube-proxy treats it as ${fallback}`);
  return fallback;
}

function decodeAffinityTimeout(spec: Field, r: ObjectReporter): number {
  const f = child(child(child(spec, 'sessionAffinityConfig'), 'clientIP'), 'timeoutSeconds');
  const t = readInteger(f);
  if (t.kind === 'absent') return 10800;
  if (t.kind === 'bad' || t.value < 0) {
    r.error(f.path, `${t.kind === 'bad' ? t.problem : `${t.value} is negative`}; ignored, so it defaults to 10800`);
    return 10800;
  }
  if (t.value === 0 || t.value > 86400) {
    r.warning(f.path, `${t.value} is outside 1-86400: an API server refuses it; kube-proxy uses it`);
  }
  return t.value;
}

function decodeHealthCheckNodePort(spec: Field, type: ServiceType, etpLocal: boolean, r: ObjectReporter): number {
  const f = child(spec, 'healthCheckNodePort');
  const n = readInteger(f);
  const used = type === 'LoadBalancer' && etpLocal;
  if (n.kind === 'bad' || (n.kind === 'ok' && n.value !== 0 && !isPortNumber(n.value))) {
    r.error(f.path, `${n.kind === 'bad' ? n.problem : `${n.value} is not a port number (1-65535)`} (dropped)`);
    return 0;
  }
  const port = n.kind === 'ok' ? n.value : 0;
  if (port !== 0 && !used) {
    r.warning(f.path, 'set, but health checks only exist for type LoadBalancer with externalTrafficPolicy Local: an API server refuses it; kube-proxy ignores it');
  } else if (port === 0 && used) {
    r.warning(f.path, 'not set: an API server would allocate one; kube-proxy serves no health check for this Service');
  } else if (port !== 0 && !isInDefaultNodePortRange(port)) {
    r.warning(f.path, `${port} is outside the default node-port range 30000-32767: an API server refuses it; kube-proxy uses it`);
  }
  return port;
}

function decodeFlag(f: Field, r: ObjectReporter): boolean {
  const b = readBoolean(f);
  if (b.kind === 'bad') r.error(f.path, `${b.problem}; ignored, so it defaults to false`);
  return b.kind === 'ok' && b.value;
}

function warnAboutNodePorts(spec: Field, type: ServiceType, ports: readonly ServicePortSpec[], r: ObjectReporter): void {
  const allocates = readBoolean(child(spec, 'allocateLoadBalancerNodePorts'));
  const lbWithout = type === 'LoadBalancer' && allocates.kind === 'ok' && !allocates.value;
  const portsPath = child(spec, 'ports').path;
  for (const p of ports) {
    const path = `${portsPath}[${p.index}].nodePort`;
    if (p.nodePort !== 0 && type === 'ClusterIP') {
      r.warning(path, 'set on a Service of type ClusterIP: an API server refuses it; kube-proxy opens the node port anyway');
    } else if (p.nodePort === 0 && (type === 'NodePort' || (type === 'LoadBalancer' && !lbWithout))) {
      r.warning(path, `not set: an API server would allocate one; kube-proxy opens no node port for this ${type} port`);
    }
  }
}

export function decodeService(root: Field, unnamed: ObjectReporter, source: SourceLocation): Service | null {
  const decoded = decodeMeta(root, unnamed, source, { namespaced: true, nameRule: 'service' });
  if (decoded === null) return null;
  const { meta, r } = decoded;
  const spec = child(root, 'spec');
  const specRec = readRecord(spec);
  if (specRec.kind === 'bad') {
    r.error(spec.path, `${specRec.problem}; ${SKIPPED}`);
    return null;
  }
  const t = decodeType(spec, r);
  if (t === null) return null;
  const ips = decodeClusterIPs(spec, t.type, r);
  const ports = decodeServicePorts(spec, r);
  const selector = decodeSelector(spec, r);
  if (ips === null || ports === null || selector === undefined) return null;
  const externalIPs = decodeExternalIPs(spec, r);
  const sessionAffinity = decodeChoice(child(spec, 'sessionAffinity'), r, ['None', 'ClientIP'], 'None');
  const etpField = child(spec, 'externalTrafficPolicy');
  let externalTrafficPolicy = decodeChoice(etpField, r, ['Cluster', 'Local'], 'Cluster');
  if (!t.written && externalTrafficPolicy === 'Local' && externalIPs.length > 0) {
    r.warning(etpField.path, 'Local is ignored by kube-proxy because spec.type is not a valid type; treated as Cluster');
    externalTrafficPolicy = 'Cluster';
  }
  const trafficField = child(spec, 'trafficDistribution');
  const traffic = readString(trafficField);
  if (traffic.kind === 'bad') r.error(trafficField.path, `${traffic.problem} (dropped)`);
  const proxied = t.type !== 'ExternalName' && ips.clusterIP !== 'None' && ips.clusterIP !== '';
  if (proxied) warnAboutNodePorts(spec, t.type, ports, r);
  const loadBalancerIngress = decodeLoadBalancerIngress(root, r);
  if (proxied && loadBalancerIngress.length > 0 && t.type !== 'LoadBalancer') {
    const ingressPath = child(child(child(root, 'status'), 'loadBalancer'), 'ingress').path;
    r.warning(ingressPath, `set on a Service of type ${t.type}: kube-proxy programs these IPs even so`);
  }
  return {
    kind: 'Service',
    meta,
    type: t.type,
    ...ips,
    ports,
    selector,
    externalIPs,
    loadBalancerSourceRanges: decodeSourceRanges(spec, r),
    loadBalancerIngress,
    sessionAffinity,
    sessionAffinityTimeoutSeconds: sessionAffinity === 'ClientIP' ? decodeAffinityTimeout(spec, r) : 10800,
    externalTrafficPolicy,
    internalTrafficPolicy: decodeChoice(child(spec, 'internalTrafficPolicy'), r, ['Cluster', 'Local'], 'Cluster'),
    healthCheckNodePort: decodeHealthCheckNodePort(spec, t.type, externalTrafficPolicy === 'Local', r),
    publishNotReadyAddresses: decodeFlag(child(spec, 'publishNotReadyAddresses'), r),
    trafficDistribution: traffic.kind === 'ok' ? traffic.value : null,
  };
}
