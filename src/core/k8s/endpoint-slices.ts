/**
 * Completes the input with the EndpointSlices a cluster's controllers would have written, for
 * every Service that has none in the input: mirrored from its v1 Endpoints when they exist
 * (and are not marked skip-mirror), otherwise derived from its Pods when it has a selector.
 * Given EndpointSlices always win, then Endpoints, then Pods. Deployments are not expanded
 * here (the sandbox does that): a Service only a Deployment would fill gets a note saying so.
 */
import type { DiagnosticSink } from '../model/diagnostics.js';
import type { ClusterObjects, Deployment, EndpointSlice, Endpoints, Node, Pod, Service } from '../model/objects.js';
import { mirrorEndpoints, shouldMirror } from './mirror.js';
import { selectorMatches, slicesFromPods } from './pod-slices.js';
import { ObjectReporter } from './report.js';
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

export interface CompletionOptions {
  /** The caller turns Deployments into Pods itself (the sandbox, the demo): no note about them. */
  readonly deploymentsExpanded?: boolean;
}

/** A selector Service no Pod fills but a Deployment would: say why it has no endpoints. */
function noteDeploymentOnly(svc: Service, pods: readonly Pod[], deployments: readonly Deployment[], sink: DiagnosticSink): void {
  const selector = svc.selector;
  if (selector === null || pods.some((p) => p.meta.namespace === svc.meta.namespace && selectorMatches(selector, p.meta.labels))) return;
  const selecting = deployments.filter((d) => d.meta.namespace === svc.meta.namespace && selectorMatches(selector, d.podLabels));
  if (selecting.length === 0) return;
  const names = selecting.map((d) => `Deployment ${keyOf(d.meta)} (${d.replicas} replicas)`).join(', ');
  new ObjectReporter(sink, svc.meta.source, 'Service', keyOf(svc.meta)).note(
    'spec.selector',
    `selects no Pod and has no EndpointSlices, so it has no endpoints; only ${names} would create its Pods, and ` +
      'kproxy does not run Deployments: give the Pods or EndpointSlices, or run the manifests with `kproxy sandbox up -f` or `kproxy demo -f`, which do',
  );
}

export function completeEndpointSlices(objects: ClusterObjects, sink: DiagnosticSink, options: CompletionOptions = {}): ClusterObjects {
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
      if (options.deploymentsExpanded !== true) noteDeploymentOnly(svc, pods, objects.deployments, sink);
      derived.push(...slicesFromPods(svc, { pods, nodes }, namer, sink));
    }
  }
  if (derived.length === 0) return objects;
  return { ...objects, endpointSlices: byMeta([...objects.endpointSlices, ...derived]) };
}
