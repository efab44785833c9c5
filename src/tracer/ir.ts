/**
 * The tracer's intermediate representation: netfilter tables of chains of rules, each rule a
 * list of predicates (all must hold) and one action. Every dataplane's parsed form is lowered
 * into it (lower-iptables.ts); one engine (engine.ts) evaluates packets over it.
 */
import type { ParsedCIDR } from '../core/net/ip.js';
import type { TableName } from '../dataplanes/iptables/model.js';
import type { AddressField, AddressType, ConntrackState, PortRange, RecentCommand } from '../dataplanes/iptables/interpret-types.js';

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

export type IrPredicate =
  | { readonly kind: 'address'; readonly field: AddressField; readonly invert: boolean; readonly cidrs: readonly ParsedCIDR[] }
  | { readonly kind: 'protocol'; readonly invert: boolean; readonly protocol: string }
  | { readonly kind: 'interface'; readonly field: 'in' | 'out'; readonly invert: boolean; readonly name: string }
  | { readonly kind: 'fragment'; readonly invert: boolean }
  /** Ports of the packet (`any`: source or destination); `protocol` set when the match belongs to one protocol's module. */
  | { readonly kind: 'port'; readonly protocol: string | null; readonly field: AddressField | 'any'; readonly invert: boolean; readonly ranges: readonly PortRange[] }
  /** TCP flags of the packet: matches when (flags & mask) == comp; never for other protocols. */
  | { readonly kind: 'tcpflags'; readonly invert: boolean; readonly mask: number; readonly comp: number }
  | { readonly kind: 'addrtype'; readonly field: AddressField; readonly invert: boolean; readonly types: readonly AddressType[]; readonly limitIface: 'in' | 'out' | null }
  | { readonly kind: 'mark'; readonly invert: boolean; readonly value: number; readonly mask: number }
  | { readonly kind: 'ctstate'; readonly invert: boolean; readonly states: readonly ConntrackState[] }
  /** Matches with probability numerator / 2^31 (the kernel's stored form). */
  | { readonly kind: 'random'; readonly invert: boolean; readonly numerator: number; readonly written: string }
  /** Every n-th packet: over a run of packets, 1 in `every`. */
  | { readonly kind: 'nth'; readonly invert: boolean; readonly every: number; readonly packet: number }
  | {
      readonly kind: 'recent';
      readonly name: string;
      readonly command: RecentCommand;
      readonly invert: boolean;
      readonly seconds: number | null;
      readonly hitcount: number | null;
      readonly mask: string | null;
      readonly side: AddressField;
    }
  | { readonly kind: 'set'; readonly invert: boolean; readonly name: string; readonly flags: readonly AddressField[] }
  | { readonly kind: 'physdev'; readonly test: 'in' | 'out' | 'is-in' | 'is-out' | 'is-bridged'; readonly invert: boolean; readonly name: string | null }
  /** Something the tracer cannot evaluate: reaching it stops the trace with this description. */
  | { readonly kind: 'unsupported'; readonly description: string };

export type IrAction =
  | { readonly kind: 'continue' }
  | { readonly kind: 'jump'; readonly chain: string }
  | { readonly kind: 'goto'; readonly chain: string }
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'reject'; readonly rejectWith: string | null }
  | { readonly kind: 'return' }
  /** Destination NAT to one address and/or port (null keeps the packet's). */
  | { readonly kind: 'dnat'; readonly address: string | null; readonly port: number | null }
  /** REDIRECT: destination NAT to the node itself. */
  | { readonly kind: 'redirect'; readonly port: number | null }
  /** Source NAT (SNAT or MASQUERADE): the packet leaves with the node's address. */
  | { readonly kind: 'snat'; readonly masquerade: boolean; readonly address: string | null }
  /** new mark = (mark & ~mask) ^ value */
  | { readonly kind: 'mark'; readonly value: number; readonly mask: number }
  | { readonly kind: 'log'; readonly prefix: string | null }
  | { readonly kind: 'unsupported'; readonly description: string };

export interface IrRule {
  /** 1-based position in its chain. */
  readonly position: number;
  /** Line in the dump or restore input; null for rules the lowering assumed (and rules built in code). */
  readonly line: number | null;
  /** A jump the lowering added because the input lacked kube-proxy's standard jumps. */
  readonly assumed: boolean;
  /** The rule as text (`-A CHAIN ...`), for display. */
  readonly text: string;
  readonly comment: string | null;
  /** In the order the kernel checks them. */
  readonly predicates: readonly IrPredicate[];
  readonly action: IrAction;
}

export interface IrChain {
  readonly name: string;
  readonly builtin: boolean;
  /** Built-in chains: the policy; null when the input did not say (assumed ACCEPT). */
  readonly policy: 'ACCEPT' | 'DROP' | null;
  readonly rules: readonly IrRule[];
}

export interface IrTable {
  readonly name: TableName;
  readonly chains: ReadonlyMap<string, IrChain>;
}

export interface IrProgram {
  readonly tables: ReadonlyMap<TableName, IrTable>;
  /** What the lowering assumed (missing jumps from built-in chains, missing policies). */
  readonly notes: readonly string[];
}
