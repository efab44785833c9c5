/**
 * Cleanup on Ctrl-C / SIGTERM / SIGHUP: while a sandbox is being built or is held by this
 * process, a signal tears it down before the process exits (with 128 + signal number).
 */
import { constants } from 'node:os';

type Cleanup = () => Promise<void>;

const cleanups = new Set<Cleanup>();
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;
let exiting = false;

function onSignal(sig: NodeJS.Signals): void {
  if (exiting) return;
  exiting = true;
  process.stderr.write(`kproxy: ${sig}: removing the sandbox...\n`);
  const all = [...cleanups];
  cleanups.clear();
  void Promise.allSettled(all.map((c) => c())).then(() => {
    process.exit(128 + (constants.signals[sig] as number | undefined ?? 1));
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const sig of SIGNALS) process.on(sig, onSignal);
}

function uninstall(): void {
  if (!installed || cleanups.size > 0) return;
  installed = false;
  for (const sig of SIGNALS) process.off(sig, onSignal);
}

/** Registers a cleanup to run on a signal; the returned function unregisters it. */
export function onTerminationSignal(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  install();
  return () => {
    cleanups.delete(cleanup);
    uninstall();
  };
}
