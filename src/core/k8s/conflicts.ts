/**
 * Conflicts only files can produce, because an API server allocates node ports and cluster IPs
 * to one Service each. The node-port allocator counts port numbers, not protocols: one Service
 * may use a number for TCP and UDP, two Services may not share it at all, and a health-check
 * node port comes from the same pool. Of two Services claiming the same thing, the one whose
 * `namespace/name` sorts later loses it, so the result never depends on input order. Only
 * Services kube-proxy programs (a cluster IP, not ExternalName) take part.
 */
import type { DiagnosticSink } from '../model/diagnostics.js';
import type { ClusterObjects, Protocol, Service, ServicePortSpec } from '../model/objects.js';
import { canonicalIP } from '../net/ip.js';
import { ObjectReporter } from './report.js';
import { byMeta, keyOf } from './sort.js';

function reporter(sink: DiagnosticSink, svc: Service): ObjectReporter {
  return new ObjectReporter(sink, svc.meta.source, 'Service', keyOf(svc.meta));
}

function where(svc: Service, field: string): string {
  return `Service ${keyOf(svc.meta)} (${field}, ${svc.meta.source.file}:document ${svc.meta.source.document})`;
}

function isProgrammed(svc: Service): boolean {
  return svc.type !== 'ExternalName' && svc.clusterIP !== '' && svc.clusterIP !== 'None';
}

function clusterIPsOf(svc: Service): string[] {
  const written = svc.clusterIPs.length > 0 ? svc.clusterIPs : [svc.clusterIP];
  const out = new Set<string>();
  for (const ip of written) {
    const c = canonicalIP(ip);
    if (c !== null) out.add(c);
  }
  return [...out];
}

interface PortOwner {
  readonly svc: Service;
  readonly port: ServicePortSpec;
}

/** Two Services sharing a cluster IP collide only where they share a port and protocol. */
function resolveClusterIPs(services: readonly Service[], sink: DiagnosticSink): Service[] {
  const ipOwner = new Map<string, Service>();
  const portOwner = new Map<string, PortOwner>();
  return services.map((svc) => {
    if (!isProgrammed(svc)) return svc;
    const r = reporter(sink, svc);
    const lost = new Set<number>();
    for (const ip of clusterIPsOf(svc)) {
      const first = ipOwner.get(ip);
      if (first === undefined) ipOwner.set(ip, svc);
      let collided = false;
      for (const p of svc.ports) {
        const owner = portOwner.get(`${ip} ${p.port} ${p.protocol}`);
        if (owner === undefined || owner.svc === svc) continue;
        collided = true;
        lost.add(p.index);
        r.error(
          `spec.ports[${p.index}]`,
          `cluster IP ${ip} port ${p.port}/${p.protocol} is already used by ${where(owner.svc, `spec.ports[${owner.port.index}]`)}: an API server gives a cluster IP to one Service only; ${keyOf(svc.meta)} sorts later and loses this port (dropped)`,
        );
      }
      if (first !== undefined && first !== svc && !collided) {
        r.warning('spec.clusterIP', `${ip} is also the cluster IP of ${where(first, 'spec.clusterIP')}: an API server refuses this; kube-proxy programs both (their ports do not overlap)`);
      }
      for (const p of svc.ports) {
        const key = `${ip} ${p.port} ${p.protocol}`;
        if (!lost.has(p.index) && !portOwner.has(key)) portOwner.set(key, { svc, port: p });
      }
    }
    return lost.size === 0 ? svc : { ...svc, ports: svc.ports.filter((p) => !lost.has(p.index)) };
  });
}

interface NodePortClaim {
  readonly svc: Service;
  readonly field: string;
  /** The owning Service's ports using this number, by protocol (health checks: none). */
  readonly byProtocol: Map<Protocol, string>;
}

function resolveNodePorts(services: readonly Service[], sink: DiagnosticSink): Service[] {
  const claims = new Map<number, NodePortClaim>();
  return services.map((svc) => {
    if (!isProgrammed(svc)) return svc;
    const r = reporter(sink, svc);
    const loser = `${keyOf(svc.meta)} sorts later and loses it (dropped)`;
    const ports = svc.ports.map((p) => {
      if (p.nodePort === 0) return p;
      const field = `spec.ports[${p.index}].nodePort`;
      const claim = claims.get(p.nodePort);
      if (claim === undefined) {
        claims.set(p.nodePort, { svc, field, byProtocol: new Map([[p.protocol, field]]) });
        return p;
      }
      const sameProtocol = claim.byProtocol.get(p.protocol);
      if (claim.svc === svc && sameProtocol === undefined) {
        claim.byProtocol.set(p.protocol, field);
        return p;
      }
      const why =
        claim.svc === svc
          ? `is also the ${p.protocol} node port of ${sameProtocol ?? claim.field} of this Service: an API server refuses a node port used twice for one protocol; the later port loses it (dropped)`
          : `is already the node port of ${where(claim.svc, claim.field)}: an API server gives a node port to one Service only, whatever the protocol; ${loser}`;
      r.error(field, `${p.nodePort} ${why}`);
      return { ...p, nodePort: 0 };
    });
    let healthCheckNodePort = svc.healthCheckNodePort;
    const checked = svc.type === 'LoadBalancer' && svc.externalTrafficPolicy === 'Local' && healthCheckNodePort !== 0;
    if (checked) {
      const claim = claims.get(healthCheckNodePort);
      if (claim === undefined) {
        claims.set(healthCheckNodePort, { svc, field: 'spec.healthCheckNodePort', byProtocol: new Map() });
      } else {
        const owner = claim.svc === svc ? `${claim.field} of this Service` : where(claim.svc, claim.field);
        const tail = claim.svc === svc ? 'the health check loses it (dropped)' : loser;
        r.error('spec.healthCheckNodePort', `${healthCheckNodePort} is already the node port of ${owner}: an API server allocates health-check and service node ports from one pool; ${tail}`);
        healthCheckNodePort = 0;
      }
    }
    const changed = healthCheckNodePort !== svc.healthCheckNodePort || ports.some((p, i) => p !== svc.ports[i]);
    return changed ? { ...svc, ports, healthCheckNodePort } : svc;
  });
}

export function resolveConflicts(objects: ClusterObjects, sink: DiagnosticSink): ClusterObjects {
  const sorted = byMeta(objects.services);
  return { ...objects, services: resolveNodePorts(resolveClusterIPs(sorted, sink), sink) };
}
