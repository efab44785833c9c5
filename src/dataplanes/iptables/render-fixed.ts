/**
 * The chains and rules kube-proxy writes on every sync regardless of services (reference §5.3).
 */
import type { TableSink } from './builder.js';
import { NFACCT_CT_STATE_INVALID_DROPPED } from './host.js';
import type { RenderContext } from './render-context.js';
import { comment, isLoopbackIP } from './words.js';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_MARK_DROP = 'KUBE-MARK-DROP';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

const FILTER_CHAINS = [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL];
const NAT_CHAINS = [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ];

/** The anti-martian rule (a copy of kubelet's), only with IPv4 localhost NodePorts. */
const BLOCK_LOCALNET_RULE: readonly string[] = [
  ...comment('block incoming localnet connections'),
  '-d', '127.0.0.0/8',
  '!', '-s', '127.0.0.0/8',
  '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT',
  '-j', 'DROP',
];

/** Fixed chain declarations, the KUBE-FIREWALL rule, and the masquerade chains' rules. */
export function writeFixedHead(ctx: RenderContext, filter: TableSink, nat: TableSink): void {
  for (const chain of FILTER_CHAINS) filter.declare(chain);
  for (const chain of NAT_CHAINS) nat.declare(chain);

  nat.rule(KUBE_POSTROUTING, ['-m', 'mark', '!', '--mark', ctx.markWithMask, '-j', 'RETURN']);
  // Clearing the mark keeps a packet that traverses the stack again from being masqueraded twice.
  nat.rule(KUBE_POSTROUTING, ['-j', 'MARK', '--xor-mark', ctx.mark]);
  const masquerade = [...comment('kubernetes service traffic requiring SNAT'), '-j', 'MASQUERADE'];
  if (ctx.caps.randomFully) masquerade.push('--random-fully');
  nat.rule(KUBE_POSTROUTING, masquerade);
  nat.rule(KUBE_MARK_MASQ, ['-j', 'MARK', '--or-mark', ctx.mark]);

  if (ctx.localhostNodePorts) {
    filter.declare(KUBE_FIREWALL);
    filter.rule(KUBE_FIREWALL, BLOCK_LOCALNET_RULE);
  }
}

/** KUBE-FORWARD's rules, written after every service's filter rules. */
export function writeForwardRules(ctx: RenderContext, filter: TableSink): void {
  if (!ctx.caps.tcpBeLiberal) {
    const invalid = ['-m', 'conntrack', '--ctstate', 'INVALID'];
    if (ctx.caps.nfacctInvalidDropped) invalid.push('-m', 'nfacct', '--nfacct-name', NFACCT_CT_STATE_INVALID_DROPPED);
    invalid.push('-j', 'DROP');
    filter.rule(KUBE_FORWARD, invalid);
  }
  filter.rule(KUBE_FORWARD, [
    ...comment('kubernetes forwarding rules'),
    '-m', 'mark', '--mark', ctx.markWithMask,
    '-j', 'ACCEPT',
  ]);
  filter.rule(KUBE_FORWARD, [
    ...comment('kubernetes forwarding conntrack rule'),
    '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED',
    '-j', 'ACCEPT',
  ]);
}

const NODEPORTS_TAIL_COMMENT = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';

/** The jump(s) from KUBE-SERVICES to KUBE-NODEPORTS, always last in KUBE-SERVICES. */
export function writeNodePortsTail(ctx: RenderContext, nat: TableSink): void {
  const addresses = ctx.state.nodePortAddresses;
  switch (addresses.kind) {
    case 'all': {
      const words = [...comment(NODEPORTS_TAIL_COMMENT), '-m', 'addrtype', '--dst-type', 'LOCAL'];
      // Localhost NodePorts never work on IPv6, and on IPv4 only with route_localnet.
      if (ctx.isIPv6) words.push('!', '-d', '::1/128');
      else if (!ctx.localhostNodePorts) words.push('!', '-d', '127.0.0.0/8');
      words.push('-j', KUBE_NODEPORTS);
      nat.rule(KUBE_SERVICES, words);
      return;
    }
    case 'ips':
      for (const ip of addresses.ips) {
        if (isLoopbackIP(ip) && (ctx.isIPv6 || !ctx.localhostNodePorts)) continue;
        nat.rule(KUBE_SERVICES, [...comment(NODEPORTS_TAIL_COMMENT), '-d', ip, '-j', KUBE_NODEPORTS]);
      }
      return;
  }
}
