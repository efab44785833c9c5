/**
 * UDP conntrack cleanup with the `conntrack` tool, in this process's network namespace:
 * list the UDP flows, let core decide which are stale (src/core/policy/conntrack.ts), delete them.
 */
import type { DesiredState } from '../core/desired/types.js';
import type { IPFamily } from '../core/model/objects.js';
import { staleConntrackEntries, type ConntrackEntry } from '../core/policy/conntrack.js';
import { runCommand } from './exec/index.js';

/** Parses `conntrack -L` lines: the first src/dst/dport are the original direction, the second src the reply. */
export function parseConntrackList(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const proto = /^(\w+)\s+\d+/.exec(line.trim())?.[1];
    if (proto === undefined) continue;
    const srcs = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1] ?? '');
    const dsts = [...line.matchAll(/\bdst=(\S+)/g)].map((m) => m[1] ?? '');
    const dport = /\bdport=(\d+)/.exec(line)?.[1];
    const origDst = dsts[0];
    const replySrc = srcs[1];
    if (origDst === undefined || replySrc === undefined || dport === undefined) continue;
    out.push({ protocol: proto, origDst, origDstPort: Number(dport), replySrc });
  }
  return out;
}

/** Deletes UDP flows that point at endpoints the state no longer serves; returns how many were deleted. */
export async function cleanStaleUdpFlows(family: IPFamily, state: DesiredState): Promise<number> {
  const fam = family === 'IPv4' ? 'ipv4' : 'ipv6';
  const listed = await runCommand(['conntrack', '-L', '-f', fam, '-p', 'udp'], { allowFailure: true, timeoutMs: 30_000 });
  const stale = staleConntrackEntries(state, parseConntrackList(listed.stdout));
  let deleted = 0;
  for (const d of stale) {
    const args = ['conntrack', '-D', '-f', fam, '-p', 'udp'];
    if (d.origDst !== null) args.push('--orig-dst', d.origDst);
    if (d.origDstPort !== null) args.push('--orig-port-dst', String(d.origDstPort));
    args.push('--reply-src', d.replySrc);
    const r = await runCommand(args, { allowFailure: true, timeoutMs: 30_000 });
    const n = /(\d+) flow entries have been deleted/.exec(r.stderr + r.stdout)?.[1];
    deleted += n === undefined ? 0 : Number(n);
  }
  return deleted;
}
