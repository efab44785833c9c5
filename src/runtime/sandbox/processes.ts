/**
 * The sandbox's processes: pod servers started under `ip netns exec`, detached into their own
 * process group so they outlive the CLI invocation that started them, and stopped by pid (then
 * by process group). A pid is only signalled when /proc shows it is still the process we
 * started (its command line names our script and namespace), never a reused pid.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { KproxyError } from '../../core/errors.js';

const POD_SERVER_SCRIPT = fileURLToPath(new URL('./pod-server.js', import.meta.url));
export const CLIENT_SCRIPT = fileURLToPath(new URL('./client.js', import.meta.url));
const READY_EVENT = 'ready';

/** True when `pid` exists and is not a zombie. */
export function pidIsAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM means it exists but belongs to someone else; we run as root, so treat it as alive.
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function commandLineOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
  } catch {
    return null;
  }
}

/** True when `pid` is alive and is a pod server of the namespace `netns`. */
export function isPodServer(pid: number, netns: string): boolean {
  if (!pidIsAlive(pid)) return false;
  const argv = commandLineOf(pid);
  return argv !== null && argv.some((a) => a.endsWith('pod-server.js')) && argv.some((a) => a.includes(`"netns":"${netns}"`));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, up to `graceMs` to exit, then SIGKILL to the pid and to its process group. */
export async function stopProcess(pid: number, graceMs = 1000): Promise<void> {
  if (!pidIsAlive(pid)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pidIsAlive(pid) && Date.now() < deadline) await sleep(20);
  if (pidIsAlive(pid)) signal(pid, 'SIGKILL');
  // The group may hold children of the process (none for our scripts, but a daemon may fork).
  signal(-pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (pidIsAlive(pid) && Date.now() < killDeadline) await sleep(10);
}

export interface PodServerSpec {
  readonly netns: string;
  readonly pod: string;
  readonly namespace: string;
  readonly node: string;
  readonly ip: string;
  readonly ports: readonly number[];
}

export interface StartedServer {
  readonly pid: number;
  /** Whether the child is known to have exited (its pid may then be reused: signal it no more). */
  readonly exited: () => boolean;
  /** Resolves once the server listens on every port; rejects if it exits or times out first. */
  readonly ready: Promise<void>;
}

/** Starts a pod server in its namespace, detached, with stdout/stderr appended to `logFile`. */
export function startPodServer(spec: PodServerSpec, logFile: string, readyTimeoutMs: number): StartedServer {
  const fd = openSync(logFile, 'a');
  let child;
  try {
    child = spawn('ip', ['netns', 'exec', spec.netns, process.execPath, POD_SERVER_SCRIPT, JSON.stringify(spec)], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    throw new KproxyError('E_SANDBOX', `could not start the server of pod ${spec.pod}`);
  }
  const status: { exited: string | null } = { exited: null };
  child.on('exit', (code, sig) => {
    status.exited = sig !== null ? `killed by ${sig}` : `exited with status ${String(code)}`;
  });
  child.on('error', (err) => {
    status.exited = err.message;
  });
  child.unref();
  const ready = (async () => {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      if (log.split('\n').some((line) => line.includes(`"event":"${READY_EVENT}"`))) return;
      if (status.exited !== null || Date.now() > deadline) {
        const why = status.exited ?? `not listening after ${readyTimeoutMs} ms`;
        throw new KproxyError('E_SANDBOX', `pod ${spec.pod}: server ${why}; its log: ${log.trim().slice(-500)}`);
      }
      await sleep(15);
    }
  })();
  return { pid, ready, exited: () => status.exited !== null };
}
