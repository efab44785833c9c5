/**
 * Ruleset → `iptables-restore` text. The single source of truth for quoting words: the parser
 * reads back exactly what `quoteWord` writes.
 *
 * iptables-restore splits a line on spaces and tabs; a double quote opens or closes a quoted
 * word, and inside quotes a backslash makes the next character literal. Outside quotes a
 * backslash is an ordinary character, and nothing can represent a line break. So:
 * - a word made only of safe characters is written as is (kube-proxy writes `--comment ns/svc`);
 * - any other word is double-quoted, with `\` and `"` backslash-escaped;
 * - control characters (which could end or corrupt the line) are written as the four visible
 *   characters `\xNN` — a lossy but safe spelling: no name or comment can break a line.
 */
import type { ChainDecl, Rule, Ruleset, TableSection } from './model.js';

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** Printable ASCII except space, quotes and backslash, plus anything non-ASCII. */
function isSafeWord(word: string): boolean {
  if (word.length === 0) return false;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c <= 0x20 || c === 0x22 || c === 0x27 || c === 0x5c || c === 0x7f) return false;
  }
  return true;
}

export function quoteWord(word: string): string {
  if (isSafeWord(word)) return word;
  const escaped = word
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(CONTROL, (c) => `\\\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `"${escaped}"`;
}

export function serializeChainDecl(chain: ChainDecl): string {
  const counters = chain.counters === null ? '' : ` [${chain.counters[0]}:${chain.counters[1]}]`;
  return `:${quoteWord(chain.name)} ${quoteWord(chain.policy)}${counters}`;
}

/** `-A CHAIN words...` */
export function serializeRuleWords(chain: string, words: readonly string[]): string {
  const parts = new Array<string>(words.length + 2);
  parts[0] = '-A';
  parts[1] = quoteWord(chain);
  for (let i = 0; i < words.length; i++) parts[i + 2] = quoteWord(words[i] as string);
  return parts.join(' ');
}

export function serializeRule(rule: Rule): string {
  return serializeRuleWords(rule.chain, rule.words);
}

export function serializeDeletion(chain: string): string {
  return `-X ${quoteWord(chain)}`;
}

// Lines are joined in bounded batches so a large table never holds one short-lived string per line.
const BATCH = 2048;

export class LineWriter {
  private readonly chunks: string[] = [];
  private batch: string[] = [];

  push(line: string): void {
    this.batch.push(line);
    if (this.batch.length >= BATCH) this.flush();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    this.chunks.push(this.batch.join('\n') + '\n');
    this.batch = [];
  }

  /** Appends everything another writer holds (it stays usable). */
  append(other: LineWriter): void {
    other.flush();
    this.flush();
    this.chunks.push(...other.chunks);
  }

  text(): string {
    this.flush();
    return this.chunks.join('');
  }
}

function writeTable(table: TableSection, out: LineWriter): void {
  out.push(`*${table.name}`);
  for (const chain of table.chains) out.push(serializeChainDecl(chain));
  for (const rule of table.rules) out.push(serializeRule(rule));
  for (const chain of table.deletedChains) out.push(serializeDeletion(chain));
  out.push('COMMIT');
}

export function serializeTable(table: TableSection): string {
  const out = new LineWriter();
  writeTable(table, out);
  return out.text();
}

/** The whole restore input: every table, each ending with COMMIT. */
export function serializeRuleset(ruleset: Ruleset): string {
  const out = new LineWriter();
  for (const table of ruleset.tables) writeTable(table, out);
  return out.text();
}
