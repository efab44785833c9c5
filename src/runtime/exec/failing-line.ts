/**
 * Finds the input line a tool complained about, from its stderr. Restore-style tools read a
 * script on stdin and report the first line they could not apply; knowing that line (not just
 * its number) is what makes a failed apply debuggable.
 */

export interface FailingLine {
  /** 1-based line number in the input, as the tool reported it. */
  readonly lineNumber: number;
  /** The text of that input line (without the newline); null when the input is shorter. */
  readonly text: string | null;
}

const LINE_PATTERNS: readonly RegExp[] = [
  // iptables-restore / ip6tables-restore: "iptables-restore: line 12 failed"
  /\bline (\d+) failed\b/,
  // iptables-restore (nf_tables backend): "line 30: CHAIN_DEL failed (Device or resource busy): ..."
  /^line (\d+): /m,
  // iptables-restore (older): "Error occurred at line: 12"
  /\bError occurred at line: (\d+)/,
  // ipset restore: "ipset v7.17: Error in line 3: ..."
  /\bError in line (\d+)/,
  // nft -f -: "/dev/stdin:3:1-10: Error: ..."
  /^\/dev\/stdin:(\d+):\d+/m,
  // ip -batch: "Command failed -:3"
  /\bCommand failed [^:\s]*:(\d+)/,
];

/** The line number the tool reported in its stderr, or null when it reported none. */
export function reportedLineNumber(stderr: string): number | null {
  for (const pattern of LINE_PATTERNS) {
    const match = pattern.exec(stderr);
    const digits = match?.[1];
    if (digits !== undefined) {
      const n = Number.parseInt(digits, 10);
      if (n >= 1) return n;
    }
  }
  return null;
}

/** The failing input line named by stderr, or null when the tool named none. */
export function findFailingLine(stderr: string, input: string): FailingLine | null {
  const lineNumber = reportedLineNumber(stderr);
  if (lineNumber === null) return null;
  const lines = input.split('\n');
  const text = lineNumber <= lines.length ? (lines[lineNumber - 1] ?? null) : null;
  return { lineNumber, text };
}
