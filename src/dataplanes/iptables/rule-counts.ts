/**
 * How many rules each chain holds after a sequence of `iptables-restore --noflush` inputs: a
 * declared chain is flushed and refilled by the input, `-X` deletes it, chains the input does
 * not mention keep their rules. Gives kube-proxy's `iptables_total` (all rules kproxy owns) on
 * partial syncs too, without rendering everything again.
 */
export class RuleCounts {
  private readonly tables = new Map<string, Map<string, number>>();

  /** Applies one restore input. */
  apply(text: string): void {
    let chains: Map<string, number> | null = null;
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) {
        const name = line.slice(1).trim();
        chains = this.tables.get(name) ?? new Map<string, number>();
        this.tables.set(name, chains);
      } else if (chains === null) {
        continue;
      } else if (line.startsWith(':')) {
        chains.set(line.slice(1).split(' ')[0] ?? '', 0);
      } else if (line.startsWith('-A ')) {
        const chain = line.slice(3).split(' ')[0] ?? '';
        chains.set(chain, (chains.get(chain) ?? 0) + 1);
      } else if (line.startsWith('-X ')) {
        chains.delete(line.slice(3).trim());
      }
    }
  }

  /** Rules per table. */
  totals(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [table, chains] of this.tables) {
      let n = 0;
      for (const count of chains.values()) n += count;
      out.set(table, n);
    }
    return out;
  }
}
