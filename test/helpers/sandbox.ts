/** A sandbox planned from manifest text without the kernel, for the sandbox's unit tests. */
import { planSandbox, type PlanInput } from '../../src/runtime/sandbox/plan.js';
import type { SandboxState } from '../../src/runtime/sandbox/types.js';
import { objectsFromYaml } from './e2e.js';

export const TEST_PLAN_INPUT: PlanInput = { name: 't', id: 'abc123', stateDir: '/x/t', ownerPid: 1, createdAt: '2024-01-01T00:00:00Z', nodes: 1 };

export function plannedSandbox(yaml: string, nodes = 1): SandboxState {
  return planSandbox(objectsFromYaml(yaml), { ...TEST_PLAN_INPUT, nodes });
}
