/**
 * An in-memory iptables (one family) with the semantics kube-proxy relies on:
 * `iptables-restore [--noflush]` applied atomically (all tables or nothing), `-X` refused while a
 * chain is referenced or not empty, jumps only to existing chains, plus the single-rule calls the
 * daemon uses for jump rules (`-N`, `-C`, `-I`, `-A`, `-D`). A fake, not a mock: tests apply real
 * render output to it and compare the resulting kernel state.
 */
import { KproxyError } from '../../core/errors.js';
import type { ChainDecl, Rule, Ruleset, TableName, TableSection } from '../../dataplanes/iptables/model.js';
import { BUILTIN_CHAINS, parseIptables } from '../../dataplanes/iptables/parse.js';
import { ruleTarget } from '../../dataplanes/iptables/consistency.js';

const EXTENSION_TARGETS = new Set([
  'ACCEPT', 'DROP', 'RETURN', 'REJECT', 'QUEUE', 'NFQUEUE', 'MARK', 'CONNMARK', 'MASQUERADE', 'SNAT', 'DNAT',
  'REDIRECT', 'LOG', 'NFLOG', 'NOTRACK', 'CT', 'TPROXY', 'TCPMSS', 'CHECKSUM', 'TRACE',
]);

interface FakeChain {
  policy: string;
  rules: (readonly string[])[];
}

type FakeTable = Map<string, FakeChain>;

function isBuiltin(table: TableName, chain: string): boolean {
  return BUILTIN_CHAINS[table].includes(chain);
}

function freshTable(name: TableName): FakeTable {
  const t: FakeTable = new Map();
  for (const chain of BUILTIN_CHAINS[name]) t.set(chain, { policy: 'ACCEPT', rules: [] });
  return t;
}

function cloneTable(t: FakeTable): FakeTable {
  const out: FakeTable = new Map();
  for (const [name, chain] of t) out.set(name, { policy: chain.policy, rules: [...chain.rules] });
  return out;
}

function fail(table: string, message: string): never {
  throw new KproxyError('E_EXEC', `iptables-restore (fake): table ${table}: ${message}`);
}

export interface RestoreOptions {
  /** `--noflush`: keep chains the input does not mention (kube-proxy always uses it). */
  readonly noflush: boolean;
}

export class FakeIptables {
  private tables = new Map<TableName, FakeTable>();

  private table(name: TableName): FakeTable {
    let t = this.tables.get(name);
    if (t === undefined) {
      t = freshTable(name);
      this.tables.set(name, t);
    }
    return t;
  }

  /** Applies a restore transaction atomically; throws E_EXEC (state unchanged) when it fails. */
  restore(ruleset: Ruleset, options: RestoreOptions = { noflush: true }): void {
    const next = new Map<TableName, FakeTable>();
    for (const [name, t] of this.tables) next.set(name, cloneTable(t));
    for (const section of ruleset.tables) {
      const current = next.get(section.name) ?? freshTable(section.name);
      next.set(section.name, applyTable(section, options.noflush ? current : freshTable(section.name)));
    }
    this.tables = next;
  }

  /** Parses restore text (as the real tool would read it) and applies it. */
  restoreText(text: string, options: RestoreOptions = { noflush: true }): void {
    this.restore(parseIptables(text, 'restore input'), options);
  }

  chainNames(table: TableName): string[] {
    return [...this.table(table).keys()];
  }

  hasChain(table: TableName, chain: string): boolean {
    return this.table(table).has(chain);
  }

  rules(table: TableName, chain: string): readonly (readonly string[])[] {
    return this.table(table).get(chain)?.rules ?? [];
  }

  /** `iptables -N`: creates the chain if missing (EnsureChain). */
  ensureChain(table: TableName, chain: string): void {
    const t = this.table(table);
    if (!t.has(chain)) t.set(chain, { policy: '-', rules: [] });
  }

