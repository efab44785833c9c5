/**
 * Which endpoints a service port uses, per traffic policy (kube-proxy's CategorizeEndpoints,
 * reference §2.3): ready endpoints filtered by topology hints, falling back to
 * serving-and-terminating endpoints independently for the cluster and local sides.
 */
import type { EndpointSelection } from '../desired/types.js';
import type { EndpointInfo } from '../model/service-port.js';

export interface CategorizeInput {
  readonly endpoints: readonly EndpointInfo[];
  readonly usesClusterEndpoints: boolean;
  readonly usesLocalEndpoints: boolean;
  readonly nodeName: string;
  /** The node's `topology.kubernetes.io/zone` label, "" when absent. */
  readonly zone: string;
  /** Feature gate PreferSameTrafficDistribution (GA and on since Kubernetes 1.35). */
  readonly preferSameNodeEnabled: boolean;
}

type TopologyMode = 'none' | 'PreferSameNode' | 'PreferSameZone';

const NOTHING: EndpointSelection = {
  clusterEndpoints: [],
  localEndpoints: [],
  allReachableEndpoints: [],
  hasAnyEndpoints: false,
};

function topologyMode(input: CategorizeInput): TopologyMode {
  const ready = input.endpoints.filter((e) => e.ready);
  if (ready.length === 0) return 'none';
  if (input.preferSameNodeEnabled) {
    const allHaveNodeHints = ready.every((e) => e.nodeHints !== null && e.nodeHints.length > 0);
    if (allHaveNodeHints && ready.some((e) => e.nodeHints?.includes(input.nodeName) === true)) {
      return 'PreferSameNode';
    }
  }
  const allHaveZoneHints = ready.every((e) => e.zoneHints !== null && e.zoneHints.length > 0);
  if (allHaveZoneHints && ready.some((e) => e.zoneHints?.includes(input.zone) === true)) {
    return 'PreferSameZone';
  }
  return 'none';
}

function availableForTopology(e: EndpointInfo, mode: TopologyMode, nodeName: string, zone: string): boolean {
  switch (mode) {
    case 'none':
      return true;
    case 'PreferSameNode':
      return e.nodeHints?.includes(nodeName) === true;
    case 'PreferSameZone':
      return e.zoneHints?.includes(zone) === true;
  }
}

const servingTerminating = (e: EndpointInfo): boolean => e.serving && e.terminating;

function byEndpoint(a: EndpointInfo, b: EndpointInfo): number {
  return a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0;
}

export function categorizeEndpoints(input: CategorizeInput): EndpointSelection {
  const { endpoints } = input;
  if (endpoints.length === 0) return NOTHING;

  let mode: TopologyMode = 'none';
  let clusterEndpoints: EndpointInfo[] = [];
  let hasAnyEndpoints = false;
  if (input.usesClusterEndpoints) {
    mode = topologyMode(input);
    clusterEndpoints = endpoints.filter((e) => e.ready && availableForTopology(e, mode, input.nodeName, input.zone));
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter(servingTerminating);
    hasAnyEndpoints = clusterEndpoints.length > 0;
  }
  if (!input.usesLocalEndpoints) {
    return { clusterEndpoints, localEndpoints: [], allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }

  if (endpoints.some((e) => e.ready || servingTerminating(e))) hasAnyEndpoints = true;
  let localEndpoints = endpoints.filter((e) => e.isLocal && e.ready);
  let localFallback = false;
  if (localEndpoints.length === 0) {
    localEndpoints = endpoints.filter((e) => e.isLocal && !e.ready && servingTerminating(e));
    localFallback = localEndpoints.length > 0;
  }
  if (!input.usesClusterEndpoints) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints };
  }
  if (mode === 'none' && !localFallback) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }
  const union = new Map<string, EndpointInfo>();
  for (const e of clusterEndpoints) union.set(e.endpoint, e);
  for (const e of localEndpoints) union.set(e.endpoint, e);
  const allReachableEndpoints = [...union.values()].sort(byEndpoint);
  return { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints };
}
