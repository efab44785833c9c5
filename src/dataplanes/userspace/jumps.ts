/**
 * The jumps from the built-in chains to the userspace mode's chains (kube-proxy's iptablesInit,
 * reference B.3): portals first (prepended), node ports last (appended), and the filter INPUT
 * jump that lets redirected node-port traffic through default-deny policies.
 */
import { quoteWord } from '../iptables/serialize.js';
import type { TableName } from '../iptables/model.js';
import {
  KUBE_NODEPORT_CONTAINER,
  KUBE_NODEPORT_HOST,
  KUBE_NODEPORT_NON_LOCAL,
  KUBE_PORTALS_CONTAINER,
  KUBE_PORTALS_HOST,
} from './render.js';

export type JumpPosition = 'prepend' | 'append';

export interface UserspaceJump {
  readonly table: TableName;
  readonly chain: string;
  readonly target: string;
  readonly position: JumpPosition;
  readonly words: readonly string[];
}

const PORTALS_COMMENT = 'handle ClusterIPs; NOTE: this must be before the NodePort rules';
const NODEPORTS_COMMENT = 'handle service NodePorts; NOTE: this must be the last rule in the chain';
const NON_LOCAL_COMMENT = 'Ensure that non-local NodePort traffic can flow';

function jump(table: TableName, chain: string, target: string, position: JumpPosition, matches: readonly string[]): UserspaceJump {
  return { table, chain, target, position, words: [...matches, '-j', target] };
}

/** In kube-proxy's installation order. */
export function userspaceJumps(): UserspaceJump[] {
  const portals = ['-m', 'comment', '--comment', PORTALS_COMMENT];
  const nodePorts = ['-m', 'addrtype', '--dst-type', 'LOCAL', '-m', 'comment', '--comment', NODEPORTS_COMMENT];
  return [
    jump('nat', 'PREROUTING', KUBE_PORTALS_CONTAINER, 'prepend', portals),
    jump('nat', 'OUTPUT', KUBE_PORTALS_HOST, 'prepend', portals),
    jump('nat', 'PREROUTING', KUBE_NODEPORT_CONTAINER, 'append', nodePorts),
    jump('nat', 'OUTPUT', KUBE_NODEPORT_HOST, 'append', nodePorts),
    jump('filter', 'INPUT', KUBE_NODEPORT_NON_LOCAL, 'prepend', ['-m', 'comment', '--comment', NON_LOCAL_COMMENT]),
  ];
}

/** `rules --show-jumps` for the userspace mode: the commands that install the jumps. */
export function userspaceJumpText(tool: 'iptables' | 'ip6tables'): string {
  const lines = [
    '# Applied after the restore input, in this order: -I inserts at the top of the chain, -A appends,',
    '# each only when an identical rule is not already there (-C).',
  ];
  for (const j of userspaceJumps()) {
    const op = j.position === 'prepend' ? '-I' : '-A';
    lines.push(`${tool} -t ${j.table} ${op} ${j.chain} ${j.words.map(quoteWord).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}
