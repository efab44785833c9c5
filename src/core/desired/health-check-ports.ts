/**
 * The service health checks kube-proxy serves (reference C.4): one per Service with a
 * healthCheckNodePort (LoadBalancer with externalTrafficPolicy Local), reporting how many
 * distinct ready local endpoint IPs the Service has, across all its ports and families.
 */
import type { DesiredState } from './types.js';

export interface HealthCheckTarget {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  /** Distinct IPs of local, ready (not terminating) endpoints. */
  readonly localEndpoints: number;
}

export function healthCheckTargets(states: readonly DesiredState[]): HealthCheckTarget[] {
  const ports = new Map<string, number>();
  const ips = new Map<string, Set<string>>();
  for (const state of states) {
    for (const sp of state.servicePorts) {
      const key = `${sp.info.key.namespace}/${sp.info.key.name}`;
      if (sp.info.healthCheckNodePort !== 0) ports.set(key, sp.info.healthCheckNodePort);
      for (const ep of sp.endpoints) {
        if (!ep.isLocal || !ep.ready) continue;
        const set = ips.get(key) ?? new Set<string>();
        set.add(ep.ip);
        ips.set(key, set);
      }
    }
  }
  return [...ports.keys()].sort().map((key) => {
    const [namespace = '', name = ''] = key.split('/');
    return { namespace, name, port: ports.get(key) ?? 0, localEndpoints: ips.get(key)?.size ?? 0 };
  });
}
