/**
 * Evaluation of one IR predicate against the packet as it is at that point of its path. Pure;
 * `-m recent` updates its branch's tables in place (the engine clones them at forks). Random
 * predicates do not decide: they return the probability of matching, and the engine follows both.
 */
import { KproxyError } from '../core/errors.js';
import { cidrContains, formatIPv6, parseCIDR, parseIP, type ParsedCIDR, type ParsedIP } from '../core/net/ip.js';
import { PROBABILITY_SCALE } from '../dataplanes/iptables/interpret-values.js';
import { TCP_FLAG_BITS, type AddressType, type ConntrackState } from '../dataplanes/iptables/interpret-types.js';
import type { Hook, IrPredicate } from './ir.js';
import { setContains, type IpsetStore } from './ipset.js';
import type { TraceProtocol } from './packet.js';
import { Rational } from './rational.js';

/** The mutable per-branch view of the packet and its connection. */
export interface PacketState {
  src: ParsedIP;
  dst: ParsedIP;
  readonly protocol: TraceProtocol;
  sport: number;
  dport: number;
  mark: number;
  dnat: boolean;
  snat: boolean;
  recent: Map<string, Map<string, number>>;
  affinity: boolean;
}

export interface PredicateContext {
  readonly hook: Hook;
  readonly inInterface: string | null;
  readonly outInterface: string | null;
  readonly local: readonly ParsedCIDR[];
  readonly ipsets: IpsetStore;
  readonly notes: Set<string>;
}

/** The traced packet opens a connection: over TCP it is a SYN (SYN set; ACK, RST, FIN clear). */
const TRACED_TCP_FLAGS = TCP_FLAG_BITS.SYN;

/** true / false, or the probability (of matching) of a random predicate. */
export type PredicateResult = boolean | Rational;

const MULTICAST = [parseCIDR('224.0.0.0/4'), parseCIDR('ff00::/8')].filter((c): c is ParsedCIDR => c !== null);

function addressType(ip: ParsedIP, local: readonly ParsedCIDR[]): AddressType {
  if (local.some((c) => cidrContains(c, ip))) return 'LOCAL';
  if (MULTICAST.some((c) => cidrContains(c, ip))) return 'MULTICAST';
  if (ip.text === '255.255.255.255') return 'BROADCAST';
  return 'UNICAST';
}

function interfaceFor(field: 'in' | 'out', ctx: PredicateContext): string | null {
  // Locally generated packets have no input interface; nothing has an output one before routing.
  if (field === 'in') return ctx.hook === 'OUTPUT' || ctx.hook === 'POSTROUTING' ? '' : ctx.inInterface;
  return ctx.hook === 'PREROUTING' || ctx.hook === 'INPUT' ? '' : ctx.outInterface;
}

function interfaceMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

function recentKey(ip: ParsedIP, mask: string | null): string {
  if (mask === null) return ip.text;
  const m = parseIP(mask);
  if (m === null || m.family !== ip.family) return ip.text;
  const masked = ip.bytes.map((b, i) => b & (m.bytes[i] ?? 0));
  return ip.family === 'IPv4' ? masked.join('.') : formatIPv6(masked);
}

function connectionStates(p: PacketState): ConntrackState[] {
  const states: ConntrackState[] = ['NEW'];
  if (p.dnat) states.push('DNAT');
  if (p.snat) states.push('SNAT');
  return states;
}

function probability(numerator: number, invert: boolean): PredicateResult {
  if (numerator <= 0) return invert;
  if (numerator >= PROBABILITY_SCALE) return !invert;
  const p = Rational.of(numerator, PROBABILITY_SCALE);
  return invert ? Rational.ONE.sub(p) : p;
}

