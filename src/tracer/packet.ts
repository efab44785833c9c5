/**
 * What the tracer evaluates: one packet (the first of a new connection), where it comes from,
 * and what the node knows (its addresses, its IP sets, its `-m recent` tables).
 */
import type { TableName } from '../dataplanes/iptables/model.js';
import type { Hook } from './ir.js';
import type { IpsetStore } from './ipset.js';
import type { Rational } from './rational.js';

export type TraceSource = 'pod' | 'node' | 'external';
export type TraceProtocol = 'tcp' | 'udp' | 'sctp';

export interface TracePacket {
  readonly src: string;
  readonly dst: string;
  readonly protocol: TraceProtocol;
  readonly sport: number;
  readonly dport: number;
  /** `pod` and `external` arrive through PREROUTING; `node` is sent by the node itself (OUTPUT). */
  readonly from: TraceSource;
  /** Input interface; null when unknown (a rule matching `-i` then stops the trace). Default: `eth0` from outside, none from the node. */
  readonly inInterface?: string | null;
  /** Output interface after routing; null (the default) when unknown. */
  readonly outInterface?: string | null;
  /** The packet mark on arrival (default 0). */
  readonly mark?: number;
}

/** `-m recent` tables: list name → address → hit count. */
export type RecentTables = ReadonlyMap<string, ReadonlyMap<string, number>>;

export const NO_RECENT: RecentTables = new Map();

export interface TraceEnvironment {
  /** The node's addresses (`addrtype LOCAL`); 127.0.0.0/8 and ::1 are always local. */
  readonly nodeIPs: readonly string[];
  readonly ipsets: IpsetStore;
  /** `-m recent` state before the packet (a returning client's); default empty. */
  readonly recent?: RecentTables;
  /**
   * The source address as a variable (for `graph`): rules testing it (`-s`, `--src-type`) are
   * followed both ways, and steps and outcomes say what their branch assumed. `src` then only
   * gives the family.
   */
  readonly symbolicSource?: boolean;
}

export type Verdict = 'DNAT' | 'REJECT' | 'DROP' | 'ACCEPT' | 'NO_SERVICE';

export interface PathStep {
  readonly hook: Hook;
  readonly table: TableName;
  readonly chain: string;
  /** Line in the input; null for assumed rules and chain policies. */
  readonly line: number | null;
  /** A rule the tracer assumed (kube-proxy's standard jumps, missing from the input). */
  readonly assumed: boolean;
  /** 1-based rule position in the chain; null for the chain policy. */
  readonly position: number | null;
  readonly rule: string;
  readonly matched: boolean;
  /** Probability that a packet gets here with this outcome. */
  readonly probability: Rational;
  /** Nesting: 0 in a built-in chain, +1 per jump. */
  readonly depth: number;
  /** For a returning client: which first packet this step follows (e.g. `after 10.0.0.1:80`). */
  readonly scenario?: string;
  /** With a symbolic source: what the branch assumed about it so far (`-s 10.0.0.0/8`, `! --src-type LOCAL`). */
  readonly assumptions?: readonly string[];
  /**
   * With a symbolic source: the outcomes of the source tests that decided this step in its chain:
   * the rule's own, and those of earlier rules of the chain that would have sent the packet
   * elsewhere (not those of rules that only mark and come back, like a jump to KUBE-MARK-MASQ).
   */
  readonly conditions?: readonly string[];
}

export interface TraceLeaf {
  readonly verdict: Verdict;
  /** The packet's destination after DNAT (`IP:port`, IPv6 bracketed); null without DNAT. */
  readonly endpoint: string | null;
  readonly probability: Rational;
  /** Whether the packet leaves with the node's address (MASQUERADE or SNAT). */
  readonly masquerade: boolean;
  /** Where the verdict was decided (null: it went through every chain). */
  readonly decidedAt: { readonly table: TableName; readonly chain: string; readonly line: number | null } | null;
  readonly rejectWith: string | null;
  /** `-m recent` state after the packet (what a returning client meets). */
  readonly recent: RecentTables;
  /** Whether a `-m recent --set` was on the way (session affinity). */
  readonly affinity: boolean;
  /** With a symbolic source: what the branch assumed about it. */
  readonly assumptions?: readonly string[];
  /** With a symbolic source: the outcomes of the source tests on its path that could have sent it elsewhere. */
  readonly conditions?: readonly string[];
  /** With a symbolic source: the chains the branch entered, in order (`table/chain`). */
  readonly trail?: readonly string[];
}

export interface EngineRun {
  readonly leaves: readonly TraceLeaf[];
  readonly path: readonly PathStep[];
  readonly notes: readonly string[];
}
