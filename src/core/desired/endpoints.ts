/**
 * EndpointSlices → endpoints per service port (kube-proxy's EndpointSliceCache merge rules,
 * reference §2.2 / C.8): only addresses[0], conditions with nil defaults, dedup by `ip:port`
 * where a terminating endpoint never replaces another, sorted by the `ip:port` string.
 */
import { compareStrings } from '../compare.js';
import { joinHostPort, parseIP } from '../net/ip.js';
import type { EndpointSlice, IPFamily } from '../model/objects.js';
import type { EndpointInfo, ServicePortKey } from '../model/service-port.js';

export function servicePortKeyString(k: ServicePortKey): string {
  return `${k.namespace}/${k.name}:${k.portName}/${k.protocol}`;
}

export interface EndpointOptions {
  readonly family: IPFamily;
  readonly nodeName: string;
  /** Node hints are only read with the PreferSameTrafficDistribution gate on. */
  readonly nodeHintsEnabled: boolean;
}

/** Endpoints of every service port named by the slices, keyed by `servicePortKeyString`. */
export function endpointsByServicePort(
  slices: readonly EndpointSlice[],
  opts: EndpointOptions,
): Map<string, EndpointInfo[]> {
  const sets = new Map<string, Map<string, EndpointInfo>>();
  const ordered = [...slices].sort(
    (a, b) => compareStrings(a.meta.namespace, b.meta.namespace) || compareStrings(a.meta.name, b.meta.name),
  );
  for (const slice of ordered) {
    if (slice.serviceName === null || slice.addressType !== opts.family) continue;
    for (const port of slice.ports) {
      if (port.name === null || port.port === null || port.port === 0) continue;
      const key = servicePortKeyString({
        namespace: slice.meta.namespace,
        name: slice.serviceName,
        portName: port.name,
        protocol: port.protocol,
      });
      let set = sets.get(key);
      if (set === undefined) {
        set = new Map();
        sets.set(key, set);
      }
      for (const ep of slice.endpoints) {
        const first = ep.addresses[0];
        if (first === undefined) continue;
        const ip = parseIP(first);
        if (ip?.family !== opts.family) continue;
        const terminating = ep.conditions.terminating === true;
        const info: EndpointInfo = {
          ip: ip.text,
          port: port.port,
          endpoint: joinHostPort(ip.text, port.port),
          ready: ep.conditions.ready ?? true,
          serving: ep.conditions.serving ?? true,
          terminating,
          isLocal: opts.nodeName !== '' && ep.nodeName === opts.nodeName,
          nodeName: ep.nodeName,
          zoneHints: ep.zoneHints !== null && ep.zoneHints.length > 0 ? ep.zoneHints : null,
          nodeHints: opts.nodeHintsEnabled && ep.nodeHints !== null && ep.nodeHints.length > 0 ? ep.nodeHints : null,
        };
        if (!set.has(info.endpoint) || !terminating) set.set(info.endpoint, info);
      }
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, set] of sets) {
    out.set(key, [...set.values()].sort((a, b) => compareStrings(a.endpoint, b.endpoint)));
  }
  return out;
}
