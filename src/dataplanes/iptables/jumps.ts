/**
 * The rules kube-proxy installs in the built-in chains (reference §4.2), applied outside the
 * restore transaction with `iptables -N` (the target chain) and `iptables -C` / `-I` (insert at
 * position 1 when an identical rule is absent), in this order, on every full sync.
 */
import type { RuleFormat } from '../../core/naming/service-port-name.js';
import type { TableName } from './model.js';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './render-fixed.js';

export interface JumpRule {
  readonly table: TableName;
  /** The built-in chain the rule is inserted into. */
  readonly chain: string;
  /** The chain it jumps to (created with `iptables -N` first). */
  readonly target: string;
  /** The rule's words, as `iptables -I chain` takes them. */
  readonly words: readonly string[];
  /** Kubelet owns a copy of this rule: cleanup leaves it. */
  readonly kubelet: boolean;
}

interface JumpSpec {
  readonly table: TableName;
  readonly chain: string;
  readonly target: string;
  readonly comment: string;
  readonly newOnly: boolean;
  readonly kubelet?: boolean;
}

const CURRENT: readonly JumpSpec[] = [
  { table: 'filter', chain: 'INPUT', target: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', newOnly: true },
  { table: 'filter', chain: 'FORWARD', target: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', newOnly: true },
  { table: 'filter', chain: 'INPUT', target: KUBE_NODEPORTS, comment: 'kubernetes health check service ports', newOnly: false },
  { table: 'filter', chain: 'FORWARD', target: KUBE_SERVICES, comment: 'kubernetes service portals', newOnly: true },
  { table: 'filter', chain: 'OUTPUT', target: KUBE_SERVICES, comment: 'kubernetes service portals', newOnly: true },
  { table: 'filter', chain: 'FORWARD', target: KUBE_FORWARD, comment: 'kubernetes forwarding rules', newOnly: false },
  { table: 'filter', chain: 'INPUT', target: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', newOnly: true },
  { table: 'filter', chain: 'OUTPUT', target: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', newOnly: true },
  { table: 'filter', chain: 'FORWARD', target: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', newOnly: true },
  { table: 'nat', chain: 'OUTPUT', target: KUBE_SERVICES, comment: 'kubernetes service portals', newOnly: false },
  { table: 'nat', chain: 'PREROUTING', target: KUBE_SERVICES, comment: 'kubernetes service portals', newOnly: false },
  { table: 'nat', chain: 'POSTROUTING', target: KUBE_POSTROUTING, comment: 'kubernetes postrouting rules', newOnly: false },
  { table: 'filter', chain: 'INPUT', target: KUBE_FIREWALL, comment: '', newOnly: false, kubelet: true },
  { table: 'filter', chain: 'OUTPUT', target: KUBE_FIREWALL, comment: '', newOnly: false, kubelet: true },
];

/** v1.18's list (no health-check, load-balancer-firewall or KUBE-FIREWALL jumps). */
const LEGACY: readonly JumpSpec[] = [
  { table: 'filter', chain: 'INPUT', target: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', newOnly: true },
  { table: 'filter', chain: 'FORWARD', target: KUBE_SERVICES, comment: 'kubernetes service portals', newOnly: true },
  { table: 'filter', chain: 'OUTPUT', target: KUBE_SERVICES, comment: 'kubernetes service portals', newOnly: true },
  { table: 'filter', chain: 'INPUT', target: KUBE_SERVICES, comment: 'kubernetes service portals', newOnly: true },
  { table: 'filter', chain: 'FORWARD', target: KUBE_FORWARD, comment: 'kubernetes forwarding rules', newOnly: false },
  { table: 'nat', chain: 'OUTPUT', target: KUBE_SERVICES, comment: 'kubernetes service portals', newOnly: false },
  { table: 'nat', chain: 'PREROUTING', target: KUBE_SERVICES, comment: 'kubernetes service portals', newOnly: false },
  { table: 'nat', chain: 'POSTROUTING', target: KUBE_POSTROUTING, comment: 'kubernetes postrouting rules', newOnly: false },
];

/** kubelet's jumps to its KUBE-FIREWALL chain (which v1.18's KUBE-MARK-DROP relies on). */
const LEGACY_KUBELET: readonly JumpSpec[] = [
  { table: 'filter', chain: 'INPUT', target: KUBE_FIREWALL, comment: '', newOnly: false, kubelet: true },
  { table: 'filter', chain: 'OUTPUT', target: KUBE_FIREWALL, comment: '', newOnly: false, kubelet: true },
];

function toRule(spec: JumpSpec): JumpRule {
  const words: string[] = [];
  if (spec.newOnly) words.push('-m', 'conntrack', '--ctstate', 'NEW');
  if (spec.comment !== '') words.push('-m', 'comment', '--comment', spec.comment);
  words.push('-j', spec.target);
  return { table: spec.table, chain: spec.chain, target: spec.target, words, kubelet: spec.kubelet ?? false };
}

export interface JumpOptions {
  /** Legacy format: also kubelet's KUBE-FIREWALL jumps (needed when the ruleset uses KUBE-MARK-DROP). */
  readonly legacyKubeletFirewall?: boolean;
}

/**
 * The jump rules in installation order. Current kube-proxy installs the KUBE-FIREWALL jumps
 * for both families (the chain stays empty where the restore input does not fill it).
 */
export function jumpRules(format: RuleFormat, options: JumpOptions = {}): JumpRule[] {
  switch (format) {
    case 'current':
      return CURRENT.map(toRule);
    case 'legacy':
      return [...LEGACY, ...(options.legacyKubeletFirewall === true ? LEGACY_KUBELET : [])].map(toRule);
  }
}

/**
 * How the jump rules look in a built-in chain of a clean node once installed: each was
 * inserted at position 1, so a chain lists them in reverse installation order.
 */
export function installedOrder(rules: readonly JumpRule[]): JumpRule[] {
  return [...rules].reverse();
}