export function evaluatePredicate(pred: IrPredicate, p: PacketState, ctx: PredicateContext): PredicateResult {
  switch (pred.kind) {
    case 'address': {
      const ip = pred.field === 'src' ? p.src : p.dst;
      return pred.cidrs.some((c) => cidrContains(c, ip)) !== pred.invert;
    }
    case 'protocol':
      return (pred.protocol === 'all' || pred.protocol === p.protocol) !== pred.invert;
    case 'interface': {
      const name = interfaceFor(pred.field, ctx);
      if (name === null) {
        const flag = pred.field === 'in' ? '--in-iface' : '--out-iface';
        throw new KproxyError('E_TRACE', `the rule matches the ${pred.field === 'in' ? 'input' : 'output'} interface (${pred.invert ? '! ' : ''}-${pred.field === 'in' ? 'i' : 'o'} ${pred.name}), which is not known: give ${flag}`);
      }
      return interfaceMatches(pred.name, name) !== pred.invert;
    }
    case 'fragment':
      return pred.invert; // the first packet of a connection is never a non-first fragment
    case 'port': {
      if (pred.protocol !== null && pred.protocol !== p.protocol) return false;
      const inRange = (port: number): boolean => pred.ranges.some((r) => port >= r.from && port <= r.to);
      const hit = pred.field === 'dst' ? inRange(p.dport) : pred.field === 'src' ? inRange(p.sport) : inRange(p.sport) || inRange(p.dport);
      return hit !== pred.invert;
    }
    case 'tcpflags':
      if (p.protocol !== 'tcp') return false;
      ctx.notes.add('-m tcp --syn / --tcp-flags: the packet is traced as a connection\'s first one, a SYN (SYN set; ACK, RST, FIN clear)');
      return ((TRACED_TCP_FLAGS & pred.mask) === pred.comp) !== pred.invert;
    case 'addrtype': {
      if (pred.limitIface !== null) {
        throw new KproxyError('E_TRACE', `-m addrtype --limit-iface-${pred.limitIface} is not traced (which addresses belong to which interface is not known)`);
      }
      const ip = pred.field === 'src' ? p.src : p.dst;
      return pred.types.includes(addressType(ip, ctx.local)) !== pred.invert;
    }
    case 'mark':
      return ((p.mark & pred.mask) >>> 0 === pred.value >>> 0) !== pred.invert;
    case 'ctstate': {
      const states = connectionStates(p);
      return pred.states.some((s) => states.includes(s)) !== pred.invert;
    }
    case 'random':
      return probability(pred.numerator, pred.invert);
    case 'nth': {
      ctx.notes.add(`-m statistic --mode nth --every ${pred.every}: traced as ${pred.every === 1 ? 'every' : `1 in ${pred.every}`} packets of a run`);
      if (pred.every === 1) return !pred.invert;
      return Rational.of(pred.invert ? pred.every - 1 : 1, pred.every);
    }
    case 'recent':
      return evaluateRecent(pred, p, ctx);
    case 'set': {
      const set = ctx.ipsets.get(pred.name);
      if (set === undefined) throw new KproxyError('E_TRACE', `ipset ${pred.name} is not known: give its contents with --ipset FILE (ipset save output)`);
      const sides = pred.flags.map((f) => ({ ip: f === 'src' ? p.src : p.dst, protocol: p.protocol, port: f === 'src' ? p.sport : p.dport }));
      return setContains(set, sides) !== pred.invert;
    }
    case 'physdev':
      // Not a bridged packet: every non-negated physdev test fails, every negated one holds.
      return pred.invert;
    case 'unsupported':
      throw new KproxyError('E_TRACE', pred.description);
  }
}

function evaluateRecent(pred: Extract<IrPredicate, { kind: 'recent' }>, p: PacketState, ctx: PredicateContext): boolean {
  const key = recentKey(pred.side === 'src' ? p.src : p.dst, pred.mask);
  let table = p.recent.get(pred.name);
  const count = table?.get(key);
  let hit: boolean;
  switch (pred.command) {
    case 'set':
      if (table === undefined) {
        table = new Map();
        p.recent.set(pred.name, table);
      }
      table.set(key, (count ?? 0) + 1);
      p.affinity = true;
      hit = true;
      break;
    case 'rcheck':
    case 'update':
      hit = count !== undefined && (pred.hitcount === null || count >= pred.hitcount);
      if (pred.command === 'update' && count !== undefined) table?.set(key, count + 1);
      break;
    case 'remove':
      hit = count !== undefined;
      table?.delete(key);
      break;
  }
  if (pred.seconds !== null && count !== undefined) {
    ctx.notes.add(`-m recent --seconds ${pred.seconds}: a returning client is assumed to come back within that time`);
  }
  return hit !== pred.invert;
}
