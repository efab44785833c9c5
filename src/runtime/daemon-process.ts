/**
 * Starting `kproxy run` as a child process inside a network namespace, and waiting for
 * conditions: used by the demo and the kernel tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCommand } from './exec/index.js';

/** The built CLI entry point (dist/src/cli/main.js). */
export const CLI_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface DaemonHandle {
  readonly child: ChildProcess;
  /** Everything the daemon logged so far. */
  logs(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function startDaemon(netns: string, args: readonly string[]): DaemonHandle {
  const child = spawn(process.execPath, [CLI_MAIN, 'run', '--netns', netns, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let stopping: Promise<number | null> | null = null;
  return {
    child,
    logs: () => out,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}

export async function inNetns(netns: string, argv: readonly string[]): Promise<string> {
  return (await runCommand(['ip', 'netns', 'exec', netns, ...argv], { timeoutMs: 30_000 })).stdout;
}

/** Where the daemon's health server answers by default (kube-proxy's --healthz-bind-address port). */
export const DEFAULT_HEALTH_PORT = 10256;

/** Before its first sync, /livez reports this time for a family. */
const NEVER_SYNCED = '1970-01-01T00:00:00Z';

/** Whether the daemon in `netns` says, on /livez, that every IP family has synced once (whatever the mode programs). */
export async function firstSyncDone(netns: string, healthPort = DEFAULT_HEALTH_PORT): Promise<boolean> {
  try {
    const body = JSON.parse(await inNetns(netns, ['curl', '-s', '--max-time', '1', `127.0.0.1:${healthPort}/livez`])) as {
      status?: Record<string, { lastUpdated?: string }>;
    };
    const families = Object.values(body.status ?? {});
    return families.length > 0 && families.every((f) => f.lastUpdated !== undefined && f.lastUpdated !== NEVER_SYNCED);
  } catch {
    return false;
  }
}

/** Polls until `check` returns true; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
  stepMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
