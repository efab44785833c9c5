/**
 * The source address as a variable: for `graph`, which pictures every path a service's traffic
 * can take, a packet's source is not one address but any. Rules testing it (`-s`, `! -s`,
 * `-m addrtype --src-type`) are then followed both ways; each branch remembers what it assumed,
 * and later tests that those assumptions already decide (a narrower or disjoint CIDR, the same
 * address type) are not forked again, so no branch holds a contradiction of that kind.
 */
import { cidrWithin, parseCIDR, type ParsedCIDR } from '../core/net/ip.js';
import type { IPFamily } from '../core/model/objects.js';
import type { AddressType } from '../dataplanes/iptables/interpret-types.js';
import type { IrPredicate, IrRule, IrTable } from './ir.js';

export type SourcePredicate =
  | (Extract<IrPredicate, { kind: 'address' }> & { readonly field: 'src' })
  | (Extract<IrPredicate, { kind: 'addrtype' }> & { readonly field: 'src'; readonly limitIface: null });

/** One source test's outcome on a branch, assumed or implied. */
export interface SourceTest {
  /** The outcome as iptables writes it (`-s 10.0.0.0/8`, `! --src-type LOCAL`). */
  readonly text: string;
  /** Whether the tested rule's outcome changes nothing of the path (it only marks, and comes back). */
  readonly passThrough: boolean;
}

/**
 * A rule whose action does not change where the packet goes: a mark, a log, no target, or a
 * jump to a chain that only marks (KUBE-MARK-MASQ). Its source test decides nothing about the
 * rules after it.
 */
export function passesThrough(rule: IrRule, table: IrTable | undefined): boolean {
  const a = rule.action;
  if (a.kind === 'mark' || a.kind === 'log' || a.kind === 'continue') return true;
  if (a.kind !== 'jump') return false;
  const rules = table?.chains.get(a.chain)?.rules ?? [];
  return rules.length > 0 && rules.every((r) => r.action.kind === 'mark');
}

/** The tests that decide a step: those of its rule (from `ruleStart` on), and earlier ones of its chain (from `since`) that would have sent the packet elsewhere. */
export function stepConditions(tests: readonly SourceTest[], since: number, ruleStart: number): string[] {
  return [...new Set(tests.slice(since).filter((t, i) => since + i >= ruleStart || !t.passThrough).map((t) => t.text))];
}

/** The tests that decide an outcome: every one on the branch's path that could have sent it elsewhere. */
export function outcomeConditions(tests: readonly SourceTest[]): string[] {
  return [...new Set(tests.filter((t) => !t.passThrough).map((t) => t.text))];
}

export interface SourceAssumption {
  readonly predicate: SourcePredicate;
  /** Whether the predicate (as written, `!` included) holds on this branch. */
  readonly holds: boolean;
}

export function isSourcePredicate(p: IrPredicate): p is SourcePredicate {
  return (p.kind === 'address' && p.field === 'src') || (p.kind === 'addrtype' && p.field === 'src' && p.limitIface === null);
}

/**
 * Predicates whose value for a first packet the engine knows without the source, and whose
 * evaluation has no side effect and cannot fail: a rule failing one of them is skipped before
 * any source fork.
 */
export function isPlainPredicate(p: IrPredicate): boolean {
  switch (p.kind) {
    case 'address':
      return p.field === 'dst';
    case 'addrtype':
      return p.field === 'dst' && p.limitIface === null;
    case 'protocol':
    case 'port':
    case 'mark':
    case 'ctstate':
    case 'fragment':
      return true;
    case 'interface':
    case 'tcpflags':
    case 'random':
    case 'nth':
    case 'recent':
    case 'set':
    case 'physdev':
    case 'unsupported':
      return false;
  }
}

/** Whether the source is in the union of `cidrs`: true, false, or null when the assumptions do not tell. */
function membership(cidrs: readonly ParsedCIDR[], family: IPFamily, assumptions: readonly SourceAssumption[]): boolean | null {
  const mine = cidrs.filter((c) => c.family === family);
  if (mine.length === 0) return false;
  for (const a of assumptions) {
    const p = a.predicate;
    if (p.kind !== 'address') continue;
    const theirs = p.cidrs.filter((c) => c.family === family);
    if (theirs.length === 0) continue;
    const inTheirs = a.holds !== p.invert;
    if (inTheirs && theirs.every((t) => mine.some((c) => cidrWithin(t, c)))) return true;
    if (inTheirs && theirs.every((t) => mine.every((c) => !cidrWithin(t, c) && !cidrWithin(c, t)))) return false;
    if (!inTheirs && mine.every((c) => theirs.some((t) => cidrWithin(c, t)))) return false;
  }
  return null;
}

/** Whether the source's address type is one of `types`: true, false, or null when the assumptions do not tell. */
function typeMembership(types: readonly AddressType[], assumptions: readonly SourceAssumption[]): boolean | null {
  for (const a of assumptions) {
    const p = a.predicate;
    if (p.kind !== 'addrtype') continue;
    const inTheirs = a.holds !== p.invert;
    if (inTheirs && p.types.every((t) => types.includes(t))) return true;
    if (inTheirs && p.types.every((t) => !types.includes(t))) return false;
    if (!inTheirs && types.every((t) => p.types.includes(t))) return false;
  }
  return null;
}

const LOOPBACK: Readonly<Record<IPFamily, readonly ParsedCIDR[]>> = {
  IPv4: [parseCIDR('127.0.0.0/8')].filter((c): c is ParsedCIDR => c !== null),
  IPv6: [parseCIDR('::1/128')].filter((c): c is ParsedCIDR => c !== null),
};

/** Loopback sources are LOCAL (always, whatever the node's addresses). */
function loopbackTypeMembership(types: readonly AddressType[], family: IPFamily, assumptions: readonly SourceAssumption[]): boolean | null {
  return membership(LOOPBACK[family], family, assumptions) === true ? types.includes('LOCAL') : null;
}

/** A source known not to be LOCAL is not a loopback address either. */
function notLocalMembership(cidrs: readonly ParsedCIDR[], family: IPFamily, assumptions: readonly SourceAssumption[]): boolean | null {
  const loopback = LOOPBACK[family];
  const mine = cidrs.filter((c) => c.family === family);
  if (mine.length === 0 || !mine.every((c) => loopback.some((l) => cidrWithin(c, l)))) return null;
  return typeMembership(['LOCAL'], assumptions) === false ? false : null;
}

/** The predicate's value given the branch's assumptions, or null when it is still open (fork). */
export function decideSource(p: SourcePredicate, family: IPFamily, assumptions: readonly SourceAssumption[]): boolean | null {
  const member =
    p.kind === 'address'
      ? (membership(p.cidrs, family, assumptions) ?? notLocalMembership(p.cidrs, family, assumptions))
      : (typeMembership(p.types, assumptions) ?? loopbackTypeMembership(p.types, family, assumptions));
  return member === null ? null : member !== p.invert;
}

/** The condition as iptables writes it: `-s 198.51.100.1/32`, `! -s 172.18.0.0/16`, `--src-type LOCAL`. */
export function describeSource(p: SourcePredicate, holds: boolean): string {
  const bang = (holds ? p.invert : !p.invert) ? '! ' : '';
  return p.kind === 'address' ? `${bang}-s ${p.cidrs.map((c) => c.text).join(',')}` : `${bang}--src-type ${p.types.join(',')}`;
}
