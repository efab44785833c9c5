import { isKproxyError } from '../core/errors.js';

/** Prints an error the way every command does, and sets a failing exit status. */
export function reportFatal(err: unknown): void {
  if (isKproxyError(err)) {
    process.stderr.write(`kproxy: ${err.message} [${err.code}]\n`);
  } else if (err instanceof Error) {
    process.stderr.write(`kproxy: ${err.stack ?? err.message}\n`);
  } else {
    process.stderr.write(`kproxy: ${String(err)}\n`);
  }
  process.exitCode = 2;
}
