/**
 * Decoding a discovery.k8s.io/v1 EndpointSlice as kube-proxy's EndpointSliceCache reads it:
 * the `kubernetes.io/service-name` label names the Service; a port without a number is
 * ignored; an endpoint without addresses is ignored; only addresses[0] is used.
 */
import type { SourceLocation } from '../model/diagnostics.js';
import type { EndpointConditions, EndpointSlice, SliceEndpoint, SlicePort } from '../model/objects.js';
import { type Field, child, readBoolean, readInteger, readList, readString } from './fields.js';
import { decodeOptionalString, decodePortName, decodeProtocol, familyOf, isMappingItem } from './common.js';
import { decodeMeta } from './meta.js';
import { isPortNumber } from './names.js';
import { type ObjectReporter, quote } from './report.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const SKIPPED = 'the EndpointSlice is skipped';

function decodeSlicePort(item: Field, r: ObjectReporter): SlicePort | null {
  if (!isMappingItem(item, r)) return null;
  const name = decodePortName(child(item, 'name'), r, item.path, 'a DNS-1123 label');
  if (name === null) return null;
  const protocol = decodeProtocol(child(item, 'protocol'), r, item.path);
  if (protocol === null) return null;
  const portField = child(item, 'port');
  const port = readInteger(portField);
  if (port.kind !== 'ok' || !isPortNumber(port.value)) {
    const what =
      port.kind === 'absent' || (port.kind === 'ok' && port.value === 0)
        ? 'not set: kube-proxy ignores a port without a number'
        : port.kind === 'bad'
          ? port.problem
          : `${port.value} is not a port number (1-65535)`;
    r.error(portField.path, `${what}; ${item.path} is dropped`);
    return null;
  }
  // API-server defaulting: an absent name is "".
  return { name, port: port.value, protocol };
}

function decodeCondition(f: Field, r: ObjectReporter): boolean | null {
  const b = readBoolean(f);
  if (b.kind === 'bad') r.error(f.path, `${b.problem}; ignored (unset)`);
  return b.kind === 'ok' ? b.value : null;
}

function decodeHintNames(f: Field, r: ObjectReporter): string[] | null {
  const list = readList(f);
  if (list.kind === 'bad') r.error(f.path, `${list.problem} (dropped)`);
  if (list.kind !== 'ok') return null;
  const names: string[] = [];
  for (const item of list.value) {
    const n = readString(child(item, 'name'));
    if (n.kind === 'ok') names.push(n.value);
    else r.error(`${item.path}.name`, `${n.kind === 'bad' ? n.problem : 'missing'} (dropped)`);
  }
  return names.length > 0 ? names : null;
}

function decodeAddresses(item: Field, addressType: EndpointSlice['addressType'], r: ObjectReporter): string[] | null {
  const f = child(item, 'addresses');
  const list = readList(f);
  if (list.kind !== 'ok' || list.value.length === 0) {
    const what = list.kind === 'bad' ? list.problem : 'no addresses: kube-proxy ignores this endpoint';
    r.error(f.path, `${what}; ${item.path} is dropped`);
    return null;
  }
  const out: string[] = [];
  for (const a of list.value) {
    if (typeof a.value !== 'string') {
      r.error(a.path, `must be a string, not ${quote(a.value)}; ${item.path} is dropped`);
      return null;
    }
    out.push(a.value);
  }
  const first = out[0] ?? '';
  if (addressType !== 'FQDN') {
    const family = familyOf(first);
    if (family === null) {
      r.error(`${f.path}[0]`, `${quote(first)} is not an IP address; ${item.path} is dropped`);
      return null;
    }
    if (family !== addressType) {
      r.error(`${f.path}[0]`, `${quote(first)} is not an ${addressType} address as addressType says; ${item.path} is dropped`);
      return null;
    }
  }
  return out;
}

function decodeEndpoint(item: Field, addressType: EndpointSlice['addressType'], r: ObjectReporter): SliceEndpoint | null {
  if (!isMappingItem(item, r)) return null;
  const addresses = decodeAddresses(item, addressType, r);
  if (addresses === null) return null;
  const cond = child(item, 'conditions');
  const conditions: EndpointConditions = {
    ready: decodeCondition(child(cond, 'ready'), r),
    serving: decodeCondition(child(cond, 'serving'), r),
    terminating: decodeCondition(child(cond, 'terminating'), r),
  };
  const hints = child(item, 'hints');
  return {
    addresses,
    conditions,
    nodeName: decodeOptionalString(child(item, 'nodeName'), r),
    zone: decodeOptionalString(child(item, 'zone'), r),
    zoneHints: decodeHintNames(child(hints, 'forZones'), r),
    nodeHints: decodeHintNames(child(hints, 'forNodes'), r),
  };
}

function decodeAddressType(root: Field, r: ObjectReporter): EndpointSlice['addressType'] | null {
  const f = child(root, 'addressType');
  const t = readString(f);
  if (t.kind === 'ok' && (t.value === 'IPv4' || t.value === 'IPv6' || t.value === 'FQDN')) return t.value;
  const what = t.kind === 'absent' ? 'missing' : t.kind === 'bad' ? t.problem : `${quote(t.value)} is not IPv4, IPv6 or FQDN`;
  r.error(f.path, `${what}; ${SKIPPED}`);
  return null;
}

function decodeList<T>(f: Field, r: ObjectReporter, each: (item: Field) => T | null): T[] | null {
  const list = readList(f);
  if (list.kind === 'absent') return [];
  if (list.kind === 'bad') {
    r.error(f.path, `${list.problem}; ${SKIPPED}`);
    return null;
  }
  return list.value.map(each).filter((x): x is T => x !== null);
}

function warnDuplicatePorts(path: string, ports: readonly SlicePort[], r: ObjectReporter): void {
  const seen = new Set<string>();
  for (const p of ports) {
    const key = `${p.name ?? ''}/${p.protocol}`;
    if (seen.has(key)) {
      r.warning(path, `two ports named ${quote(p.name)} with protocol ${p.protocol}: an API server refuses this; kube-proxy uses both`);
    }
    seen.add(key);
  }
}

export function decodeEndpointSlice(root: Field, unnamed: ObjectReporter, source: SourceLocation): EndpointSlice | null {
  const decoded = decodeMeta(root, unnamed, source, { namespaced: true, nameRule: 'subdomain' });
  if (decoded === null) return null;
  const { meta, r } = decoded;
  const addressType = decodeAddressType(root, r);
  if (addressType === null) return null;
  const ports = decodeList(child(root, 'ports'), r, (item) => decodeSlicePort(item, r));
  const endpoints = decodeList(child(root, 'endpoints'), r, (item) => decodeEndpoint(item, addressType, r));
  if (ports === null || endpoints === null) return null;
  warnDuplicatePorts(child(root, 'ports').path, ports, r);
  const serviceName = meta.labels[SERVICE_NAME_LABEL] ?? '';
  if (serviceName === '') {
    r.error(
      `${child(child(root, 'metadata'), 'labels').path}[${JSON.stringify(SERVICE_NAME_LABEL)}]`,
      'missing: kube-proxy ignores an EndpointSlice that names no Service',
    );
  }
  return {
    kind: 'EndpointSlice',
    meta,
    serviceName: serviceName === '' ? null : serviceName,
    addressType,
    ports,
    endpoints,
    origin: 'input',
  };
}
