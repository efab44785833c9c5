/**
 * The typed model of iptables rules shared by the renderer (which builds it), the serializer
 * (which writes `iptables-restore` input), the parser (which reads restore input and
 * `iptables-save` output) and the tracer (which interprets rules).
 *
 * A rule keeps its words exactly as written, unquoted; meaning is derived from the words by
 * the interpreter (`interpret.ts`), so rendering and parsing never lose a detail of the format.
 */
export type TableName = 'filter' | 'nat' | 'mangle' | 'raw' | 'security';
export const TABLE_NAMES: readonly TableName[] = ['filter', 'nat', 'mangle', 'raw', 'security'];

export interface ChainDecl {
  readonly name: string;
  /** `-` for user chains; ACCEPT / DROP for built-in chains in `iptables-save` output. */
  readonly policy: string;
  /** `[packets:bytes]`, when written. */
  readonly counters: readonly [number, number] | null;
}

export interface Rule {
  readonly chain: string;
  /** The rule's words after `-A CHAIN`, unquoted (e.g. `["-m", "comment", "--comment", "a b", "-j", "X"]`). */
  readonly words: readonly string[];
  /** 1-based line number in the text it was parsed from, when parsed. */
  readonly line?: number;
}

export interface TableSection {
  readonly name: TableName;
  /** Declared chains, in order of declaration. */
  readonly chains: readonly ChainDecl[];
  /** Rules in order of appearance (all chains interleaved, as written). */
  readonly rules: readonly Rule[];
  /** Chains deleted with `-X`, in order. */
  readonly deletedChains: readonly string[];
}

export interface Ruleset {
  readonly tables: readonly TableSection[];
}
