/**
 * Completes the input with the EndpointSlices a cluster's controllers would have written, for
 * every Service that has none in the input: mirrored from its v1 Endpoints when they exist
 * (and are not marked skip-mirror), otherwise derived from its Pods when it has a selector.
 * Given EndpointSlices always win, then Endpoints, then Pods.
 */
import type { DiagnosticSink } from '../model/diagnostics.js';
import type { ClusterObjects, EndpointSlice, Endpoints, Node, Pod } from '../model/objects.js';
import { mirrorEndpoints, shouldMirror } from './mirror.js';
import { slicesFromPods } from './pod-slices.js';
import { SliceNamer } from './slice-names.js';
import { byMeta, keyOf } from './sort.js';

function groupPods(pods: readonly Pod[]): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const pod of byMeta(pods)) {
    const list = out.get(pod.meta.namespace) ?? [];
    list.push(pod);
    out.set(pod.meta.namespace, list);
  }
  return out;
}

export function completeEndpointSlices(objects: ClusterObjects, sink: DiagnosticSink): ClusterObjects {
  const covered = new Set<string>();
  for (const s of objects.endpointSlices) {
    if (s.serviceName !== null) covered.add(`${s.meta.namespace}/${s.serviceName}`);
  }
  const endpointsByKey = new Map<string, Endpoints>(objects.endpoints.map((e) => [keyOf(e.meta), e]));
  const podsByNamespace = groupPods(objects.pods);
  const nodes: ReadonlyMap<string, Node> | null =
    objects.nodes.length === 0 ? null : new Map(objects.nodes.map((n) => [n.meta.name, n]));
  const namer = new SliceNamer(objects.endpointSlices);
  const derived: EndpointSlice[] = [];
  for (const svc of byMeta(objects.services)) {
    const key = keyOf(svc.meta);
    if (covered.has(key)) continue;
    const ep = endpointsByKey.get(key);
    if (ep !== undefined && shouldMirror(ep)) {
      derived.push(...mirrorEndpoints(ep, namer, sink));
    } else if (svc.selector !== null && svc.type !== 'ExternalName') {
      const pods = podsByNamespace.get(svc.meta.namespace) ?? [];
      derived.push(...slicesFromPods(svc, { pods, nodes }, namer, sink));
    }
  }
  if (derived.length === 0) return objects;
  return { ...objects, endpointSlices: byMeta([...objects.endpointSlices, ...derived]) };
}
