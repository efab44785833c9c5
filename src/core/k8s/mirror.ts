/**
 * v1 Endpoints → EndpointSlices, as the API server's EndpointSlice mirroring controller does
 * (pkg/controller/endpointslicemirroring): one slice per address family and distinct port set,
 * addresses re-printed canonically, `ready` from addresses / notReadyAddresses (serving and
 * terminating left unset), at most 1000 addresses per subset and per slice.
 */
import type { DiagnosticSink } from '../model/diagnostics.js';
import type { EndpointSlice, Endpoints, SliceEndpoint, SlicePort } from '../model/objects.js';
import { parseIP } from '../net/ip.js';
import { ObjectReporter } from './report.js';
import { SERVICE_NAME_LABEL } from './slice.js';
import { MANAGED_BY_LABEL, slicePortsKey, type SliceNamer } from './slice-names.js';
import { compareStrings } from '../compare.js';
import { keyOf } from './sort.js';

const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';
const MIRROR_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';
const DROPPED_ANNOTATIONS = ['endpoints.kubernetes.io/last-change-trigger-time', 'kubectl.kubernetes.io/last-applied-configuration'];
const MAX_MIRRORED = 1000;

/** The controller leaves alone Endpoints labelled skip-mirror and leader-election records. */
export function shouldMirror(ep: Endpoints): boolean {
  return ep.meta.labels[SKIP_MIRROR_LABEL] !== 'true' && ep.meta.annotations[LEADER_ANNOTATION] === undefined;
}

interface Group {
  readonly addressType: 'IPv4' | 'IPv6';
  ports: SlicePort[];
  readonly endpoints: Map<string, SliceEndpoint>;
}

function sliceLabels(ep: Endpoints): Record<string, string> {
  return { ...ep.meta.labels, [SERVICE_NAME_LABEL]: ep.meta.name, [MANAGED_BY_LABEL]: MIRROR_CONTROLLER };
}

function sliceAnnotations(ep: Endpoints): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ep.meta.annotations)) if (!DROPPED_ANNOTATIONS.includes(k)) out[k] = v;
  return out;
}

function collect(ep: Endpoints, r: ObjectReporter): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const [i, subset] of ep.subsets.entries()) {
    const ports = subset.ports.map((p): SlicePort => ({ name: p.name, port: p.port, protocol: p.protocol }));
    const addresses = [
      ...subset.addresses.map((a) => ({ a, ready: true })),
      ...subset.notReadyAddresses.map((a) => ({ a, ready: false })),
    ];
    if (addresses.length > MAX_MIRRORED) {
      r.warning(`subsets[${i}]`, `${addresses.length - MAX_MIRRORED} addresses beyond the first ${MAX_MIRRORED} are not mirrored into EndpointSlices (as the mirroring controller does)`);
    }
    for (const { a, ready } of addresses.slice(0, MAX_MIRRORED)) {
      const ip = parseIP(a.ip);
      if (ip === null) continue; // reported when decoded
      const key = `${ip.family} ${slicePortsKey(ports)}`;
      const group = groups.get(key) ?? { addressType: ip.family, ports, endpoints: new Map() };
      group.ports = ports;
      groups.set(key, group);
      const endpoint: SliceEndpoint = {
        addresses: [ip.text],
        conditions: { ready, serving: null, terminating: null },
        nodeName: a.nodeName,
        zone: null,
        zoneHints: null,
        nodeHints: null,
      };
      group.endpoints.set(JSON.stringify([ip.text, ready, a.nodeName, a.hostname]), endpoint);
    }
  }
  return groups;
}

export function mirrorEndpoints(ep: Endpoints, namer: SliceNamer, sink: DiagnosticSink): EndpointSlice[] {
  const r = new ObjectReporter(sink, ep.meta.source, 'Endpoints', keyOf(ep.meta));
  const groups = collect(ep, r);
  const slices: EndpointSlice[] = [];
  for (const key of [...groups.keys()].sort(compareStrings)) {
    const group = groups.get(key);
    if (group === undefined || group.endpoints.size === 0) continue;
    const endpoints = [...group.endpoints.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, e]) => e);
    if (endpoints.length > MAX_MIRRORED) {
      r.warning('subsets', `${endpoints.length - MAX_MIRRORED} ${group.addressType} addresses beyond ${MAX_MIRRORED} with the same ports are not mirrored (as the mirroring controller does)`);
    }
    slices.push({
      kind: 'EndpointSlice',
      meta: {
        namespace: ep.meta.namespace,
        name: namer.next(ep.meta.namespace, ep.meta.name, `endpoints ${key}`),
        labels: sliceLabels(ep),
        annotations: sliceAnnotations(ep),
        deletionTimestamp: null,
        source: ep.meta.source,
      },
      serviceName: ep.meta.name,
      addressType: group.addressType,
      ports: group.ports,
      endpoints: endpoints.slice(0, MAX_MIRRORED),
      origin: 'endpoints',
    });
  }
  return slices;
}
