/**
 * One IP family's userspace-mode sync: plan the listeners (core's policy decides endpoints and
 * verdicts), make the proxy's listeners match (ports stay put for frontends that remain), then
 * program the portal rules that send service traffic to those ports, with one
 * iptables-restore --noflush transaction. A failed apply makes the next sync install the jumps
 * again; the proxy itself keeps serving what it had.
 */
import type { DesiredState } from '../core/desired/types.js';
import { diffStates } from '../core/tracker/changes.js';
import { planListeners, type ListenerPlan } from '../dataplanes/userspace/plan.js';
import { renderUserspaceReport } from '../dataplanes/userspace/render.js';
import { userspaceJumps } from '../dataplanes/userspace/jumps.js';
import { serializeRuleset } from '../dataplanes/iptables/serialize.js';
import type { IptablesTool } from '../runtime/iptables/tool.js';
import { setNoLocalEndpoints, type ProxyMetrics } from '../runtime/metrics.js';
import { firstHostAddress } from '../runtime/userspace/host-ip.js';
import { clearUdpFlows, ensureJumps, type UdpDestinations } from '../runtime/userspace/iptables.js';
import type { UserspaceProxy } from '../runtime/userspace/proxy.js';
import { cleanupIptables } from './cleanup.js';
import { countRules, FULL_SYNC_PERIOD_MS } from './iptables-syncer.js';
import type { Logger } from './logger.js';
import type { FamilySyncer, SyncResult } from './types.js';

export class UserspaceFamilySyncer implements FamilySyncer {
  private previousPlan: ListenerPlan | null = null;
  private committed: DesiredState | null = null;
  private needJumps = true;
  private lastFullSync = 0;
  private leftoversCleaned = false;
  private warnedNoHostIP = false;
  private readonly reportedSkips = new Set<string>();

  constructor(
    private readonly tool: IptablesTool,
    readonly proxy: UserspaceProxy,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
  ) {}

  get family(): DesiredState['family'] {
    return this.tool.family;
  }

  forceFullSync(): void {
    this.needJumps = true;
  }

  async sync(state: DesiredState): Promise<SyncResult> {
    const started = Date.now();
    const full = this.needJumps || started - this.lastFullSync > FULL_SYNC_PERIOD_MS;
    const labels = { ip_family: this.family };
    if (!this.leftoversCleaned) {
      // As kube-proxy's userspace mode did: the iptables mode's rules would catch the traffic first.
      const report = await cleanupIptables(this.tool);
      if (report.deletedChains > 0) this.log.info('removed the iptables mode\'s chains', { family: this.family, chains: report.deletedChains });
      this.leftoversCleaned = true;
    }
    const change = diffStates(this.committed, state);
    const plan = planListeners(state);
    this.reportSkips(plan);
    const ports = await this.proxy.reconcile(plan);
    const hostIP = state.nodeIPs[0] ?? firstHostAddress(this.family);
    // Only a family checked at start is sure to have an address; another one (IPv6 on an IPv4 host)
    // still serves pods and outside clients, without the node's own traffic.
    const { ruleset, omittedServicePorts } = renderUserspaceReport({
      state, plan, ports, host: { listenIP: this.proxy.listenIP, hostIP }, unknownHostIP: 'omit',
    });
    if (omittedServicePorts.length > 0 && !this.warnedNoHostIP) {
      this.warnedNoHostIP = true;
      this.log.warn("the node's own traffic to these services is not proxied: this host has no address of the family (give --node-ip)", {
        family: this.family, servicePorts: omittedServicePorts.join(','),
      });
    }
    const text = serializeRuleset(ruleset);
    try {
      await this.tool.restore(text);
      if (full) await ensureJumps(this.tool, userspaceJumps());
    } catch (err) {
      this.needJumps = true;
      this.metrics.restoreFailures.inc(labels);
      throw err;
    }
    this.needJumps = false;
    if (full) this.lastFullSync = started;
    this.proxy.balancer.cleanupStaleSessions();

    const conntrackDeleted = await this.clearRemovedUdpServices(plan);
    this.previousPlan = plan;
    this.committed = state;
    const durationMs = Date.now() - started;
    const rulesPerTable = countRules(text);
    this.metrics.syncDuration.observe(labels, durationMs / 1000);
    this.metrics.syncFullDuration.observe(labels, durationMs / 1000);
    this.metrics.lastSyncTimestamp.set(labels, Date.now() / 1000);
    for (const [table, n] of rulesPerTable) {
      this.metrics.rulesLast.set({ ...labels, table }, n);
      this.metrics.rulesTotal.set({ ...labels, table }, n);
    }
    setNoLocalEndpoints(this.metrics, state);
    return {
      full: true,
      changedServices: change.changedServices.length,
      rulesWritten: rulesPerTable.reduce((n, [, c]) => n + c, 0),
      conntrackDeleted,
      durationMs,
    };
  }

  async close(): Promise<void> {
    await this.proxy.close();
  }

  private reportSkips(plan: ListenerPlan): void {
    for (const s of plan.skipped) {
      if (this.reportedSkips.has(s.spn)) continue;
      this.reportedSkips.add(s.spn);
      this.log.warn('service port not proxied', { servicePort: s.spn, reason: s.reason });
    }
  }

  /** kube-proxy deleted the conntrack entries of a UDP service that went away. */
  private async clearRemovedUdpServices(plan: ListenerPlan): Promise<number> {
    if (this.previousPlan === null) return 0;
    const now = new Set(plan.servicePorts.map((s) => s.internal.id));
    const ips = new Set<string>();
    const nodePorts = new Set<number>();
    for (const s of this.previousPlan.servicePorts) {
      if (s.internal.protocol !== 'UDP' || now.has(s.internal.id)) continue;
      const info = s.sp.info;
      for (const ip of [info.clusterIP, ...info.externalIPs, ...info.loadBalancerVIPs]) ips.add(ip);
      if (info.nodePort !== 0) nodePorts.add(info.nodePort);
    }
    if (ips.size === 0 && nodePorts.size === 0) return 0;
    try {
      const gone: UdpDestinations = { ips: [...ips].sort(), nodePorts: [...nodePorts].sort((a, b) => a - b) };
      const n = await clearUdpFlows(this.family, gone);
      this.metrics.conntrackDeleted.inc({ ip_family: this.family }, n);
      return n;
    } catch (err) {
      this.log.warn('conntrack cleanup failed', { family: this.family, error: String(err) });
      return 0;
    }
  }
}
