/**
 * A structural check of a rendered (or parsed) Ruleset: what iptables-restore would refuse, or
 * what would silently misroute packets. Used on every rendered output in tests.
 */
import type { Ruleset, TableSection } from './model.js';
import { MAX_CHAIN_NAME_LENGTH } from './names.js';

/** Targets that are extensions, not chains. */
const BUILTIN_TARGETS = new Set([
  'ACCEPT', 'DROP', 'RETURN', 'REJECT', 'QUEUE', 'NFQUEUE', 'MARK', 'CONNMARK', 'MASQUERADE',
  'SNAT', 'DNAT', 'REDIRECT', 'LOG', 'NFLOG', 'NOTRACK', 'CT', 'TPROXY', 'TCPMSS', 'CHECKSUM',
  'TRACE', 'SET', 'AUDIT', 'CLASSIFY', 'DSCP', 'TOS', 'TTL', 'HL', 'NETMAP', 'SECMARK', 'CONNSECMARK',
]);

const BUILTIN_CHAINS: Readonly<Record<string, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

export interface ConsistencyProblem {
  readonly table: string;
  readonly chain: string;
  readonly message: string;
}

export interface ConsistencyOptions {
  /** Chains known to exist already (per table), e.g. unchanged chains on a partial sync. */
  readonly existingChains?: Readonly<Record<string, readonly string[]>>;
}

/** The jump target of a rule (`-j X` or `-g X`), or null. */
export function ruleTarget(words: readonly string[]): string | null {
  for (let i = 0; i + 1 < words.length; i++) {
    if (words[i] === '-j' || words[i] === '-g' || words[i] === '--jump' || words[i] === '--goto') {
      return words[i + 1] ?? null;
    }
  }
  return null;
}

function checkTable(table: TableSection, options: ConsistencyOptions): ConsistencyProblem[] {
  const problems: ConsistencyProblem[] = [];
  const report = (chain: string, message: string): void => {
    problems.push({ table: table.name, chain, message });
  };
  const declared = new Set<string>();
  for (const chain of table.chains) {
    if (declared.has(chain.name)) report(chain.name, 'declared twice');
    declared.add(chain.name);
    if (chain.name.length > MAX_CHAIN_NAME_LENGTH) {
      report(chain.name, `name longer than ${MAX_CHAIN_NAME_LENGTH} characters`);
    }
  }
  const deleted = new Set(table.deletedChains);
  const exists = new Set<string>([
    ...declared,
    ...(BUILTIN_CHAINS[table.name] ?? []),
    ...(options.existingChains?.[table.name] ?? []),
  ]);
  for (const chain of deleted) {
    if (!declared.has(chain)) report(chain, 'deleted without being declared (flushed) first');
    exists.delete(chain);
  }
  for (const rule of table.rules) {
    if (!exists.has(rule.chain)) report(rule.chain, 'rule appended to a chain that does not exist');
    const target = ruleTarget(rule.words);
    if (target === null || BUILTIN_TARGETS.has(target)) continue;
    if (!exists.has(target)) report(rule.chain, `jump to ${target}, which does not exist`);
  }
  return problems;
}

/** Every problem found; an empty list means the ruleset is consistent. */
export function checkConsistency(ruleset: Ruleset, options: ConsistencyOptions = {}): ConsistencyProblem[] {
  const problems: ConsistencyProblem[] = [];
  const seen = new Set<string>();
  for (const table of ruleset.tables) {
    if (seen.has(table.name)) problems.push({ table: table.name, chain: '', message: 'table written twice' });
    seen.add(table.name);
    problems.push(...checkTable(table, options));
  }
  return problems;
}
