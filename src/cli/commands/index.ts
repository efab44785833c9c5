import type { Command } from 'commander';
import { registerRulesCommand } from './rules.js';
import { registerRunCommand } from './run.js';
import { registerCleanupCommand } from './cleanup.js';
import { registerDemoCommand } from './demo.js';
import { registerSandboxCommand } from './sandbox.js';
import { registerTraceCommand } from './trace.js';
import { registerExplainCommand } from './explain.js';
import { registerDiffCommand } from './diff.js';
import { registerGraphCommand } from './graph.js';

/** Each command lives in its own file and registers itself here. */
export function registerCommands(program: Command): void {
  // commands are added as they are built
  registerRulesCommand(program);
  registerRunCommand(program);
  registerCleanupCommand(program);
  registerDemoCommand(program);
  registerSandboxCommand(program);
  registerTraceCommand(program);
  registerExplainCommand(program);
  registerDiffCommand(program);
  registerGraphCommand(program);
}
