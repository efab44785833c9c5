/** The scenario table on the real kernel, iptables mode. */
import { runScenarioTable } from './scenarios/harness.js';

runScenarioTable('iptables');