  /** `iptables -C`. */
  checkRule(table: TableName, chain: string, words: readonly string[]): boolean {
    return this.rules(table, chain).some((r) => sameWords(r, words));
  }

  /** `iptables -I chain [position]` (1-based). */
  insertRule(table: TableName, chain: string, words: readonly string[], position = 1): void {
    const c = this.existingChain(table, chain);
    this.checkTarget(table, words);
    c.rules.splice(position - 1, 0, [...words]);
  }

  /** `iptables -A`: appends a rule behind kproxy's back (tests use it to provoke failures). */
  appendRule(table: TableName, chain: string, words: readonly string[]): void {
    const c = this.existingChain(table, chain);
    this.checkTarget(table, words);
    c.rules.push([...words]);
  }

  /** `iptables -D chain rule`: deletes the first identical rule. */
  deleteRule(table: TableName, chain: string, words: readonly string[]): void {
    const c = this.existingChain(table, chain);
    const i = c.rules.findIndex((r) => sameWords(r, words));
    if (i < 0) fail(table, `no rule in ${chain} matches "${words.join(' ')}"`);
    c.rules.splice(i, 1);
  }

  /** What `iptables-save` would print, as a Ruleset (chains in creation order, builtins first). */
  save(): Ruleset {
    const tables: TableSection[] = [];
    for (const [name, t] of [...this.tables].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const chains: ChainDecl[] = [];
      const rules: Rule[] = [];
      for (const [chain, c] of t) {
        chains.push({ name: chain, policy: c.policy, counters: [0, 0] });
        for (const words of c.rules) rules.push({ chain, words });
      }
      tables.push({ name, chains, rules, deletedChains: [] });
    }
    return { tables };
  }

  private existingChain(table: TableName, chain: string): FakeChain {
    const c = this.table(table).get(chain);
    if (c === undefined) fail(table, `chain ${chain} does not exist`);
    return c;
  }

  private checkTarget(table: TableName, words: readonly string[]): void {
    const target = ruleTarget(words);
    if (target !== null && !EXTENSION_TARGETS.has(target) && !this.table(table).has(target)) {
      fail(table, `jump to ${target}, which does not exist`);
    }
  }
}

function sameWords(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((w, i) => w === b[i]);
}

function applyTable(section: TableSection, t: FakeTable): FakeTable {
  const name = section.name;
  for (const decl of section.chains) {
    const existing = t.get(decl.name);
    if (isBuiltin(name, decl.name)) {
      if (decl.policy !== 'ACCEPT' && decl.policy !== 'DROP') fail(name, `bad policy ${decl.policy} for ${decl.name}`);
      t.set(decl.name, { policy: decl.policy, rules: [] });
    } else if (decl.policy !== '-') {
      fail(name, `user chain ${decl.name} cannot have policy ${decl.policy}`);
    } else if (existing === undefined) {
      t.set(decl.name, { policy: '-', rules: [] });
    } else {
      existing.rules = [];
    }
  }
  for (const rule of section.rules) {
    const chain = t.get(rule.chain);
    if (chain === undefined) fail(name, `rule for chain ${rule.chain}, which does not exist`);
    chain.rules.push(rule.words);
  }
  for (const chain of section.deletedChains) {
    const c = t.get(chain);
    if (c === undefined) fail(name, `cannot delete ${chain}: no such chain`);
    if (isBuiltin(name, chain)) fail(name, `cannot delete built-in chain ${chain}`);
    if (c.rules.length > 0) fail(name, `cannot delete ${chain}: chain is not empty`);
    t.delete(chain);
  }
  for (const [chainName, chain] of t) {
    for (const words of chain.rules) {
      const target = ruleTarget(words);
      if (target === null || EXTENSION_TARGETS.has(target)) continue;
      if (!t.has(target)) {
        const why = section.deletedChains.includes(target) ? 'was deleted while still referenced' : 'does not exist';
        fail(name, `rule in ${chainName} jumps to ${target}, which ${why}`);
      }
    }
  }
  return t;
}
