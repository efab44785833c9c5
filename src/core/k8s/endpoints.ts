/** Decoding a v1 Endpoints object (kept so it can be mirrored into EndpointSlices). */
import type { SourceLocation } from '../model/diagnostics.js';
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints } from '../model/objects.js';
import { type Field, child, readList, readRecord, readString } from './fields.js';
import { decodeProtocol, decodeRequiredPort, familyOf } from './common.js';
import { decodeMeta } from './meta.js';
import { isDNS1123Label } from './names.js';
import { type ObjectReporter, quote } from './report.js';

function mapping(item: Field, r: ObjectReporter): boolean {
  const rec = readRecord(item);
  if (rec.kind === 'ok') return true;
  r.error(item.path, `${rec.kind === 'bad' ? rec.problem : 'must be a mapping, not null'}; it is dropped`);
  return false;
}

function optionalString(f: Field, r: ObjectReporter): string | null {
  const s = readString(f);
  if (s.kind === 'bad') r.error(f.path, `${s.problem} (dropped)`);
  return s.kind === 'ok' && s.value !== '' ? s.value : null;
}

function decodeAddress(item: Field, r: ObjectReporter): EndpointAddress | null {
  if (!mapping(item, r)) return null;
  const f = child(item, 'ip');
  const ip = readString(f);
  if (ip.kind !== 'ok' || familyOf(ip.value) === null) {
    const what = ip.kind === 'absent' ? 'missing' : ip.kind === 'bad' ? ip.problem : `${quote(ip.value)} is not an IP address`;
    r.error(f.path, `${what}: the EndpointSlice mirroring controller skips it; ${item.path} is dropped`);
    return null;
  }
  return { ip: ip.value, nodeName: optionalString(child(item, 'nodeName'), r), hostname: optionalString(child(item, 'hostname'), r) };
}

function decodePort(item: Field, r: ObjectReporter): EndpointPort | null {
  if (!mapping(item, r)) return null;
  const nameField = child(item, 'name');
  const name = readString(nameField);
  if (name.kind === 'bad' || (name.kind === 'ok' && name.value !== '' && !isDNS1123Label(name.value))) {
    const what = name.kind === 'bad' ? name.problem : `${quote(name.value)} is not a valid port name (a DNS-1123 label)`;
    r.error(nameField.path, `${what}; ${item.path} is dropped`);
    return null;
  }
  const protocol = decodeProtocol(child(item, 'protocol'), r, item.path);
  const port = decodeRequiredPort(child(item, 'port'), r, item.path);
  if (protocol === null || port === null) return null;
  return { name: name.kind === 'ok' ? name.value : '', port, protocol };
}

function decodeItems<T>(f: Field, r: ObjectReporter, each: (item: Field, r: ObjectReporter) => T | null): T[] {
  const list = readList(f);
  if (list.kind === 'bad') r.error(f.path, `${list.problem} (dropped)`);
  if (list.kind !== 'ok') return [];
  return list.value.map((item) => each(item, r)).filter((x): x is T => x !== null);
}

function decodeSubset(item: Field, r: ObjectReporter): EndpointSubset | null {
  if (!mapping(item, r)) return null;
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
