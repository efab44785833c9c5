/**
 * Accumulates one table of an iptables-restore transaction in emission order: chain
 * declarations (`:CHAIN - [0:0]`, which also flush the chain), rules (`-A`) and deletions (`-X`).
 */
import type { ChainDecl, Rule, Ruleset, TableName, TableSection } from './model.js';

export class TableBuilder {
  private readonly chains: ChainDecl[] = [];
  private readonly declared = new Set<string>();
  private readonly rules: Rule[] = [];
  private readonly deleted: string[] = [];

  constructor(readonly name: TableName) {}

  /** Declares (and so flushes) a user chain; a second declaration of the same chain is a no-op. */
  declare(chain: string): void {
    if (this.declared.has(chain)) return;
    this.declared.add(chain);
    this.chains.push({ name: chain, policy: '-', counters: [0, 0] });
  }

  isDeclared(chain: string): boolean {
    return this.declared.has(chain);
  }

  /** Appends `-A chain words...`. */
  rule(chain: string, words: readonly string[]): void {
    this.rules.push({ chain, words });
  }

  /** Flushes and deletes a chain: it is declared (flushed) and then `-X`'d. */
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
