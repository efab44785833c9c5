/**
 * What kubeproxy_sync_proxy_rules_no_local_endpoints_total counts, as every kube-proxy mode does:
 * the service ports with a Local traffic policy (internal, or external for externally reachable
 * ones) that have endpoints, none of them on this node.
 */
import type { DesiredState } from './types.js';

export interface NoLocalEndpointCounts {
  readonly internal: number;
  readonly external: number;
}

export function noLocalEndpointCounts(state: DesiredState): NoLocalEndpointCounts {
  let internal = 0;
  let external = 0;
  for (const sp of state.servicePorts) {
    const noLocal = sp.policy.hasEndpoints && sp.selection.localEndpoints.length === 0;
    if (sp.info.internalPolicyLocal && noLocal) internal++;
    if (sp.info.externalPolicyLocal && sp.policy.externallyAccessible && noLocal) external++;
  }
  return { internal, external };
}
