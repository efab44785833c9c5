/**
 * Service → per-family service ports (reference §2.1, kube-proxy's serviceport.go semantics).
 * Decoding already removed what kube-proxy cannot parse; here values are filtered by family
 * and canonicalised.
 */
import { parseCIDR, parseIP } from '../net/ip.js';
import type { IPFamily, Service } from '../model/objects.js';
import type { ServicePortInfo } from '../model/service-port.js';

/** The Service's cluster IP of this family, canonical, or null (headless, ExternalName, other family). */
function clusterIPForFamily(svc: Service, family: IPFamily): string | null {
  if (svc.type === 'ExternalName') return null;
  if (svc.clusterIP === '' || svc.clusterIP === 'None') return null;
  const ips = svc.clusterIPs.length > 0 ? svc.clusterIPs : [svc.clusterIP];
  if (svc.ipFamilies.length > 0) {
    const idx = svc.ipFamilies.indexOf(family);
    const ip = idx >= 0 ? ips[idx] : undefined;
    if (ip === undefined) return null;
    const parsed = parseIP(ip);
    return parsed?.family === family ? parsed.text : null;
  }
  for (const ip of ips) {
    const parsed = parseIP(ip);
    if (parsed?.family === family) return parsed.text;
  }
  return null;
}

/** The values of this family, canonical (`parse` gives null for a value it cannot read). */
function ofFamily(values: readonly string[], family: IPFamily, parse: (text: string) => { family: IPFamily; text: string } | null): string[] {
  const out: string[] = [];
  for (const v of values) {
    const p = parse(v.trim());
    if (p?.family === family) out.push(p.text);
  }
  return out;
}

function ipsOfFamily(values: readonly string[], family: IPFamily): string[] {
  return ofFamily(values, family, parseIP);
}

function cidrsOfFamily(values: readonly string[], family: IPFamily): string[] {
  return ofFamily(values, family, parseCIDR);
}

/** Type LoadBalancer or NodePort, or a ClusterIP Service with externalIPs (apiservice.ExternallyAccessible). */
function externallyAccessibleByType(svc: Service): boolean {
  return (
    svc.type === 'LoadBalancer' ||
    svc.type === 'NodePort' ||
    (svc.type === 'ClusterIP' && svc.externalIPs.length > 0)
  );
}

export function servicePortsForFamily(svc: Service, family: IPFamily): ServicePortInfo[] {
  const clusterIP = clusterIPForFamily(svc, family);
  if (clusterIP === null) return [];
  const externalIPs = ipsOfFamily(svc.externalIPs, family);
  const loadBalancerVIPs = ipsOfFamily(
    svc.loadBalancerIngress.filter((i) => i.ip !== '' && i.ipMode !== 'Proxy').map((i) => i.ip),
    family,
  );
  const loadBalancerSourceRanges = cidrsOfFamily(svc.loadBalancerSourceRanges, family);
  const externalPolicyLocal = externallyAccessibleByType(svc) && svc.externalTrafficPolicy === 'Local';
  const healthCheckNodePort =
    svc.type === 'LoadBalancer' && externalPolicyLocal ? svc.healthCheckNodePort : 0;
  return svc.ports.map((p) => ({
    key: { namespace: svc.meta.namespace, name: svc.meta.name, portName: p.name, protocol: p.protocol },
    family,
    clusterIP,
    port: p.port,
    nodePort: p.nodePort,
    targetPort: p.targetPort,
    externalIPs,
    loadBalancerVIPs,
    loadBalancerSourceRanges,
    sessionAffinity:
      svc.sessionAffinity === 'ClientIP'
        ? { type: 'ClientIP', timeoutSeconds: svc.sessionAffinityTimeoutSeconds }
        : { type: 'None' },
    externalPolicyLocal,
    internalPolicyLocal: svc.internalTrafficPolicy === 'Local',
    healthCheckNodePort,
  }));
}
