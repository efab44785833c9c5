/**
 * `kproxy cleanup` (kube-proxy --cleanup, reference §7): delete the jumps kproxy installed in
 * the built-in chains (not kubelet's KUBE-FIREWALL ones), then flush and delete every chain
 * kproxy owns, in one restore per family.
 */
import { jumpRules } from '../dataplanes/iptables/jumps.js';
import type { TableName } from '../dataplanes/iptables/model.js';
import { isLegacyServiceChainName, isServiceChainName } from '../dataplanes/iptables/names.js';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from '../dataplanes/iptables/render-fixed.js';
import type { IptablesTool } from '../runtime/iptables/tool.js';

const CANARY = 'KUBE-PROXY-CANARY';
const OWNED_FIXED: Readonly<Record<'nat' | 'filter', readonly string[]>> = {
  nat: [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ, CANARY],
  filter: [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL, CANARY],
};

export function ownedChains(table: 'nat' | 'filter', existing: readonly string[]): string[] {
  return existing.filter(
    (c) => OWNED_FIXED[table].includes(c) || (table === 'nat' && (isServiceChainName(c) || isLegacyServiceChainName(c))),
  );
}

/** The restore text that flushes and deletes the given chains of one table. */
export function deletionText(table: TableName, chains: readonly string[]): string {
  if (chains.length === 0) return '';
  return [`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
}

export interface CleanupReport {
  readonly family: string;
  readonly deletedChains: number;
}

export async function cleanupIptables(tool: IptablesTool): Promise<CleanupReport> {
  const seen = new Set<string>();
  for (const jump of [...jumpRules('current'), ...jumpRules('legacy')]) {
    if (jump.kubelet) continue;
    const key = `${jump.table} ${jump.chain} ${jump.words.join(' ')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    await tool.deleteRule(jump.table, jump.chain, jump.words);
  }
  let deleted = 0;
  let text = '';
  for (const table of ['nat', 'filter'] as const) {
    const chains = ownedChains(table, await tool.listChains(table));
    deleted += chains.length;
    text += deletionText(table, chains);
  }
  if (text !== '') await tool.restore(text);
  return { family: tool.family, deletedChains: deleted };
}
