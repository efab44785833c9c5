/**
 * Re-running this CLI inside a network namespace: Node.js cannot switch namespaces itself, so
 * `--netns NAME` re-executes the same command under `ip netns exec NAME` (SANDBOX.md).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { KproxyError } from '../core/errors.js';

/** Where `ip netns add NAME` mounts a named namespace. */
const NAMED_NETNS_DIR = '/run/netns';

export interface NetnsHost {
  readonly isRoot: boolean;
  readonly netnsExists: (name: string) => boolean;
}

const THIS_HOST: NetnsHost = {
  isRoot: process.getuid?.() === 0,
  netnsExists: (name) => existsSync(`${NAMED_NETNS_DIR}/${name}`),
};

/** Why `--netns NAME` cannot work on `host` (as one clear error), before `ip` says it its own way. */
export function checkNetnsTarget(netns: string, host: NetnsHost = THIS_HOST): void {
  if (netns === '' || netns.includes('/') || netns === '.' || netns === '..') {
    throw new KproxyError('E_USAGE', `--netns: "${netns}" is not a network namespace name`);
  }
  if (!host.isRoot) {
    throw new KproxyError('E_EXEC', `--netns ${netns} needs root: \`ip netns exec\` enters the namespace`);
  }
  if (!host.netnsExists(netns)) {
    throw new KproxyError('E_USAGE', `--netns: there is no network namespace "${netns}" (see \`ip netns list\`)`);
  }
}

/** The arguments with `--netns NAME` / `--netns=NAME` removed. */
function withoutNetnsFlag(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--netns') {
      i++;
      continue;
    }
    if (a.startsWith('--netns=')) continue;
    out.push(a);
  }
  return out;
}

/** Runs `node <this script> args…` in the namespace, forwarding signals; resolves with its exit code. */
export function reexecInNetns(netns: string, args: readonly string[]): Promise<number> {
  const script = process.argv[1];
  if (script === undefined) return Promise.reject(new KproxyError('E_INTERNAL', 'cannot find the kproxy script path'));
  try {
    checkNetnsTarget(netns);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, script, ...withoutNetnsFlag(args)], {
      stdio: 'inherit',
    });
    const forward = (sig: NodeJS.Signals): void => {
      child.kill(sig);
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, forward);
    child.on('error', (err) => reject(new KproxyError('E_EXEC', `ip netns exec ${netns}: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      for (const s of signals) process.off(s, forward);
      resolve(code ?? (signal === null ? 1 : 128 + (constants.signals[signal] as number | undefined ?? 15)));
    });
  });
}
