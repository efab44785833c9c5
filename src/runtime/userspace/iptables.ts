/**
 * The userspace mode's iptables effects beyond the restore transaction: the jumps from the
 * built-in chains (prepended or appended unless already present, as kube-proxy's EnsureRule)
 * and the removal of UDP flows to a service that is gone.
 */
import type { IPFamily } from '../../core/model/objects.js';
import type { UserspaceJump } from '../../dataplanes/userspace/jumps.js';
import { runCommand } from '../exec/index.js';
import type { IptablesTool } from '../iptables/tool.js';

const WAIT_FLAGS = ['-w', '5', '-W', '100000'];

/** Installs each jump unless an identical rule exists; returns how many were added. */
export async function ensureJumps(tool: IptablesTool, jumps: readonly UserspaceJump[]): Promise<number> {
  let added = 0;
  for (const j of jumps) {
    await tool.ensureChain(j.table, j.target);
    if (j.position === 'prepend') {
      if (await tool.ensureRulePrepended(j.table, j.chain, j.words)) added++;
      continue;
    }
    const check = await runCommand([tool.iptables, ...WAIT_FLAGS, '-t', j.table, '-C', j.chain, ...j.words], {
      allowFailure: true,
      timeoutMs: 60_000,
    });
    if (check.exitCode === 0) continue;
    await runCommand([tool.iptables, ...WAIT_FLAGS, '-t', j.table, '-A', j.chain, ...j.words], { timeoutMs: 60_000 });
    added++;
  }
  return added;
}

/** Deletes every jump (cleanup); missing rules are fine. */
export async function deleteJumps(tool: IptablesTool, jumps: readonly UserspaceJump[]): Promise<void> {
  for (const j of jumps) await tool.deleteRule(j.table, j.chain, j.words);
}

export interface UdpDestinations {
  readonly ips: readonly string[];
  readonly nodePorts: readonly number[];
}

/** `conntrack -D` of UDP flows to the given service IPs and node ports; returns how many went. */
export async function clearUdpFlows(family: IPFamily, dest: UdpDestinations): Promise<number> {
  const fam = family === 'IPv4' ? 'ipv4' : 'ipv6';
  const runs = [
    ...dest.ips.map((ip) => ['--orig-dst', ip]),
    ...dest.nodePorts.map((p) => ['--orig-port-dst', String(p)]),
  ];
  let deleted = 0;
  for (const match of runs) {
    const r = await runCommand(['conntrack', '-D', '-f', fam, '-p', 'udp', ...match], { allowFailure: true, timeoutMs: 30_000 });
    const n = /(\d+) flow entries have been deleted/.exec(r.stderr + r.stdout)?.[1];
    deleted += n === undefined ? 0 : Number(n);
  }
  return deleted;
}
