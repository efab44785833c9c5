/**
 * Pods → EndpointSlices for a Service with a selector, as kube-controller-manager's
 * EndpointSlice controller does (staging/src/k8s.io/endpointslice): per address family of the
 * Service, every selected Pod that is not finished and has an IP becomes an endpoint; a named
 * targetPort is resolved per Pod, and Pods whose ports resolve differently land in different
 * slices; at most 100 endpoints per slice; an empty placeholder slice when there are none.
 */
import { HEADLESS_LABEL } from '../desired/proxy-filter.js';
import type { DiagnosticSink } from '../model/diagnostics.js';
import type { EndpointSlice, IPFamily, Node, Pod, Service, SliceEndpoint, SlicePort } from '../model/objects.js';
import { familyOf } from './common.js';
import { ObjectReporter } from './report.js';
import { SERVICE_NAME_LABEL } from './slice.js';
import { MANAGED_BY_LABEL, slicePortsKey, type SliceNamer } from './slice-names.js';
import { compareStrings } from '../compare.js';
import { keyOf } from './sort.js';

const MAX_PER_SLICE = 100;
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const CONTROLLER = 'endpointslice-controller.k8s.io';
const HINT_ANNOTATIONS = ['service.kubernetes.io/topology-aware-hints', 'service.kubernetes.io/topology-mode'];

/** What the pod controller needs besides the Service: its Pods and the Nodes (null: none given). */
export interface PodWorld {
  readonly pods: readonly Pod[];
  readonly nodes: ReadonlyMap<string, Node> | null;
}

function addressTypes(svc: Service): IPFamily[] {
  const fromFamilies = new Set(svc.ipFamilies);
  if (fromFamilies.size > 0) return (['IPv4', 'IPv6'] as const).filter((f) => fromFamilies.has(f));
  const f = svc.clusterIP !== '' && svc.clusterIP !== 'None' ? familyOf(svc.clusterIP) : null;
  return f === null ? ['IPv4', 'IPv6'] : [f];
}

/** Whether every label of a Service's selector is on the object (an empty selector selects all). */
export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function selects(svc: Service, pod: Pod): boolean {
  if (svc.selector === null || pod.meta.namespace !== svc.meta.namespace) return false;
  return selectorMatches(svc.selector, pod.meta.labels);
}

/** The Pod's port for each Service port; a port whose named targetPort the Pod lacks is left out. */
function endpointPorts(svc: Service, pod: Pod): SlicePort[] {
  const out: SlicePort[] = [];
  for (const sp of svc.ports) {
    const tp = sp.targetPort;
    const port = typeof tp === 'number' ? tp : pod.containerPorts.find((c) => c.name === tp && c.protocol === sp.protocol)?.containerPort;
    if (port !== undefined) out.push({ name: sp.name, port, protocol: sp.protocol });
  }
  return out;
}

function toEndpoint(svc: Service, pod: Pod, node: Node | undefined, family: IPFamily): SliceEndpoint {
  const serving = pod.ready;
  const terminating = pod.meta.deletionTimestamp !== null;
  const zone = node?.meta.labels[ZONE_LABEL] ?? '';
  return {
    addresses: pod.podIPs.filter((ip) => familyOf(ip) === family),
    conditions: { ready: svc.publishNotReadyAddresses || (serving && !terminating), serving, terminating },
    nodeName: pod.nodeName,
    zone: zone === '' ? null : zone,
    zoneHints: null,
    nodeHints: null,
  };
}

/** trafficDistribution hints (PreferClose / PreferSameZone / PreferSameNode) on ready endpoints. */
function withHints(svc: Service, e: SliceEndpoint): SliceEndpoint {
  const mode = svc.trafficDistribution;
  if (mode !== 'PreferClose' && mode !== 'PreferSameZone' && mode !== 'PreferSameNode') return e;
  if (e.conditions.ready !== true) return e;
  const nodeHints = mode === 'PreferSameNode' && e.nodeName !== null ? [e.nodeName] : null;
  return { ...e, zoneHints: e.zone === null ? null : [e.zone], nodeHints };
}

function sliceLabels(svc: Service): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.meta.labels)) {
    if (k !== SERVICE_NAME_LABEL && k !== MANAGED_BY_LABEL && k !== HEADLESS_LABEL) out[k] = v;
  }
  if (svc.clusterIP === '' || svc.clusterIP === 'None') out[HEADLESS_LABEL] = '';
  out[SERVICE_NAME_LABEL] = svc.meta.name;
  out[MANAGED_BY_LABEL] = CONTROLLER;
  return out;
}

