/**
 * The persisted state of one sandbox run (`<stateDir>/state.json`). Separate CLI invocations
 * (`up`, `scale`, `delete-pod`, `down`) share a sandbox through this file.
 */
import type { ContainerPort, EndpointSlice, Service } from '../../core/model/objects.js';

export const STATE_VERSION = 1;

export interface SandboxNodeState {
  /** The Kubernetes Node name, e.g. `node-1`. */
  readonly name: string;
  /** 1-based position; decides the node's address and uplink name. */
  readonly index: number;
  readonly netns: string;
  /** InternalIP on the external bridge, e.g. `198.51.100.2`. */
  readonly address: string;
  readonly podCIDR: string;
  /** External-side end of the node's uplink veth. */
  readonly uplink: string;
}

/** `Pending`: created, server not listening yet; `Running`: listening; `Terminating`: in its grace period. */
export type PodPhase = 'Pending' | 'Running' | 'Terminating';
/** `workload`: from a Deployment or Pod manifest; `client`: the per-node client no Service selects. */
export type PodRole = 'workload' | 'client';

export interface SandboxPodState {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly containerPorts: readonly ContainerPort[];
  /** Ports the pod server listens on (TCP and UDP each). Empty for client pods. */
  readonly serverPorts: readonly number[];
  /** Name of the owning Deployment, null for standalone and client pods. */
  readonly deployment: string | null;
  readonly role: PodRole;
  readonly nodeName: string;
  readonly ip: string;
  readonly netns: string;
  /** Node-side veth name. */
  readonly hostVeth: string;
  /** Per-run sequence number (names the veth). */
  readonly seq: number;
  /** Pid of the pod server (null before it starts, and for client pods). */
  readonly pid: number | null;
  readonly phase: PodPhase;
  /** RFC 3339 time at which a terminating pod is removed; null otherwise. */
  readonly deletionDeadline: string | null;
}

export interface SandboxDeploymentState {
  readonly namespace: string;
  readonly name: string;
  /** Desired replicas. */
  readonly replicas: number;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly containerPorts: readonly ContainerPort[];
  /** Next pod name suffix (`<name>-<n>`); names are never reused within a run. */
  readonly nextIndex: number;
}

/** `creating`: `up` is running (its owner pid is alive unless it crashed); `up`: complete. */
export type SandboxPhase = 'creating' | 'up';

export interface SandboxState {
  readonly version: typeof STATE_VERSION;
  readonly name: string;
  readonly id: string;
  readonly stateDir: string;
  /** Pid of the process that ran `up`. */
  readonly ownerPid: number;
  readonly phase: SandboxPhase;
  readonly createdAt: string;
  readonly externalNetns: string;
  readonly bridge: string;
  readonly externalAddress: string;
  readonly serviceCIDR: string;
  readonly loadBalancerPool: string;
  readonly nodes: readonly SandboxNodeState[];
  readonly pods: readonly SandboxPodState[];
  readonly deployments: readonly SandboxDeploymentState[];
  /** Services with their allocated clusterIP, nodePorts and load-balancer ingress. */
  readonly services: readonly Service[];
  /** EndpointSlices from the input for Services without a selector, passed through as given. */
  readonly inputSlices: readonly EndpointSlice[];
  readonly nextPodSeq: number;
  /** Notes about the input (ignored objects, adjusted fields), shown by `up`. */
  readonly notes: readonly string[];
}
