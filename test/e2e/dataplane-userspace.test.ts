/** The scenario table on the real kernel, userspace mode: the proxy in the node carries every connection. */
import { runScenarioTable } from './scenarios/harness.js';

runScenarioTable('userspace');
