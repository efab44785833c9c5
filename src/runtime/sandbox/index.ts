/** The sandbox's public API: see README-level docs in the CLI command and docs/. */
export { createSandbox, openSandbox, Sandbox, DEFAULT_GRACE_SECONDS } from './sandbox.js';
export type { CreateOptions, OpenOptions, ChangeOptions, DeletePodOptions, SandboxChange } from './sandbox.js';
export { removeSandbox, removeAllSandboxes, removeLeftovers, sandboxStatuses } from './admin.js';
export type { DownReport, SandboxStatus, StatusReport, PodStatus, ServiceStatus, RootOptions } from './admin.js';
export { execInNetns, httpRequests, udpRequests, sendRequests } from './traffic.js';
export type { TrafficOptions } from './traffic.js';
export type { TrafficResult, TrafficProtocol } from './traffic-types.js';
export type { TeardownReport } from './cleanup.js';
export type { SandboxState, SandboxNodeState, SandboxPodState, SandboxDeploymentState, PodPhase } from './types.js';
export { listNetns } from './netns.js';
export { SERVICE_CIDR, LOAD_BALANCER_POOL } from './services.js';
export { EXTERNAL_CIDR, EXTERNAL_ADDRESS } from './plan.js';
export { POD_GATEWAY } from './netns.js';
export { DEFAULT_STATE_ROOT, defaultStateRoot } from './store.js';
export { NETNS_PREFIX } from './naming.js';
