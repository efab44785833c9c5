/**
 * Bringing pods up (namespace, veth, server) and down (server, namespace), a few at a time.
 */
import path from 'node:path';
import { KproxyError } from '../../core/errors.js';
import { deleteNetns, setupPod } from './netns.js';
import { startPodServer, stopProcess, isPodServer } from './processes.js';
import type { SandboxPaths } from './store.js';
import type { SandboxPodState, SandboxState } from './types.js';

const PARALLEL_PODS = 8;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      const item = items[i];
      if (item !== undefined) out[i] = await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function podLogFile(paths: SandboxPaths, pod: SandboxPodState): string {
  return path.join(paths.logsDir, `${pod.namespace}.${pod.name}.log`);
}

export interface StartedPod {
  readonly pod: SandboxPodState;
  /** Resolves when the pod's server listens (at once for client pods). */
  readonly ready: Promise<void>;
}

/** Wires each pod to its node and starts its server; returns the pods with their pids. */
export async function startPods(
  state: SandboxState,
  pods: readonly SandboxPodState[],
  paths: SandboxPaths,
  readyTimeoutMs: number,
): Promise<StartedPod[]> {
  return mapLimit(pods, PARALLEL_PODS, async (pod) => {
    const node = state.nodes.find((n) => n.name === pod.nodeName);
    if (node === undefined) throw new KproxyError('E_SANDBOX', `pod ${pod.name}: unknown node ${pod.nodeName}`);
    await setupPod(node, pod);
    if (pod.role === 'client') return { pod: { ...pod, phase: 'Running' }, ready: Promise.resolve() };
    const server = startPodServer(
      {
        netns: pod.netns,
        pod: pod.name,
        namespace: pod.namespace,
        node: pod.nodeName,
        ip: pod.ip,
        ports: pod.serverPorts,
      },
      podLogFile(paths, pod),
      readyTimeoutMs,
    );
    // Avoid an unhandled rejection before the caller awaits it.
    server.ready.catch(() => undefined);
    return { pod: { ...pod, pid: server.pid }, ready: server.ready };
  });
}

/** Stops a pod's server and deletes its namespace (its veth goes with it). */
export async function removePodFromKernel(pod: SandboxPodState): Promise<void> {
  if (pod.pid !== null && isPodServer(pod.pid, pod.netns)) await stopProcess(pod.pid);
  await deleteNetns(pod.netns);
}
