/**
 * Watches the --config file as kube-proxy does: when its content changes (an edit, a rename
 * into place, a ConfigMap update swapping symlinks) the daemon exits so that it is restarted
 * with the new configuration. fs.watch reacts at once; a content poll catches what it misses.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const CONFIG_FILE_UPDATED = "content of the proxy server's configuration file was updated";

function digest(file: string): string {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return 'unreadable';
  }
}

export class ConfigFileWatch {
  private readonly initial: string;
  private watcher: fs.FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private fired = false;

  constructor(
    private readonly file: string,
    private readonly onUpdate: () => void,
    private readonly pollMs = 2000,
  ) {
    this.initial = digest(file);
  }

  start(): void {
    try {
      // The folder, not the file: a rename or symlink swap replaces the file itself.
      this.watcher = fs.watch(path.dirname(path.resolve(this.file)), () => this.check());
      this.watcher.on('error', () => undefined);
    } catch {
      // The poll still notices.
    }
    this.poll = setInterval(() => this.check(), this.pollMs);
  }

  close(): void {
    this.watcher?.close();
    if (this.poll !== null) clearInterval(this.poll);
  }

  private check(): void {
    if (this.fired || digest(this.file) === this.initial) return;
    this.fired = true;
    this.close();
    this.onUpdate();
  }
}
