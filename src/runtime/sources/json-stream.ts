/**
 * Concatenated JSON: the output of several `kubectl get -o json` one after the other, which
 * kubectl itself accepts as input. Top-level values are split where their outermost bracket
 * closes, whether or not whitespace separates them.
 */

/** A top-level value's span in the text, `end` exclusive. */
export interface JsonSpan {
  readonly start: number;
  readonly end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENERS = new Set([0x7b, 0x5b]); // { [
const CLOSERS = new Set([0x7d, 0x5d]); // } ]
const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** True when the first non-whitespace character opens an object or an array. */
export function looksLikeJson(text: string): boolean {
  return /^[ \t\r\n]*[{[]/.test(text);
}

/** The end of the value opening at `start` (just past its closing bracket, or the text's end). */
function valueEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (OPENERS.has(c)) {
      depth++;
    } else if (CLOSERS.has(c) && --depth === 0) {
      return i + 1;
    }
  }
  return text.length;
}

/**
 * The spans of the top-level values. Whatever does not start with `{` or `[` (a stray word, a
 * `---`) runs to the end of the text as one span, for the JSON parser to report.
 */
export function splitJsonValues(text: string): JsonSpan[] {
  const spans: JsonSpan[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && JSON_WHITESPACE.has(text.charCodeAt(i))) i++;
    if (i >= text.length) return spans;
    const end = OPENERS.has(text.charCodeAt(i)) ? valueEnd(text, i) : text.length;
    spans.push({ start: i, end });
    i = end;
  }
}

/**
 * Blank text that puts what follows at line and column of `offset` in `text`, so that a parser
 * given it plus a span reports positions in the whole file.
 */
export function positionPadding(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const lines = before.split('\n');
  return '\n'.repeat(lines.length - 1) + ' '.repeat((lines.at(-1) ?? '').length);
}
