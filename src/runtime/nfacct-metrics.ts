/**
 * kube-proxy's two packet counters of the iptables mode, read from the kernel's nfacct objects
 * its rules count into (`-m nfacct --nfacct-name ...`) at each scrape, as kube-proxy's custom
 * collectors do: kubeproxy_iptables_ct_state_invalid_dropped_packets_total and
 * kubeproxy_iptables_localhost_nodeports_accepted_packets_total. A counter that does not exist
 * (no nfacct tool, or the rules were rendered without it) publishes no sample.
 */
import { Counter } from 'prom-client';
import { NFACCT_CT_STATE_INVALID_DROPPED, NFACCT_LOCALHOST_NODEPORTS_ACCEPTED } from '../dataplanes/iptables/host.js';
import { runCommand } from './exec/index.js';
import type { ProxyMetrics } from './metrics.js';

/** Reads an nfacct object's packet count; null when it cannot be read. */
export type NfacctReader = (name: string) => Promise<number | null>;

/** The packet count in `nfacct get NAME` output: `{ pkts = 00000000000000000042, bytes = ... } = NAME;`. */
export function parseNfacctPackets(output: string, name: string): number | null {
  for (const line of output.split('\n')) {
    const m = /^\{\s*pkts\s*=\s*(\d+)\s*,\s*bytes\s*=\s*\d+\s*\}\s*=\s*(\S+?);?\s*$/.exec(line.trim());
    if (m !== null && m[2] === name) return Number(m[1]);
  }
  return null;
}

/** `nfacct get NAME` in this process's network namespace. */
export const readNfacctWithTool: NfacctReader = async (name) => {
  try {
    const r = await runCommand(['nfacct', 'get', name], { allowFailure: true, timeoutMs: 5_000 });
    return r.exitCode === 0 ? parseNfacctPackets(r.stdout, name) : null;
  } catch {
    return null;
  }
};

const COUNTERS = [
  {
    metric: 'kubeproxy_iptables_ct_state_invalid_dropped_packets_total',
    help: 'packets dropped by iptables to work around conntrack problems',
    nfacct: NFACCT_CT_STATE_INVALID_DROPPED,
  },
  {
    metric: 'kubeproxy_iptables_localhost_nodeports_accepted_packets_total',
    help: 'Number of packets accepted on nodeports of loopback interface',
    nfacct: NFACCT_LOCALHOST_NODEPORTS_ACCEPTED,
  },
] as const;

/** Registers the two counters on `metrics` (iptables mode only, as kube-proxy does). */
export function registerNfacctCounters(metrics: ProxyMetrics, read: NfacctReader = readNfacctWithTool): void {
  for (const c of COUNTERS) {
    new Counter({
      name: c.metric,
      help: c.help,
      // Never set: a label-less prom-client metric always shows a sample (0 after reset), one with
      // a declared label shows none until set, which is how an unreadable counter stays absent.
      labelNames: ['nfacct'],
      registers: [metrics.registry],
      async collect() {
        const packets = await read(c.nfacct);
        this.reset();
        if (packets !== null) this.inc(packets);
      },
    });
  }
}
