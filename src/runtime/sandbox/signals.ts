/**
 * Cleanup on Ctrl-C / SIGTERM / SIGHUP: while a sandbox is being built or is held by this
 * process, a signal tears it down before the process exits (with 128 + signal number).
 */
import { constants } from 'node:os';
import { KproxyError } from '../../core/errors.js';

/** Told which signal arrived. */
type Cleanup = (signal: NodeJS.Signals) => Promise<void>;

const cleanups = new Set<Cleanup>();
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;
let exiting = false;

function onSignal(sig: NodeJS.Signals): void {
  if (exiting) return;
  exiting = true;
  process.stderr.write(`kproxy: ${sig}: stopping; removing what this command made...\n`);
  const all = [...cleanups];
  cleanups.clear();
  void Promise.allSettled(all.map((c) => c(sig))).then(() => {
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

/** How long a signal waits for guarded work in flight to settle before the process exits. */
const INTERRUPT_WAIT_MS = 10_000;

/** Work that a signal interrupts at its next step rather than in the middle of one. */
export interface SignalGuard {
  /** The signal that arrived, or null. */
  signal(): NodeJS.Signals | null;
  /** Throws (E_SANDBOX) once a signal arrived: call it between steps. */
  checkpoint(): void;
  /** Resolves when a signal arrives (race long waits against it). */
  readonly signalled: Promise<void>;
  /** The work has settled, its own undo included: stop guarding. */
  done(): void;
}

/**
 * Guards work against SIGINT/SIGTERM/SIGHUP: a signal makes the next checkpoint throw, then waits
 * (up to 10 s) for the work to settle — so its error path undoes what it made while nothing is
 * still being made — then runs `afterSettled` (a last sweep) before the process exits.
 */
export function guardAgainstSignals(afterSettled: () => Promise<void> = () => Promise.resolve()): SignalGuard {
  let arrived: NodeJS.Signals | null = null;
  let wake: () => void = () => undefined;
  const signalled = new Promise<void>((resolve) => {
    wake = resolve;
  });
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const unregister = onTerminationSignal(async (sig) => {
    arrived = sig;
    wake();
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, INTERRUPT_WAIT_MS).unref())]);
    await afterSettled();
  });
  return {
    signal: () => arrived,
    checkpoint: () => {
      if (arrived !== null) throw new KproxyError('E_SANDBOX', `interrupted by ${arrived}`);
    },
    signalled,
    done: () => {
      settle();
      unregister();
    },
  };
}
