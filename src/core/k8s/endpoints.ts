/** Decoding a v1 Endpoints object (kept so it can be mirrored into EndpointSlices). */
import type { SourceLocation } from '../model/diagnostics.js';
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints } from '../model/objects.js';
import { type Field, child, readList, readString } from './fields.js';
import { decodeListItems, decodeOptionalString, decodePortName, decodeProtocol, decodeRequiredPort, familyOf, isMappingItem } from './common.js';
import { decodeMeta } from './meta.js';
import { type ObjectReporter, quote } from './report.js';

function decodeAddress(item: Field, r: ObjectReporter): EndpointAddress | null {
  if (!isMappingItem(item, r)) return null;
  const f = child(item, 'ip');
  const ip = readString(f);
  if (ip.kind !== 'ok' || familyOf(ip.value) === null) {
    const what = ip.kind === 'absent' ? 'missing' : ip.kind === 'bad' ? ip.problem : `${quote(ip.value)} is not an IP address`;
    r.error(f.path, `${what}: the EndpointSlice mirroring controller skips it; ${item.path} is dropped`);
    return null;
  }
  return { ip: ip.value, nodeName: decodeOptionalString(child(item, 'nodeName'), r), hostname: decodeOptionalString(child(item, 'hostname'), r) };
}

function decodePort(item: Field, r: ObjectReporter): EndpointPort | null {
  if (!isMappingItem(item, r)) return null;
  const name = decodePortName(child(item, 'name'), r, item.path, 'a DNS-1123 label');
  if (name === null) return null;
  const protocol = decodeProtocol(child(item, 'protocol'), r, item.path);
  const port = decodeRequiredPort(child(item, 'port'), r, item.path);
  if (protocol === null || port === null) return null;
  return { name, port, protocol };
}

function decodeItems<T>(f: Field, r: ObjectReporter, each: (item: Field, r: ObjectReporter) => T | null): T[] {
  return decodeListItems(f, r)
    .map((item) => each(item, r))
    .filter((x): x is T => x !== null);
}

function decodeSubset(item: Field, r: ObjectReporter): EndpointSubset | null {
  if (!isMappingItem(item, r)) return null;
  return {
    addresses: decodeItems(child(item, 'addresses'), r, decodeAddress),
    notReadyAddresses: decodeItems(child(item, 'notReadyAddresses'), r, decodeAddress),
    ports: decodeItems(child(item, 'ports'), r, decodePort),
  };
}

export function decodeEndpoints(root: Field, unnamed: ObjectReporter, source: SourceLocation): Endpoints | null {
  const decoded = decodeMeta(root, unnamed, source, { namespaced: true, nameRule: 'subdomain' });
  if (decoded === null) return null;
  const { meta, r } = decoded;
  const f = child(root, 'subsets');
  const list = readList(f);
  if (list.kind === 'bad') {
    r.error(f.path, `${list.problem}; the Endpoints object is skipped`);
    return null;
  }
  const subsets = decodeItems(f, r, decodeSubset);
  return { kind: 'Endpoints', meta, subsets };
}
