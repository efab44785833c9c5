/** The daemon's extension points: one syncer per IP family and dataplane, one object source. */
import type { DesiredState } from '../core/desired/types.js';
import type { DiagnosticSink } from '../core/model/diagnostics.js';
import type { ClusterObjects, IPFamily } from '../core/model/objects.js';

export interface SyncResult {
  readonly full: boolean;
  readonly changedServices: number;
  readonly rulesWritten: number;
  readonly conntrackDeleted: number;
  readonly durationMs: number;
}

/** Programs one family's desired state into one dataplane; keeps what it committed in memory. */
export interface FamilySyncer {
  readonly family: IPFamily;
  sync(state: DesiredState): Promise<SyncResult>;
  /** Makes the next sync rewrite everything. */
  forceFullSync(): void;
  /** Releases what the syncer holds in this process (listeners, timers); kernel state stays. */
  close?(): Promise<void>;
}

/** Where the objects come from (files, the Kubernetes API…). */
export interface ObjectSource {
  /** Starts delivering; `onChange` is called whenever the objects may have changed. */
  start(onChange: () => void): Promise<void>;
  /** The current objects; diagnostics about them go to the sink. */
  load(sink: DiagnosticSink): Promise<ClusterObjects>;
  /** Resolves once the source has a complete first view (kube-proxy's initial-sync gate). */
  ready(): Promise<void>;
  close(): Promise<void>;
  /**
   * True when the source watches this node's Node object, so that its absence means the node
   * is not eligible (kube-proxy); a file source without a Node leaves the node eligible.
   */
  readonly watchesNode?: boolean;
}
