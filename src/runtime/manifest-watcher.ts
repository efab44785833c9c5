/**
 * Watches manifest files and folders and calls back (debounced) when anything under them
 * changes. fs.watch catches most changes at once (files are watched through their folder, so
 * an atomic rename-into-place is seen); a light stat poll catches what fs.watch misses.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface WatchOptions {
  readonly debounceMs: number;
  readonly pollMs: number;
}

async function snapshot(paths: readonly string[]): Promise<string> {
  const parts: string[] = [];
  const visit = async (p: string): Promise<void> => {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(p);
    } catch {
      parts.push(`${p}:missing`);
      return;
    }
    if (st.isDirectory()) {
      const names = (await fs.promises.readdir(p)).sort();
      for (const n of names) await visit(path.join(p, n));
    } else {
      parts.push(`${p}:${st.size}:${st.mtimeMs}:${st.ino}`);
    }
  };
  for (const p of paths) await visit(p);
  return parts.join('\n');
}

export class ManifestWatcher {
  private readonly watchers: fs.FSWatcher[] = [];
  private debounce: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private last = '';
  private closed = false;

  constructor(
    private readonly paths: readonly string[],
    private readonly onChange: () => void,
    private readonly opts: WatchOptions = { debounceMs: 100, pollMs: 2000 },
  ) {}

  async start(): Promise<void> {
    this.last = await snapshot(this.paths);
    for (const p of this.paths) {
      if (p === '-') continue;
      const isDir = fs.existsSync(p) && fs.statSync(p).isDirectory();
      const target = isDir ? p : path.dirname(p);
      const base = path.basename(p);
      try {
        const w = fs.watch(target, { recursive: isDir }, (_event, file) => {
          if (isDir || file === null || file === base) this.changed();
        });
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // The poll below still notices changes.
      }
    }
    this.schedulePoll();
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers) w.close();
    if (this.debounce !== null) clearTimeout(this.debounce);
    if (this.poll !== null) clearTimeout(this.poll);
  }

  private changed(): void {
    if (this.closed) return;
    if (this.debounce !== null) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      void this.check();
    }, this.opts.debounceMs);
  }

  private async check(): Promise<void> {
    const now = await snapshot(this.paths);
    if (now !== this.last && !this.closed) {
      this.last = now;
      this.onChange();
    }
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.poll = setTimeout(() => {
      void this.check().finally(() => this.schedulePoll());
    }, this.opts.pollMs);
  }
}
