/**
 * What changed between two desired states of one family: the services whose rules must be
 * rewritten on a partial sync (kube-proxy tracks the same through its change trackers), and
 * whether something global changed (which needs a full sync).
 */
import { serviceName } from '../naming/service-port-name.js';
import type { DesiredState, ServicePortState } from '../desired/types.js';

/** `namespace/name` → a stable text of everything rendered for that Service's ports. */
function serviceFingerprints(state: DesiredState): Map<string, string> {
  const grouped = new Map<string, ServicePortState[]>();
  for (const sp of state.servicePorts) {
    const name = serviceName(sp.info.key);
    const list = grouped.get(name) ?? [];
    list.push(sp);
    grouped.set(name, list);
  }
  const out = new Map<string, string>();
  for (const [name, list] of grouped) out.set(name, JSON.stringify(list));
  return out;
}

/** Everything in the state that is not per service. */
function globalFingerprint(state: DesiredState): string {
  const { servicePorts: _servicePorts, totalEndpoints: _totalEndpoints, ...rest } = state;
  return JSON.stringify(rest);
}

export interface StateChange {
  /** A global setting changed: every per-service chain must be rewritten. */
  readonly globalChanged: boolean;
  /** Services (`namespace/name`) added, removed or changed, sorted. */
  readonly changedServices: readonly string[];
}

export function diffStates(previous: DesiredState | null, next: DesiredState): StateChange {
  const after = serviceFingerprints(next);
  if (previous === null) return { globalChanged: true, changedServices: [...after.keys()].sort() };
  const before = serviceFingerprints(previous);
  const changed = new Set<string>();
  for (const [name, text] of after) if (before.get(name) !== text) changed.add(name);
  for (const name of before.keys()) if (!after.has(name)) changed.add(name);
  return {
    globalChanged: globalFingerprint(previous) !== globalFingerprint(next),
    changedServices: [...changed].sort(),
  };
}
