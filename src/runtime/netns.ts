/**
 * Re-running this CLI inside a network namespace: Node.js cannot switch namespaces itself, so
 * `--netns NAME` re-executes the same command under `ip netns exec NAME` (SANDBOX.md).
 */
import { spawn } from 'node:child_process';
import { KproxyError } from '../core/errors.js';

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
      resolve(code ?? (signal === null ? 1 : 128 + 15));
    });
  });
}
