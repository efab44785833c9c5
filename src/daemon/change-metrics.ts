/**
 * kube-proxy's change metrics for any object source: how many Service and EndpointSlice changes
 * arrived (`…_service_changes_total`, `…_endpoint_changes_total`, and `…_pending` until they are
 * applied) and `network_programming_duration_seconds` (from the EndpointSlice annotation
 * `endpoints.kubernetes.io/last-change-trigger-time` to the sync that applied the change).
 */
import type { ClusterObjects, ObjectMeta } from '../core/model/objects.js';
import type { ProxyMetrics } from '../runtime/metrics.js';

export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

function fingerprints(objects: readonly { readonly meta: ObjectMeta }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of objects) {
    // Where an object was read from is not part of it (files may be reordered).
    const { meta, ...rest } = o;
    const { source: _source, ...metaRest } = meta;
    out.set(`${meta.namespace}/${meta.name}`, JSON.stringify({ meta: metaRest, ...rest }));
  }
  return out;
}

function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys: string[] = [];
  for (const [k, v] of after) if (before.get(k) !== v) keys.push(k);
  for (const k of before.keys()) if (!after.has(k)) keys.push(k);
  return keys;
}

export class ChangeMetrics {
  private services = new Map<string, string>();
  private slices = new Map<string, string>();
  private pendingServices = 0;
  private pendingEndpoints = 0;
  /** Trigger times (ms) of slice changes not yet applied. */
  private pendingTriggers: number[] = [];

  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly startedAt: number = Date.now(),
  ) {}

  /** Records the changes these objects bring, before the sync that applies them. */
  observe(objects: ClusterObjects): void {
    const services = fingerprints(objects.services);
    const slices = fingerprints(objects.endpointSlices);
    const changedServices = changedKeys(this.services, services);
    const changedSlices = changedKeys(this.slices, slices);
    this.services = services;
    this.slices = slices;
    this.metrics.serviceChangesTotal.inc(changedServices.length);
    this.metrics.endpointChangesTotal.inc(changedSlices.length);
    this.pendingServices += changedServices.length;
    this.pendingEndpoints += changedSlices.length;
    this.metrics.serviceChangesPending.set(this.pendingServices);
    this.metrics.endpointChangesPending.set(this.pendingEndpoints);
    const byKey = new Map(objects.endpointSlices.map((s) => [`${s.meta.namespace}/${s.meta.name}`, s]));
    for (const key of changedSlices) {
      const text = byKey.get(key)?.meta.annotations[TRIGGER_TIME_ANNOTATION];
      const at = text === undefined ? NaN : Date.parse(text);
      // Deletions and changes older than this process are not observed, as kube-proxy does.
      if (Number.isFinite(at) && at >= this.startedAt) this.pendingTriggers.push(at);
    }
  }

  /** A sync applied everything observed so far. */
  applied(families: readonly string[], now: number = Date.now()): void {
    for (const at of this.pendingTriggers) {
      for (const f of families) this.metrics.networkProgrammingDuration.observe({ ip_family: f }, Math.max(0, now - at) / 1000);
    }
    this.pendingTriggers = [];
    this.pendingServices = 0;
    this.pendingEndpoints = 0;
    this.metrics.serviceChangesPending.set(0);
    this.metrics.endpointChangesPending.set(0);
  }
}
