/** The kproxy command line: one file per command under src/cli/commands/. */
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { reportFatal } from './output.js';

const program = new Command();
program
  .name('kproxy')
  .description(
    'A Kubernetes service proxy (kube-proxy\'s job on a node) that explains the rules it programs.',
  )
  .showHelpAfterError()
  .enablePositionalOptions();
registerCommands(program);

program.parseAsync(process.argv).catch(reportFatal);
