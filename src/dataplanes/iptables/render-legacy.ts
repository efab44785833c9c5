/**
 * `--format legacy`: the restore input of kube-proxy v1.18, the last release before the v1.19
 * change of port-name strings (`default/nginx:` → `default/nginx`). It is what the article's
 * `iptables-save | grep nginx` shows. v1.18 always did full syncs; the sync scope is ignored.
 *
 * Not modelled because v1.18 did not have them: internalTrafficPolicy, terminating endpoints,
 * topology hints, localhost-NodePort nfacct counters, nf_conntrack_tcp_be_liberal, interface-based
 * local-traffic detection (only --cluster-cidr existed).
 */
import type { DesiredState } from '../../core/desired/types.js';
import { TableBuilder, rulesetOf, type TableSink } from './builder.js';
import type { Ruleset } from './model.js';
import { isLegacyServiceChainName } from './names.js';
import type { IptablesRenderInput } from './render.js';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_MARK_DROP,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_SERVICES,
} from './render-fixed.js';
import { legacyEndpoints, writeLegacyServicePort, type LegacyContext } from './render-legacy-service.js';
import { comment, formatMark } from './words.js';

/** kubelet's default --iptables-drop-bit (15): the mark KUBE-MARK-DROP sets. */
const KUBELET_DROP_MARK = formatMark(1 << 15);

const NODEPORTS_TAIL_COMMENT = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';

function legacyContext(state: DesiredState): LegacyContext {
  const isIPv6 = state.family === 'IPv6';
  let total = 0;
  for (const sp of state.servicePorts) total += legacyEndpoints(sp).length;
  return {
    isIPv6,
    masqueradeAll: state.masqueradeAll,
    clusterCIDR: state.localDetector?.kind === 'cidr' ? state.localDetector.cidr : null,
    dropComments: total > 1000,
    usesMarkDrop: false,
  };
}

export function renderIptablesLegacy(input: IptablesRenderInput): Ruleset {
  const filter = new TableBuilder('filter');
  const nat = new TableBuilder('nat');
  renderLegacyInto(input, filter, nat);
  return rulesetOf(filter, nat);
}

export function renderLegacyInto(input: IptablesRenderInput, filter: TableSink, nat: TableSink): void {
  const { state, host } = input;
  const ctx = legacyContext(state);
  const mark = formatMark(state.masqueradeMark);
  const markWithMask = `${mark}/${mark}`;

  for (const chain of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD]) filter.declare(chain);
  for (const chain of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) nat.declare(chain);

  const masquerade = [
    ...comment('kubernetes service traffic requiring SNAT'), '-m', 'mark', '--mark', markWithMask, '-j', 'MASQUERADE',
  ];
  if (host.capabilities.randomFully) masquerade.push('--random-fully');
  nat.rule(KUBE_POSTROUTING, masquerade);
  nat.rule(KUBE_MARK_MASQ, ['-j', 'MARK', '--set-xmark', markWithMask]);

  const active = new Set<string>();
  for (const sp of state.servicePorts) {
    for (const chain of writeLegacyServicePort(ctx, sp, filter, nat)) active.add(chain);
  }

  if (host.existingNatChains !== null) {
    for (const chain of [...host.existingNatChains].sort()) {
      if (isLegacyServiceChainName(chain) && !active.has(chain)) nat.deleteChain(chain);
    }
  }

  writeLegacyNodePortsTail(state, nat);
  writeLegacyForwardRules(ctx, markWithMask, filter);
  if (ctx.usesMarkDrop) writeKubeletDropChains(filter, nat);
}

function writeLegacyNodePortsTail(state: DesiredState, nat: TableSink): void {
  const addresses = state.nodePortAddresses;
  switch (addresses.kind) {
    case 'all':
      nat.rule(KUBE_SERVICES, [
        ...comment(NODEPORTS_TAIL_COMMENT), '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', KUBE_NODEPORTS,
      ]);
      return;
    case 'ips':
      for (const ip of addresses.ips) {
        nat.rule(KUBE_SERVICES, [...comment(NODEPORTS_TAIL_COMMENT), '-d', ip, '-j', KUBE_NODEPORTS]);
      }
      return;
  }
}

function writeLegacyForwardRules(ctx: LegacyContext, markWithMask: string, filter: TableSink): void {
  filter.rule(KUBE_FORWARD, ['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP']);
  filter.rule(KUBE_FORWARD, [...comment('kubernetes forwarding rules'), '-m', 'mark', '--mark', markWithMask, '-j', 'ACCEPT']);
  if (ctx.clusterCIDR === null) return;
  filter.rule(KUBE_FORWARD, [
    '-s', ctx.clusterCIDR, ...comment('kubernetes forwarding conntrack pod source rule'),
    '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT',
  ]);
  filter.rule(KUBE_FORWARD, [
    ...comment('kubernetes forwarding conntrack pod destination rule'), '-d', ctx.clusterCIDR,
    '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT',
  ]);
}

/**
 * KUBE-MARK-DROP and the filter rule that drops what it marks were kubelet's (v1.18 kube-proxy
 * only jumped to it). They are written here so the restore input stands on its own.
 */
function writeKubeletDropChains(filter: TableSink, nat: TableSink): void {
  nat.declare(KUBE_MARK_DROP);
  nat.rule(KUBE_MARK_DROP, ['-j', 'MARK', '--set-xmark', `${KUBELET_DROP_MARK}/${KUBELET_DROP_MARK}`]);
  filter.declare(KUBE_FIREWALL);
  filter.rule(KUBE_FIREWALL, [
    ...comment('kubernetes firewall for dropping marked packets'),
    '-m', 'mark', '--mark', `${KUBELET_DROP_MARK}/${KUBELET_DROP_MARK}`, '-j', 'DROP',
  ]);
}

/** Whether a legacy ruleset uses kubelet's drop chains (then kubelet's jumps belong with it). */
export function usesKubeletDropChains(ruleset: Ruleset): boolean {
  return ruleset.tables.some((t) => t.chains.some((c) => c.name === KUBE_MARK_DROP));
}
