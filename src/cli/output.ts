import { CommanderError, type Command } from 'commander';
import { isKproxyError } from '../core/errors.js';

/** Exit status of a usage error, in every command (1 keeps each command's own meaning). */
export const USAGE_EXIT_STATUS = 2;

/** Commander's usage error, with the command it happened in (for the `see ... --help` hint). */
class UsageError extends Error {
  constructor(
    readonly commander: CommanderError,
    readonly commandPath: string,
  ) {
    super(commander.message);
    this.name = 'UsageError';
  }
}

/**
 * Makes commander throw instead of exiting, for `cmd` and every subcommand, and keeps it from
 * printing its own error line (reportFatal prints one).
 */
export function configureUsageErrors(cmd: Command, path: readonly string[] = [cmd.name()]): void {
  const commandPath = path.join(' ');
  cmd.exitOverride((err) => {
    throw new UsageError(err, commandPath);
  });
  cmd.configureOutput({ outputError: () => undefined });
  for (const sub of cmd.commands) configureUsageErrors(sub, [...path, sub.name()]);
}

/** Commander's error message without its `error: ` prefix. */
function usageMessage(err: CommanderError): string {
  return err.message.replace(/^error: /, '');
}

/** Prints an error the way every command does, and sets a failing exit status. */
export function reportFatal(err: unknown): void {
  if (err instanceof UsageError) {
    const code = err.commander.code;
    // Help was printed: asked for (`--help`, `help CMD`: 0), or shown for a command missing its subcommand (2).
    const helpShown = code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version';
    if (helpShown && err.commander.exitCode === 0) {
      process.exitCode = 0;
      return;
    }
    if (!helpShown) process.stderr.write(`kproxy: ${usageMessage(err.commander)} (see ${err.commandPath} --help)\n`);
    process.exitCode = USAGE_EXIT_STATUS;
    return;
  }
  if (isKproxyError(err)) {
    process.stderr.write(`kproxy: ${err.message} [${err.code}]\n`);
  } else if (err instanceof CommanderError) {
    process.stderr.write(`kproxy: ${usageMessage(err)}\n`);
  } else if (err instanceof Error) {
    process.stderr.write(`kproxy: ${err.stack ?? err.message}\n`);
  } else {
    process.stderr.write(`kproxy: ${String(err)}\n`);
  }
  process.exitCode = 2;
}
