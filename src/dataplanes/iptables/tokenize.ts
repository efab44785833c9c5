/**
 * Splits one line of `iptables-restore` input into words the way iptables-restore itself does
 * (its argv builder in xshared.c), so a rule means here what it means to the kernel tool:
 *
 * - spaces, tabs and newlines separate words; runs of them count once;
 * - a double quote opens a quoted part; inside it, a backslash makes the next character literal
 *   (`\"` is a quote, `\\` a backslash) and spaces are kept;
 * - the closing quote ends the word at once (`"a b"c` is two words, `""` is an empty word);
 * - a quote in the middle of a word continues it (`ab"c d"` is one word `abc d`);
 * - outside quotes a backslash is an ordinary character.
 *
 * One deliberate difference: iptables-restore silently runs an unterminated quote to the end of
 * the line; here that is an error, because such a line is almost always a broken dump.
 */
import { KproxyError } from '../../core/errors.js';

export interface TokenizedLine {
  readonly words: readonly string[];
  /** Per word: whether any part of it was quoted (iptables-restore treats `"-t"` as a plain word). */
  readonly quoted: readonly boolean[];
}

export function tokenizeLine(text: string, lineNumber?: number): TokenizedLine {
  const words: string[] = [];
  const quoted: boolean[] = [];
  let current = '';
  let inWord = false;
  let wasQuoted = false;
  let inQuote = false;
  let escaped = false;

  const finish = (): void => {
    words.push(current);
    quoted.push(wasQuoted);
    current = '';
    inWord = false;
    wasQuoted = false;
  };

  for (const ch of text) {
    if (inQuote) {
      if (escaped) {
        current += ch;
        escaped = false;
      } else if (ch === '\\') {
        escaped = true;
      } else if (ch === '"') {
        inQuote = false;
        finish();
      } else {
        current += ch;
      }
      continue;
    }
    if (ch === '"') {
      inQuote = true;
      inWord = true;
      wasQuoted = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) finish();
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (inQuote) {
    const where = lineNumber === undefined ? '' : `line ${lineNumber}: `;
    throw new KproxyError('E_PARSE', `${where}unterminated double quote in: ${text}`);
  }
  if (inWord) finish();
  return { words, quoted };
}

/** Just the words of a line (see tokenizeLine). */
export function splitWords(text: string, lineNumber?: number): readonly string[] {
  return tokenizeLine(text, lineNumber).words;
}
