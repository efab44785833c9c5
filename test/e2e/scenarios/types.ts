import type { ProxyMode } from '../../../src/core/model/config.js';
import type { Sandbox, TrafficResult } from '../../../src/runtime/sandbox/index.js';
import type { GroupName } from './groups.js';
import type { Probe, ResolvedProbe } from './probes.js';

export interface ScenarioContext {
  readonly mode: ProxyMode;
  readonly sb: Sandbox;
  /** Sends a probe and records the observation. */
  send(p: Probe): Promise<TrafficResult>;
  /**
   * Sends the probe until `check` accepts the result (the proxy syncs after a change); returns that
   * result. With an observer, then sends it once more and reports that probe (`settled`).
   */
  eventually(p: Probe, check: (r: TrafficResult) => boolean, what: string, timeoutMs?: number): Promise<TrafficResult>;
  /** Names of the running pods with label app=APP, optionally on one node. */
  podsOf(app: string, node?: string): string[];
}

export interface Scenario {
  readonly name: string;
  readonly group: GroupName;
  /** Modes where the scenario cannot hold by nature, with the reason (not a skip). */
  readonly notApplicable?: Partial<Record<ProxyMode, string>>;
  run(ctx: ScenarioContext): Promise<void>;
}

/** What the harness reports after each probe (the tracer's differential test listens). */
export interface Observation {
  readonly scenario: string;
  readonly probe: Probe;
  readonly resolved: ResolvedProbe;
  readonly result: TrafficResult;
  /**
   * Set for a probe `ctx.eventually` sends once its check accepted (the change has settled): what
   * it waited for. Such a probe is only observed, not checked by the scenario.
   */
  readonly settled?: string;
}
