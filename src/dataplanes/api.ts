/**
 * What every dataplane renderer shares. A renderer is pure: it turns a DesiredState (and, for a
 * partial sync, what changed since the last one) into the exact text its kernel tool reads.
 */
import type { DesiredState } from '../core/desired/types.js';

export interface SyncScope {
  /** Full: rewrite every per-service object. Partial: only services named in `changedServices`. */
  readonly full: boolean;
  /** `namespace/name` of services whose Service or endpoints changed since the last successful sync. */
  readonly changedServices: ReadonlySet<string>;
}

export const FULL_SYNC: SyncScope = { full: true, changedServices: new Set() };

export interface RenderInput<HostState> {
  readonly state: DesiredState;
  readonly scope: SyncScope;
  /** What the renderer needs to know about the kernel it writes to (existing chains, capabilities). */
  readonly host: HostState;
}
