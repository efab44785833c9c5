/**
 * kube-proxy's proxy health (reference C.3): per IP family the time of the last successful
 * sync and the oldest queued update; a family is healthy unless an update has waited longer
 * than 2 × syncPeriod. /healthz also needs the node to be eligible (not being deleted).
 */
import type { IPFamily } from '../core/model/objects.js';

interface FamilyHealth {
  lastUpdated: Date;
  oldestPendingQueued: Date | null;
}

export interface FamilyStatus {
  readonly lastUpdated: string;
  readonly healthy: boolean;
}

export interface HealthReport {
  readonly healthy: boolean;
  readonly lastUpdated: string;
  readonly currentTime: string;
  readonly status: Readonly<Record<string, FamilyStatus>>;
}

/** Go's RFC3339Nano: no trailing zeros in the fraction. */
export function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac === '' ? 'Z' : `.${frac}Z`));
}

export class ProxyHealth {
  private readonly families = new Map<IPFamily, FamilyHealth>();
  nodeEligible = true;

  constructor(
    families: readonly IPFamily[],
    private readonly healthTimeoutMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const f of families) this.families.set(f, { lastUpdated: new Date(0), oldestPendingQueued: null });
  }

  queuedUpdate(family: IPFamily): void {
    const h = this.families.get(family);
    if (h !== undefined && h.oldestPendingQueued === null) h.oldestPendingQueued = this.now();
  }

  updated(family: IPFamily): void {
    const h = this.families.get(family);
    if (h === undefined) return;
    h.oldestPendingQueued = null;
    h.lastUpdated = this.now();
  }

  report(): HealthReport {
    const now = this.now();
    const status: Record<string, FamilyStatus> = {};
    let healthy = true;
    let lastUpdated = new Date(0);
    for (const family of [...this.families.keys()].sort()) {
      const h = this.families.get(family);
      if (h === undefined) continue;
      const ok = h.oldestPendingQueued === null || now.getTime() - h.oldestPendingQueued.getTime() < this.healthTimeoutMs;
      healthy &&= ok;
      if (h.lastUpdated > lastUpdated) lastUpdated = h.lastUpdated;
      status[family] = { lastUpdated: rfc3339Nano(h.lastUpdated), healthy: ok };
    }
    // kube-proxy reports the current time as lastUpdated when healthy (a compatibility quirk).
    const shown = healthy ? now : lastUpdated;
    return { healthy, lastUpdated: rfc3339Nano(shown), currentTime: rfc3339Nano(now), status };
  }
}
