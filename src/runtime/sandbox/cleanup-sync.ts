/**
 * Last-resort cleanup when a process that holds a sandbox exits without calling down() (a
 * forgotten handle, an uncaught exception): `exit` handlers cannot wait, so this one kills and
 * deletes synchronously.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { netnsNamesOf, runNetnsPrefix } from './naming.js';
import { isPodServer } from './processes.js';
import { RUNS_DIR } from './store.js';
import type { SandboxState } from './types.js';

function kill(pid: number): void {
  for (const target of [pid, -pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

export function teardownRunSync(state: SandboxState): void {
  const prefix = runNetnsPrefix(state.id);
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const namespaces = netnsNamesOf(listed.stdout || '').filter((n) => n.startsWith(prefix));
  for (const pod of state.pods) if (pod.pid !== null && isPodServer(pod.pid, pod.netns)) kill(pod.pid);
  for (const ns of namespaces) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
    for (const line of (pids.stdout || '').split('\n')) {
      const pid = Number.parseInt(line, 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) kill(pid);
    }
  }
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(state.stateDir, { recursive: true, force: true });
  rmSync(path.join(RUNS_DIR, `${state.id}.json`), { force: true });
}
