/**
 * EndpointSlices as Kubernetes' EndpointSlice controller would write them for the sandbox's
 * pods: one slice per distinct set of resolved ports, endpoints with ready / serving /
 * terminating conditions and nodeName, named targetPorts resolved from each pod's container
 * ports (a pod without the named port is left out of that port's slice). Pure.
 */
import type {
  EndpointConditions,
  EndpointSlice,
  Service,
  SliceEndpoint,
  SlicePort,
} from '../../core/model/objects.js';
import { selectorMatches } from '../../core/k8s/pod-slices.js';
import { ipv4ToInt } from './addresses.js';
import type { SandboxPodState } from './types.js';

const SANDBOX_SOURCE = { file: 'sandbox', document: 0 } as const;

/** The pods a Service's selector picks (client pods never). */
function selectedPods(service: Service, pods: readonly SandboxPodState[]): SandboxPodState[] {
  const selector = service.selector;
  if (selector === null) return [];
  return pods.filter(
    (p) => p.role === 'workload' && p.namespace === service.meta.namespace && selectorMatches(selector, p.labels),
  );
}

/** The pod's ports for the Service, in the Service's port order; unresolvable named ports are left out. */
function resolvePorts(service: Service, pod: SandboxPodState): SlicePort[] {
  const out: SlicePort[] = [];
  for (const sp of service.ports) {
    let port: number | null = null;
    if (typeof sp.targetPort === 'number') {
      port = sp.targetPort;
    } else {
      const named = pod.containerPorts.find((cp) => cp.name === sp.targetPort && cp.protocol === sp.protocol);
      port = named?.containerPort ?? null;
    }
    if (port !== null) out.push({ name: sp.name, port, protocol: sp.protocol });
  }
  return out;
}

/** Conditions as the controller derives them from the pod's Ready condition and deletion. */
export function endpointConditions(service: Service, pod: SandboxPodState): EndpointConditions {
  const podReady = pod.phase === 'Running' || pod.phase === 'Terminating';
  const terminating = pod.phase === 'Terminating';
  return {
    ready: service.publishNotReadyAddresses || (podReady && !terminating),
    serving: podReady,
    terminating,
  };
}

function portsKey(ports: readonly SlicePort[]): string {
  return ports.map((p) => `${p.name}/${p.protocol}/${String(p.port)}`).join(',');
}

/** A short stable name suffix (FNV-1a, base 36), so a slice keeps its name while its ports do. */
function suffix(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).padStart(7, '0').slice(-5);
}

function byAddress(a: SliceEndpoint, b: SliceEndpoint): number {
  return (ipv4ToInt(a.addresses[0] ?? '') ?? 0) - (ipv4ToInt(b.addresses[0] ?? '') ?? 0);
}

function sliceFor(service: Service, ports: readonly SlicePort[], endpoints: SliceEndpoint[]): EndpointSlice {
  return {
    kind: 'EndpointSlice',
    meta: {
      namespace: service.meta.namespace,
      name: `${service.meta.name}-${suffix(portsKey(ports))}`,
      labels: {
        'kubernetes.io/service-name': service.meta.name,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
      annotations: {},
      deletionTimestamp: null,
      source: SANDBOX_SOURCE,
    },
    serviceName: service.meta.name,
    addressType: 'IPv4',
    ports,
    endpoints: endpoints.sort(byAddress),
    origin: 'pods',
  };
}

/** The slices of one Service with a selector; a Service without endpoints gets one empty slice. */
export function slicesForService(service: Service, pods: readonly SandboxPodState[]): EndpointSlice[] {
  if (service.selector === null || service.type === 'ExternalName') return [];
  const groups = new Map<string, { ports: SlicePort[]; endpoints: SliceEndpoint[] }>();
  for (const pod of selectedPods(service, pods)) {
    const ports = resolvePorts(service, pod);
    const k = portsKey(ports);
    const group = groups.get(k) ?? { ports, endpoints: [] };
    group.endpoints.push({
      addresses: [pod.ip],
      conditions: endpointConditions(service, pod),
      nodeName: pod.nodeName,
      zone: null,
      zoneHints: null,
      nodeHints: null,
    });
    groups.set(k, group);
  }
  if (groups.size === 0) return [sliceFor(service, [], [])];
  return [...groups.keys()].sort().map((k) => {
    const g = groups.get(k);
    return sliceFor(service, g?.ports ?? [], g?.endpoints ?? []);
  });
}

/** Every slice the sandbox publishes: built ones for selector Services, given ones for the rest. */
export function buildEndpointSlices(
  services: readonly Service[],
  pods: readonly SandboxPodState[],
  inputSlices: readonly EndpointSlice[],
): EndpointSlice[] {
  return [...services.flatMap((s) => slicesForService(s, pods)), ...inputSlices];
}

/** Where a pod is serving, for a pod that targetRef-style lookups need (status output). */
export function endpointTargetRef(slice: EndpointSlice, endpoint: SliceEndpoint, pods: readonly SandboxPodState[]): SandboxPodState | null {
  return pods.find((p) => p.namespace === slice.meta.namespace && p.ip === endpoint.addresses[0]) ?? null;
}