interface Group {
  readonly ports: SlicePort[];
  readonly endpoints: { readonly sortKey: string; readonly endpoint: SliceEndpoint }[];
}

class PodSliceBuilder {
  private readonly reportedPods = new Set<string>();

  constructor(
    private readonly svc: Service,
    private readonly world: PodWorld,
    private readonly namer: SliceNamer,
    private readonly sink: DiagnosticSink,
  ) {}

  build(): EndpointSlice[] {
    const hints = HINT_ANNOTATIONS.find((a) => ['Auto', 'auto'].includes(this.svc.meta.annotations[a] ?? ''));
    if (hints !== undefined) {
      new ObjectReporter(this.sink, this.svc.meta.source, 'Service', keyOf(this.svc.meta)).note(
        `metadata.annotations[${JSON.stringify(hints)}]`,
        'kproxy does not compute topology-aware hints from Pods; the endpoints derived from Pods carry none',
      );
    }
    const selected = this.world.pods.filter((p) => selects(this.svc, p));
    return addressTypes(this.svc).flatMap((family) => this.forFamily(family, selected, hints === undefined));
  }

  /** The Node of a Pod; false when Nodes were given but not this one (the controller skips the Pod). */
  private nodeOf(pod: Pod): Node | undefined | false {
    if (this.world.nodes === null) return undefined;
    const node = this.world.nodes.get(pod.nodeName ?? '');
    if (node !== undefined || this.svc.publishNotReadyAddresses) return node;
    const key = keyOf(pod.meta);
    if (!this.reportedPods.has(key)) {
      this.reportedPods.add(key);
      new ObjectReporter(this.sink, pod.meta.source, 'Pod', key).warning(
        'spec.nodeName',
        `${pod.nodeName === null ? 'not set' : `node ${JSON.stringify(pod.nodeName)} is not among the input Nodes`}: the EndpointSlice controller leaves this Pod out of Service ${keyOf(this.svc.meta)}`,
      );
    }
    return false;
  }

  private forFamily(family: IPFamily, pods: readonly Pod[], useTrafficHints: boolean): EndpointSlice[] {
    const groups = new Map<string, Group>();
    for (const pod of pods) {
      if (pod.phase === 'Failed' || pod.phase === 'Succeeded' || pod.podIPs.length === 0) continue;
      const ports = endpointPorts(this.svc, pod);
      const key = slicePortsKey(ports);
      const group = groups.get(key) ?? { ports, endpoints: [] };
      groups.set(key, group);
      const node = this.nodeOf(pod);
      if (node === false) continue;
      const endpoint = toEndpoint(this.svc, pod, node, family);
      if (endpoint.addresses.length === 0) continue;
      group.endpoints.push({ sortKey: `${endpoint.addresses.join(',')} ${pod.meta.name}`, endpoint: useTrafficHints ? withHints(this.svc, endpoint) : endpoint });
    }
    const slices: EndpointSlice[] = [];
    for (const key of [...groups.keys()].sort(compareStrings)) {
      const group = groups.get(key);
      if (group === undefined) continue;
      const sorted = [...group.endpoints].sort((a, b) => compareStrings(a.sortKey, b.sortKey)).map((e) => e.endpoint);
      for (let i = 0; i < sorted.length; i += MAX_PER_SLICE) {
        slices.push(this.slice(family, group.ports, sorted.slice(i, i + MAX_PER_SLICE), `pods ${family} ${key} ${i}`));
      }
    }
    return slices.length > 0 ? slices : [this.slice(family, [], [], `pods ${family} placeholder`)];
  }

  private slice(family: IPFamily, ports: SlicePort[], endpoints: SliceEndpoint[], seed: string): EndpointSlice {
    const { meta } = this.svc;
    return {
      kind: 'EndpointSlice',
      meta: {
        namespace: meta.namespace,
        name: this.namer.next(meta.namespace, meta.name, seed),
        labels: sliceLabels(this.svc),
        annotations: {},
        deletionTimestamp: null,
        source: meta.source,
      },
      serviceName: meta.name,
      addressType: family,
      ports,
      endpoints,
      origin: 'pods',
    };
  }
}

export function slicesFromPods(svc: Service, world: PodWorld, namer: SliceNamer, sink: DiagnosticSink): EndpointSlice[] {
  return new PodSliceBuilder(svc, world, namer, sink).build();
}
