/**
 * kube-proxy's unit-test canonical form (reference §5.12, `sortIPTablesRules`): the order the
 * golden files are written in, so output of any emission order can be compared with them.
 *
 * Tables by name; chains KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* by name, then the rest by
 * name; rules grouped by chain, in emission order, except KUBE-NODEPORTS and KUBE-SERVICES,
 * stably sorted by the service name in their comment (nat KUBE-SERVICES keeps its "must be
 * the last rule" rule last); deleted chains in chain order.
 */
import { compareStrings } from '../../core/compare.js';
import type { ChainDecl, Rule, Ruleset, TableSection } from './model.js';

function chainRank(name: string): number {
  if (name === 'KUBE-NODEPORTS') return 0;
  if (name === 'KUBE-SERVICES') return 1;
  return name.startsWith('KUBE-') ? 2 : 3;
}

function compareChainNames(a: string, b: string): number {
  return chainRank(a) - chainRank(b) || compareStrings(a, b);
}

/** The text of a rule's `-m comment --comment X`, or null. */
function ruleComment(rule: Rule): string | null {
  const w = rule.words;
  for (let i = 0; i + 1 < w.length; i++) if (w[i] === '--comment') return w[i + 1] ?? null;
  return null;
}

/** The comment up to its first space or colon (kube-proxy's "service name" of a rule). */
function commentServiceName(rule: Rule): string | null {
  const c = ruleComment(rule);
  if (c === null) return null;
  const cut = c.search(/[ :]/);
  return cut < 0 ? c : c.slice(0, cut);
}

/** kube-proxy's comparator: rules without a comment are "not less" than anything. */
function lessByServiceName(a: Rule, b: Rule): boolean {
  const na = commentServiceName(a);
  const nb = commentServiceName(b);
  if (na === null || nb === null) return false;
  return na < nb;
}

function isLastRule(rule: Rule): boolean {
  return ruleComment(rule)?.includes('must be the last rule') ?? false;
}

/**
 * Go's sort.SliceStable is an insertion sort over blocks followed by merges; with a comparator
 * that is not a strict weak order (commentless rules) the exact algorithm matters only in
 * degenerate inputs. A stable insertion sort gives the same result for every order kube-proxy
 * can produce (all rules of these chains carry comments).
 */
function stableSort<T>(items: readonly T[], less: (a: T, b: T) => boolean): T[] {
  const out = [...items];
  for (let i = 1; i < out.length; i++) {
    const item = out[i] as T;
    let j = i - 1;
    while (j >= 0 && less(item, out[j] as T)) {
      out[j + 1] = out[j] as T;
      j--;
    }
    out[j + 1] = item;
  }
  return out;
}

function sortChainRules(table: string, chain: string, rules: readonly Rule[]): readonly Rule[] {
  if (chain === 'KUBE-NODEPORTS') return stableSort(rules, lessByServiceName);
  if (chain !== 'KUBE-SERVICES') return rules;
  if (table !== 'nat') return stableSort(rules, lessByServiceName);
  return stableSort(rules, (a, b) => {
    if (isLastRule(a)) return false;
    if (isLastRule(b)) return true;
    return lessByServiceName(a, b);
  });
}

function canonicalizeTable(table: TableSection): TableSection {
  const chains: ChainDecl[] = [...table.chains].sort((a, b) => compareChainNames(a.name, b.name));
  const byChain = new Map<string, Rule[]>();
  for (const rule of table.rules) {
    let list = byChain.get(rule.chain);
    if (list === undefined) {
      list = [];
      byChain.set(rule.chain, list);
    }
    list.push(rule);
  }
  const rules: Rule[] = [];
  const emit = (chain: string): void => {
    const list = byChain.get(chain);
    if (list === undefined) return;
    rules.push(...sortChainRules(table.name, chain, list));
    byChain.delete(chain);
  };
  for (const chain of chains) emit(chain.name);
  // Rules of chains that were not declared (a --noflush append) keep their own group, by name.
  for (const chain of [...byChain.keys()].sort(compareChainNames)) emit(chain);
  const deletedChains = [...table.deletedChains].sort(compareChainNames);
  return { name: table.name, chains, rules, deletedChains };
}

export function canonicalizeRuleset(ruleset: Ruleset): Ruleset {
  const tables = [...ruleset.tables].sort((a, b) => compareStrings(a.name, b.name));
  return { tables: tables.map(canonicalizeTable) };
}
