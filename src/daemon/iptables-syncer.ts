/**
 * One IP family's iptables sync, as kube-proxy's syncProxyRules does it: render against what
 * the kernel holds (stale chains), apply with iptables-restore --noflush, install the jumps
 * from the built-in chains on full syncs, keep the committed state in memory. A failed apply
 * makes the next sync full.
 */
import type { DesiredState } from '../core/desired/types.js';
import type { RuleFormat } from '../core/naming/service-port-name.js';
import { conntrackCleanupRequired } from '../core/policy/conntrack.js';
import { diffStates } from '../core/tracker/changes.js';
import type { IptablesCapabilities } from '../dataplanes/iptables/host.js';
import { jumpRules } from '../dataplanes/iptables/jumps.js';
import { renderIptablesText } from '../dataplanes/iptables/render.js';
import { RuleCounts } from '../dataplanes/iptables/rule-counts.js';
import { cleanStaleUdpFlows } from '../runtime/conntrack.js';
import { setNoLocalEndpoints, type ProxyMetrics } from '../runtime/metrics.js';
import { ensureRouteLocalnet, type IptablesTool } from '../runtime/iptables/tool.js';
import type { Logger } from './logger.js';
import { cleanupUserspace } from './userspace-cleanup.js';
import type { FamilySyncer, SyncResult } from './types.js';

/** kube-proxy rewrites everything at least this often (FullSyncPeriod). */
export const FULL_SYNC_PERIOD_MS = 60 * 60 * 1000;

export class IptablesFamilySyncer implements FamilySyncer {
  private committed: DesiredState | null = null;
  private needFullSync = true;
  private lastFullSync = 0;
  private capabilities: IptablesCapabilities | null = null;
  private leftoversCleaned = false;
  private routeLocalnetChecked = false;
  private readonly ruleCounts = new RuleCounts();

  constructor(
    private readonly tool: IptablesTool,
    private readonly format: RuleFormat,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
    private readonly tcpBeLiberalOverride: boolean,
  ) {}

  get family(): DesiredState['family'] {
    return this.tool.family;
  }

  /** Forces the next sync to be full (a flushed table, a topology change…). */
  forceFullSync(): void {
    this.needFullSync = true;
  }

  async sync(state: DesiredState): Promise<SyncResult> {
    const started = Date.now();
    const change = diffStates(this.committed, state);
    const full = this.needFullSync || change.globalChanged || started - this.lastFullSync > FULL_SYNC_PERIOD_MS;
    const labels = { ip_family: this.family };
    if (!this.leftoversCleaned) {
      // As kube-proxy does when it starts: the userspace mode's portal jumps would catch the traffic first.
      const report = await cleanupUserspace(this.tool);
      if (report.deletedChains > 0) {
        this.log.info("removed the userspace mode's chains", { family: this.family, chains: report.deletedChains });
      }
      this.leftoversCleaned = true;
    }
    if (state.localhostNodePorts && !this.routeLocalnetChecked) this.enableRouteLocalnet();
    if (full || this.capabilities === null) {
      const detected = await this.tool.capabilities();
      this.capabilities = { ...detected, tcpBeLiberal: detected.tcpBeLiberal || this.tcpBeLiberalOverride };
    }
    const existingNatChains = await this.tool.listChains('nat');
    const text = renderIptablesText(
      {
        state,
        scope: { full, changedServices: new Set(change.changedServices) },
        host: { capabilities: this.capabilities, existingNatChains },
      },
      this.format,
    );
    if (full) await this.installJumps();
    try {
      await this.tool.restore(text);
    } catch (err) {
      this.needFullSync = true;
      this.metrics.restoreFailures.inc(labels);
      if (!full) this.metrics.partialRestoreFailures.inc(labels);
      throw err;
    }
    this.ruleCounts.apply(text);
    const previous = this.committed;
    this.committed = state;
    this.needFullSync = false;
    if (full) this.lastFullSync = started;

    let conntrackDeleted = 0;
    if (conntrackCleanupRequired(previous, state, change.changedServices)) {
      try {
        conntrackDeleted = await cleanStaleUdpFlows(this.family, state);
        this.metrics.conntrackDeleted.inc(labels, conntrackDeleted);
      } catch (err) {
        this.log.warn('conntrack cleanup failed', { family: this.family, error: String(err) });
      }
    }
    const durationMs = Date.now() - started;
    const rulesPerTable = countRules(text);
    this.recordMetrics(state, rulesPerTable, full, durationMs);
    const rulesWritten = rulesPerTable.reduce((n, [, count]) => n + count, 0);
    return { full, changedServices: change.changedServices.length, rulesWritten, conntrackDeleted, durationMs };
  }

  /** Once per process; a failure leaves the other rules working, so it is logged, not fatal. */
  private enableRouteLocalnet(): void {
    this.routeLocalnetChecked = true;
    try {
      if (ensureRouteLocalnet() === 'set') {
        this.log.info(
          'setting route_localnet=1 to allow node ports on localhost; to change this, disable --iptables-localhost-nodeports or set --nodeport-addresses to filter out loopback addresses',
        );
      }
    } catch (err) {
      this.log.error('cannot set net.ipv4.conf.all.route_localnet=1: node ports on 127.0.0.1 will not answer', {
        error: String(err),
      });
    }
  }

  private async installJumps(): Promise<void> {
    for (const jump of jumpRules(this.format, { legacyKubeletFirewall: this.format === 'legacy' })) {
      await this.tool.ensureChain(jump.table, jump.target);
      await this.tool.ensureRulePrepended(jump.table, jump.chain, jump.words);
    }
  }

  private recordMetrics(
    state: DesiredState,
    rulesPerTable: readonly (readonly [string, number])[],
    full: boolean,
    durationMs: number,
  ): void {
    const labels = { ip_family: this.family };
    const seconds = durationMs / 1000;
    this.metrics.syncDuration.observe(labels, seconds);
    (full ? this.metrics.syncFullDuration : this.metrics.syncPartialDuration).observe(labels, seconds);
    this.metrics.lastSyncTimestamp.set(labels, Date.now() / 1000);
    for (const [table, n] of rulesPerTable) this.metrics.rulesLast.set({ ...labels, table }, n);
    for (const [table, n] of this.ruleCounts.totals()) this.metrics.rulesTotal.set({ ...labels, table }, n);
    setNoLocalEndpoints(this.metrics, state);
  }
}

/** `[table, rule count]` of restore text, in table order. */
export function countRules(text: string): [string, number][] {
  const out: [string, number][] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) out.push([line.slice(1), 0]);
    else if (line.startsWith('-A ')) {
      const last = out[out.length - 1];
      if (last !== undefined) last[1]++;
    }
  }
  return out;
}
