export { runCommand, formatCommand, ExecError, isExecError } from './run.js';
export type { RunOptions, RunResult, ExecErrorDetails } from './run.js';
export { findFailingLine, reportedLineNumber } from './failing-line.js';
export type { FailingLine } from './failing-line.js';
export { onPath } from './path.js';
