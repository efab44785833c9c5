/** Decoding a v1 Node: its name, addresses, pod CIDRs and taints; labels carry its zone. */
import type { SourceLocation } from '../model/diagnostics.js';
import type { Node, NodeAddress } from '../model/objects.js';
import { parseCIDR } from '../net/ip.js';
import { type Field, child, readList, readString } from './fields.js';
import { decodeStringList, familyOf } from './common.js';
import { decodeMeta } from './meta.js';
import { type ObjectReporter, quote } from './report.js';

function decodeAddresses(root: Field, r: ObjectReporter): NodeAddress[] {
  const f = child(child(root, 'status'), 'addresses');
  const list = readList(f);
  if (list.kind === 'bad') r.error(f.path, `${list.problem} (dropped)`);
  const out: NodeAddress[] = [];
  for (const item of list.kind === 'ok' ? list.value : []) {
    const type = readString(child(item, 'type'));
    const address = readString(child(item, 'address'));
    if (type.kind !== 'ok' || address.kind !== 'ok') {
      r.error(item.path, 'must have a string type and address (dropped)');
      continue;
    }
    const isIPType = type.value === 'InternalIP' || type.value === 'ExternalIP';
    if (isIPType && familyOf(address.value) === null) {
      r.error(`${item.path}.address`, `${quote(address.value)} is not an IP address (dropped)`);
      continue;
    }
    out.push({ type: type.value, address: address.value });
  }
  return out;
}

function decodePodCIDRs(spec: Field, r: ObjectReporter): string[] {
  const written = decodeStringList(child(spec, 'podCIDRs'), r) ?? [];
  const singleField = child(spec, 'podCIDR');
  const single = readString(singleField);
  if (single.kind === 'bad') r.error(singleField.path, `${single.problem} (dropped)`);
  // API-server defaulting: spec.podCIDRs[0] is spec.podCIDR.
  if (written.length === 0 && single.kind === 'ok' && single.value !== '') {
    written.push({ value: single.value, path: singleField.path });
  }
  return written
    .filter((c) => {
      if (parseCIDR(c.value) !== null) return true;
      r.error(c.path, `${quote(c.value)} is not a CIDR (dropped)`);
      return false;
    })
    .map((c) => c.value);
}

function decodeTaintKeys(spec: Field): string[] {
  const list = readList(child(spec, 'taints'));
  if (list.kind !== 'ok') return [];
  const keys: string[] = [];
  for (const t of list.value) {
    const key = readString(child(t, 'key'));
    if (key.kind === 'ok') keys.push(key.value);
  }
  return keys;
}

export function decodeNode(root: Field, unnamed: ObjectReporter, source: SourceLocation): Node | null {
  const decoded = decodeMeta(root, unnamed, source, { namespaced: false, nameRule: 'subdomain' });
  if (decoded === null) return null;
  const { meta, r } = decoded;
  const spec = child(root, 'spec');
  return {
    kind: 'Node',
    meta,
    addresses: decodeAddresses(root, r),
    podCIDRs: decodePodCIDRs(spec, r),
    taintKeys: decodeTaintKeys(spec),
  };
}
