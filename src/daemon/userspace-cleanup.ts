/**
 * Removing the userspace mode's rules (kube-proxy's --cleanup did this for its userspace mode):
 * the five jumps, then the five chains, flushed and deleted in one restore per table.
 */
import { userspaceJumps } from '../dataplanes/userspace/jumps.js';
import { USERSPACE_FILTER_CHAINS, USERSPACE_NAT_CHAINS } from '../dataplanes/userspace/render.js';
import type { IptablesTool } from '../runtime/iptables/tool.js';
import { deleteJumps } from '../runtime/userspace/iptables.js';
import { deletionText, type CleanupReport } from './cleanup.js';

export async function cleanupUserspace(tool: IptablesTool): Promise<CleanupReport> {
  await deleteJumps(tool, userspaceJumps());
  let text = '';
  let deleted = 0;
  for (const [table, owned] of [['nat', USERSPACE_NAT_CHAINS], ['filter', USERSPACE_FILTER_CHAINS]] as const) {
    const existing = new Set(await tool.listChains(table));
    const chains = owned.filter((c) => existing.has(c));
    deleted += chains.length;
    text += deletionText(table, chains);
  }
  if (text !== '') await tool.restore(text);
  return { family: tool.family, deletedChains: deleted };
}
