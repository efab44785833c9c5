/**
 * The decisions every dataplane shares for one service port (reference §2.1 predicates and the
 * derived values of §5.4 / §8.4): which policy chains exist, where internal and external traffic
 * goes, and what happens when there is nowhere to send it.
 */
import type { EndpointSelection, ServicePortPolicy, TrafficVerdict } from '../desired/types.js';
import type { ServicePortInfo } from '../model/service-port.js';

function isExternallyAccessible(info: ServicePortInfo): boolean {
  return info.nodePort !== 0 || info.loadBalancerVIPs.length > 0 || info.externalIPs.length > 0;
}

export function usesClusterEndpoints(info: ServicePortInfo): boolean {
  return !info.internalPolicyLocal || isExternallyAccessible(info);
}

export function usesLocalEndpoints(info: ServicePortInfo): boolean {
  return info.internalPolicyLocal || (info.externalPolicyLocal && isExternallyAccessible(info));
}

function verdict(hasEndpoints: boolean, hasPolicyEndpoints: boolean): TrafficVerdict {
  if (!hasEndpoints) return 'reject';
  return hasPolicyEndpoints ? 'forward' : 'drop';
}

export function servicePortPolicy(
  info: ServicePortInfo,
  selection: EndpointSelection,
  sourceRangesIncludeNode: boolean,
): ServicePortPolicy {
  const externallyAccessible = isExternallyAccessible(info);
  const clusterSide = usesClusterEndpoints(info);
  const localSide = usesLocalEndpoints(info);
  const hasEndpoints = selection.hasAnyEndpoints;
  const noLocal = selection.localEndpoints.length === 0;
  const hasInternalEndpoints = hasEndpoints && !(info.internalPolicyLocal && noLocal);
  const hasExternalEndpoints = hasEndpoints && !(info.externalPolicyLocal && noLocal);
  return {
    externallyAccessible,
    usesClusterEndpoints: clusterSide,
    usesLocalEndpoints: localSide,
    hasEndpoints,
    usesClusterPolicy: selection.clusterEndpoints.length > 0 && clusterSide,
    usesLocalPolicy: selection.localEndpoints.length > 0 && localSide,
    internalPolicy: info.internalPolicyLocal ? 'local' : 'cluster',
    hasInternalEndpoints,
    externalPolicy: info.externalPolicyLocal ? 'local' : 'cluster',
    hasExternalEndpoints,
    usesExternalChain: hasEndpoints && externallyAccessible,
    usesFirewall:
      hasEndpoints && info.loadBalancerVIPs.length > 0 && info.loadBalancerSourceRanges.length > 0,
    internalVerdict: verdict(hasEndpoints, hasInternalEndpoints),
    externalVerdict: verdict(hasEndpoints, hasExternalEndpoints),
    sourceRangesIncludeNode,
  };
}
