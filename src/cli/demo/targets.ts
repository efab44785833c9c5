/**
 * Which traffic the demo sends for a set of Services: ClusterIP Services from a client pod and
 * from the node; NodePort Services from outside to the node's address; LoadBalancer Services
 * from outside to their ingress IPs; externalIPs from outside.
 */
import type { Service } from '../../core/model/objects.js';

export type TrafficOrigin = 'pod' | 'node' | 'external';

export interface DemoTarget {
  readonly from: TrafficOrigin;
  readonly service: string;
  readonly ip: string;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  readonly affinity: boolean;
}

export function demoTargets(services: readonly Service[], nodeAddress: string): DemoTarget[] {
  const out: DemoTarget[] = [];
  for (const svc of services) {
    const name = `${svc.meta.namespace}/${svc.meta.name}`;
    const affinity = svc.sessionAffinity === 'ClientIP';
    for (const p of svc.ports) {
      if (p.protocol === 'SCTP') continue;
      const protocol = p.protocol === 'UDP' ? 'udp' : 'tcp';
      const base = { service: name, protocol, affinity } as const;
      if (svc.type === 'ClusterIP' && svc.clusterIP !== '' && svc.clusterIP !== 'None') {
        out.push({ ...base, from: 'pod', ip: svc.clusterIP, port: p.port });
        out.push({ ...base, from: 'node', ip: svc.clusterIP, port: p.port });
      }
      if ((svc.type === 'NodePort' || svc.type === 'LoadBalancer') && p.nodePort !== 0) {
        out.push({ ...base, from: 'external', ip: nodeAddress, port: p.nodePort });
      }
      if (svc.type === 'LoadBalancer') {
        for (const ing of svc.loadBalancerIngress) {
          if (ing.ip !== '') out.push({ ...base, from: 'external', ip: ing.ip, port: p.port });
        }
      }
      for (const ip of svc.externalIPs) out.push({ ...base, from: 'external', ip, port: p.port });
    }
  }
  return out;
}
