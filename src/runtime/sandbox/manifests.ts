/**
 * The cluster state the proxy reads: Services (with what was allocated), EndpointSlices and
 * Nodes, as Kubernetes YAML documents in one file. Pure: state in, text out.
 */
import { stringify } from 'yaml';
import type { EndpointSlice, Service, SliceEndpoint } from '../../core/model/objects.js';
import { buildEndpointSlices, endpointTargetRef } from './slices.js';
import type { SandboxNodeState, SandboxPodState, SandboxState } from './types.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function metadata(meta: Service['meta']): JsonObject {
  const out: JsonObject = { name: meta.name, namespace: meta.namespace };
  if (Object.keys(meta.labels).length > 0) out['labels'] = { ...meta.labels };
  if (Object.keys(meta.annotations).length > 0) out['annotations'] = { ...meta.annotations };
  return out;
}

function serviceManifest(s: Service): JsonObject {
  const spec: JsonObject = { type: s.type };
  if (s.type !== 'ExternalName') {
    spec['clusterIP'] = s.clusterIP;
    spec['clusterIPs'] = [...s.clusterIPs];
    spec['ipFamilies'] = [...s.ipFamilies];
  }
  spec['ports'] = s.ports.map((p) => {
    const port: JsonObject = {};
    if (p.name !== '') port['name'] = p.name;
    port['protocol'] = p.protocol;
    port['port'] = p.port;
    port['targetPort'] = p.targetPort;
    if (p.nodePort !== 0) port['nodePort'] = p.nodePort;
    return port;
  });
  if (s.selector !== null) spec['selector'] = { ...s.selector };
  if (s.externalIPs.length > 0) spec['externalIPs'] = [...s.externalIPs];
  if (s.loadBalancerSourceRanges.length > 0) spec['loadBalancerSourceRanges'] = [...s.loadBalancerSourceRanges];
  spec['sessionAffinity'] = s.sessionAffinity;
  if (s.sessionAffinity === 'ClientIP') {
    spec['sessionAffinityConfig'] = { clientIP: { timeoutSeconds: s.sessionAffinityTimeoutSeconds } };
  }
  if (s.type === 'NodePort' || s.type === 'LoadBalancer') spec['externalTrafficPolicy'] = s.externalTrafficPolicy;
  spec['internalTrafficPolicy'] = s.internalTrafficPolicy;
  if (s.healthCheckNodePort !== 0) spec['healthCheckNodePort'] = s.healthCheckNodePort;
  if (s.publishNotReadyAddresses) spec['publishNotReadyAddresses'] = true;
  if (s.trafficDistribution !== null) spec['trafficDistribution'] = s.trafficDistribution;
  const ingress: Json[] = s.loadBalancerIngress.map((i) => {
    const out: JsonObject = {};
    if (i.ip !== '') out['ip'] = i.ip;
    if (i.hostname !== '') out['hostname'] = i.hostname;
    if (i.ipMode !== null) out['ipMode'] = i.ipMode;
    return out;
  });
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(s.meta),
    spec,
    status: { loadBalancer: ingress.length > 0 ? { ingress } : {} },
  };
}

function endpointManifest(slice: EndpointSlice, e: SliceEndpoint, pods: readonly SandboxPodState[]): JsonObject {
  const out: JsonObject = {
    addresses: [...e.addresses],
    conditions: { ready: e.conditions.ready, serving: e.conditions.serving, terminating: e.conditions.terminating },
  };
  if (e.nodeName !== null) out['nodeName'] = e.nodeName;
  if (e.zone !== null) out['zone'] = e.zone;
  if (e.zoneHints !== null || e.nodeHints !== null) {
    const hints: JsonObject = {};
    if (e.zoneHints !== null) hints['forZones'] = e.zoneHints.map((name) => ({ name }));
    if (e.nodeHints !== null) hints['forNodes'] = e.nodeHints.map((name) => ({ name }));
    out['hints'] = hints;
  }
  const pod = slice.origin === 'pods' ? endpointTargetRef(slice, e, pods) : null;
  if (pod !== null) out['targetRef'] = { kind: 'Pod', namespace: pod.namespace, name: pod.name };
  return out;
}

function endpointSliceManifest(slice: EndpointSlice, pods: readonly SandboxPodState[]): JsonObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: metadata(slice.meta),
    addressType: slice.addressType,
    ports: slice.ports.map((p) => {
      const port: JsonObject = {};
      if (p.name !== null) port['name'] = p.name;
      if (p.port !== null) port['port'] = p.port;
      port['protocol'] = p.protocol;
      return port;
    }),
    endpoints: slice.endpoints.map((e) => endpointManifest(slice, e, pods)),
  };
}

function nodeManifest(node: SandboxNodeState): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name } },
    spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] },
    status: {
      addresses: [
        { type: 'InternalIP', address: node.address },
        { type: 'Hostname', address: node.name },
      ],
    },
  };
}

/** All documents, in a fixed order: Nodes, then Services, then EndpointSlices. */
export function clusterManifests(state: SandboxState): JsonObject[] {
  const slices = buildEndpointSlices(state.services, state.pods, state.inputSlices);
  return [
    ...state.nodes.map(nodeManifest),
    ...state.services.map(serviceManifest),
    ...slices.map((s) => endpointSliceManifest(s, state.pods)),
  ];
}

export function renderManifests(state: SandboxState): string {
  const header = `# Written by kproxy sandbox "${state.name}" (run ${state.id}); rewritten on every change.\n`;
  return header + clusterManifests(state).map((doc) => stringify(doc, { lineWidth: 0 })).join('---\n');
}
