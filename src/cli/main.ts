/** The kproxy command line: one file per command under src/cli/commands/. */
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { configureUsageErrors, reportFatal } from './output.js';

const program = new Command();
program
  .name('kproxy')
  .description(
    'A Kubernetes service proxy (kube-proxy\'s job on a node) that explains the rules it programs.',
  )
  .enablePositionalOptions();
registerCommands(program);
// Usage errors (unknown option, bad choice, missing argument) print one line and exit 2 in every
// command, so that 1 keeps each command's own meaning ("something skipped", "they differ").
configureUsageErrors(program);

program.parseAsync(process.argv).catch(reportFatal);
