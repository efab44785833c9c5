/**
 * Accumulates one table of an iptables-restore transaction in emission order: chain
 * declarations (`:CHAIN - [0:0]`, which also flush the chain), rules (`-A`) and deletions (`-X`).
 * Two sinks share one interface: TableBuilder keeps the typed Ruleset; TableTextWriter writes the
 * restore text directly (the same text serializeRuleset would produce) without keeping a Rule
 * object per line, which is what makes full syncs of large clusters cheap.
 */
import type { ChainDecl, Rule, Ruleset, TableName, TableSection } from './model.js';
import { LineWriter, serializeChainDecl, serializeDeletion, serializeRuleWords } from './serialize.js';

export interface TableSink {
  readonly name: TableName;
  /** Declares (and so flushes) a user chain; a second declaration of the same chain is a no-op. */
  declare(chain: string): void;
  isDeclared(chain: string): boolean;
  /** Appends `-A chain words...`. */
  rule(chain: string, words: readonly string[]): void;
  /** Flushes and deletes a chain: it is declared (flushed) and then `-X`'d. */
  deleteChain(chain: string): void;
}

const ZERO_COUNTERS: readonly [number, number] = Object.freeze([0, 0] as const);

function userChain(name: string): ChainDecl {
  return { name, policy: '-', counters: ZERO_COUNTERS };
}

export class TableBuilder implements TableSink {
  private readonly chains: ChainDecl[] = [];
  private readonly declared = new Set<string>();
  private readonly rules: Rule[] = [];
  private readonly deleted: string[] = [];

  constructor(readonly name: TableName) {}

  declare(chain: string): void {
    if (this.declared.has(chain)) return;
    this.declared.add(chain);
    this.chains.push(userChain(chain));
  }

  isDeclared(chain: string): boolean {
    return this.declared.has(chain);
  }

  rule(chain: string, words: readonly string[]): void {
    this.rules.push({ chain, words });
  }

  deleteChain(chain: string): void {
    this.declare(chain);
    this.deleted.push(chain);
  }

  build(): TableSection {
    return { name: this.name, chains: this.chains, rules: this.rules, deletedChains: this.deleted };
  }
}

export function rulesetOf(...tables: readonly TableBuilder[]): Ruleset {
  return { tables: tables.map((t) => t.build()) };
}

export class TableTextWriter implements TableSink {
  private readonly declared = new Set<string>();
  private readonly chains = new LineWriter();
  private readonly rules = new LineWriter();
  private readonly deleted = new LineWriter();

  constructor(readonly name: TableName) {}

  declare(chain: string): void {
    if (this.declared.has(chain)) return;
    this.declared.add(chain);
    this.chains.push(serializeChainDecl(userChain(chain)));
  }

  isDeclared(chain: string): boolean {
    return this.declared.has(chain);
  }

  rule(chain: string, words: readonly string[]): void {
    this.rules.push(serializeRuleWords(chain, words));
  }

  deleteChain(chain: string): void {
    this.declare(chain);
    this.deleted.push(serializeDeletion(chain));
  }

  /** `*table`, chains, rules, deletions, `COMMIT`, as serializeTable writes them. */
  writeTo(out: LineWriter): void {
    out.push(`*${this.name}`);
    out.append(this.chains);
    out.append(this.rules);
    out.append(this.deleted);
    out.push('COMMIT');
  }
}

export function textOf(...tables: readonly TableTextWriter[]): string {
  const out = new LineWriter();
  for (const t of tables) t.writeTo(out);
  return out.text();
}
