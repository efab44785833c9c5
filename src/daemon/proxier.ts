/**
 * The daemon's orchestration: sources → desired state per family → syncers, driven by the
 * bounded-frequency runner; health and metrics follow every queued and applied update.
 */
import { buildDesiredState } from '../core/desired/build.js';
import type { DesiredState } from '../core/desired/types.js';
import { noteFilteredObjects } from '../core/desired/proxy-filter.js';
import type { ProxyConfig } from '../core/model/config.js';
import { DiagnosticSink, formatDiagnostic } from '../core/model/diagnostics.js';
import type { ClusterObjects, IPFamily } from '../core/model/objects.js';
import { findNode, nodeEligible } from '../core/desired/node.js';
import { KproxyError, isKproxyError } from '../core/errors.js';
import type { ProxyHealth } from '../runtime/health.js';
import type { ProxyMetrics } from '../runtime/metrics.js';
import { BoundedFrequencyRunner } from '../runtime/runner.js';
import { ChangeMetrics } from './change-metrics.js';
import type { Logger } from './logger.js';
import type { FamilySyncer, ObjectSource } from './types.js';

export interface ProxierOptions {
  readonly config: ProxyConfig;
  readonly syncers: readonly FamilySyncer[];
  readonly source: ObjectSource;
  readonly log: Logger;
  readonly metrics: ProxyMetrics;
  readonly health: ProxyHealth;
  /** Runs after every successful sync with each family's desired state (service health checks). */
  readonly afterSync?: (states: readonly DesiredState[]) => Promise<void>;
}

/** The families whose sync failed (the log names them), with the first failure's message. */
class FamilySyncFailure extends KproxyError {
  readonly families: readonly IPFamily[];

  constructor(failures: readonly { family: IPFamily; error: Error }[]) {
    const first = failures[0]?.error;
    super(isKproxyError(first) ? first.code : 'E_INTERNAL', first?.message ?? 'sync failed', { cause: first });
    this.families = failures.map((f) => f.family);
  }
}

export class Proxier {
  private readonly runner: BoundedFrequencyRunner;
  private lastDiagnostics = '';
  private syncs = 0;
  private readonly firstSync: Promise<void>;
  private resolveFirstSync: () => void = () => undefined;
  private readonly changes: ChangeMetrics;

  constructor(private readonly opts: ProxierOptions) {
    const c = opts.config;
    this.changes = new ChangeMetrics(opts.metrics);
    this.runner = new BoundedFrequencyRunner(
      () => this.syncAll(),
      {
        minIntervalMs: c.minSyncPeriodSeconds * 1000,
        maxIntervalMs: c.syncPeriodSeconds * 1000,
        retryIntervalMs: c.syncPeriodSeconds * 1000,
        // Retries back off from the minimum sync period (at least 1 s) up to the sync period.
        firstRetryMs: Math.max(1000, c.minSyncPeriodSeconds * 1000),
      },
      (err) =>
        opts.log.error('sync failed; the next sync is full', {
          ...(err instanceof FamilySyncFailure ? { family: err.families.join(',') } : {}),
          error: err instanceof Error ? err.message : String(err),
          retryInSeconds: this.runner.retryDelay() / 1000,
        }),
    );
    this.firstSync = new Promise((resolve) => {
      this.resolveFirstSync = resolve;
    });
  }

  get families(): IPFamily[] {
    return this.opts.syncers.map((s) => s.family);
  }

  /** Resolves after the first successful sync. */
  whenSynced(): Promise<void> {
    return this.firstSync;
  }

  /** Starts the source and, once it has a complete first view, the sync loop. */
  async start(): Promise<void> {
    // Changes before the first complete view queue nothing: kube-proxy's initial-sync gate.
    let initialized = false;
    await this.opts.source.start(() => {
      if (initialized) this.queueSync();
    });
    await this.opts.source.ready();
    initialized = true;
    this.runner.start();
    this.queueSync();
  }

  /** The sources changed: ask for a sync (coalesced and rate-limited by the runner). */
  queueSync(): void {
    for (const f of this.families) {
      this.opts.health.queuedUpdate(f);
      this.opts.metrics.lastQueuedTimestamp.set({ ip_family: f }, Date.now() / 1000);
    }
    this.runner.run();
  }

  async stop(): Promise<void> {
    await this.opts.source.close();
    await this.runner.stop();
    for (const s of this.opts.syncers) await s.close?.();
  }

  private reportDiagnostics(sink: DiagnosticSink): void {
    const text = sink.all.map(formatDiagnostic).join('\n');
    if (text === this.lastDiagnostics) return;
    this.lastDiagnostics = text;
    const log = this.opts.log;
    for (const d of sink.all) {
      const fields = { diagnostic: formatDiagnostic(d) };
      if (d.severity === 'error') log.error('input', fields);
      else if (d.severity === 'warning') log.warn('input', fields);
      else log.info('input', fields);
    }
  }

  private async syncAll(): Promise<void> {
    const sink = new DiagnosticSink();
    const objects = await this.opts.source.load(sink);
    this.changes.observe(objects);
    noteFilteredObjects(objects, this.opts.config.serviceProxyName, sink);
    this.updateNodeEligibility(objects);
    const failures: { family: IPFamily; error: Error }[] = [];
    const states: DesiredState[] = [];
    for (const syncer of this.opts.syncers) {
      const state = buildDesiredState(objects, this.opts.config, syncer.family, sink);
      states.push(state);
      try {
        const r = await syncer.sync(state);
        this.opts.health.updated(syncer.family);
        this.opts.log.info('synced proxy rules', {
          family: syncer.family,
          full: r.full,
          servicePorts: state.servicePorts.length,
          changedServices: r.changedServices,
          rules: r.rulesWritten,
          conntrackDeleted: r.conntrackDeleted,
          durationMs: r.durationMs,
        });
      } catch (err) {
        failures.push({ family: syncer.family, error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
    this.reportDiagnostics(sink);
    if (failures.length > 0) throw new FamilySyncFailure(failures);
    this.changes.applied(this.families);
    await this.opts.afterSync?.(states).catch((err: unknown) => {
      this.opts.log.error('after-sync step failed', { error: err instanceof Error ? err.message : String(err) });
    });
    this.syncs++;
    if (this.syncs === 1) this.resolveFirstSync();
  }

  private updateNodeEligibility(objects: ClusterObjects): void {
    const node = findNode(objects, this.opts.config.nodeName);
    this.opts.health.nodeEligible = nodeEligible(node, this.opts.source.watchesNode === true);
  }
}
