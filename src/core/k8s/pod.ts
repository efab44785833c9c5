/** Decoding a v1 Pod: what the EndpointSlice controller reads from it. */
import type { SourceLocation } from '../model/diagnostics.js';
import type { Pod } from '../model/objects.js';
import { canonicalIP } from '../net/ip.js';
import { type Field, child, readList, readString } from './fields.js';
import { decodeListItems, decodeOptionalString, familyOf } from './common.js';
import { decodeMeta } from './meta.js';
import { type ObjectReporter, quote } from './report.js';
import { decodeContainerPorts } from './workload.js';

function usableIP(ip: string, path: string, r: ObjectReporter): boolean {
  if (familyOf(ip) !== null) return true;
  r.error(path, `${quote(ip)} is not an IP address (dropped)`);
  return false;
}

function decodePodIPs(status: Field, r: ObjectReporter): string[] {
  const listField = child(status, 'podIPs');
  const written: { ip: string; path: string }[] = [];
  for (const item of decodeListItems(listField, r)) {
    const f = child(item, 'ip');
    const ip = readString(f);
    if (ip.kind === 'ok' && ip.value !== '') written.push({ ip: ip.value, path: f.path });
    else r.error(f.path, `${ip.kind === 'bad' ? ip.problem : 'missing'} (dropped)`);
  }
  const single = child(status, 'podIP');
  const podIP = decodeOptionalString(single, r);
  // API-server defaulting: status.podIPs[0] is status.podIP.
  if (written.length === 0 && podIP !== null) written.push({ ip: podIP, path: single.path });
  else if (podIP !== null && canonicalIP(podIP) !== canonicalIP(written[0]?.ip ?? '')) {
    r.warning(single.path, `${quote(podIP)} differs from status.podIPs[0]: an API server refuses this; status.podIPs is used`);
  }
  return written.filter((w) => usableIP(w.ip, w.path, r)).map((w) => w.ip);
}

function decodeReady(status: Field): boolean {
  const list = readList(child(status, 'conditions'));
  if (list.kind !== 'ok') return false;
  return list.value.some((c) => {
    const type = readString(child(c, 'type'));
    const value = readString(child(c, 'status'));
    return type.kind === 'ok' && type.value === 'Ready' && value.kind === 'ok' && value.value === 'True';
  });
}

export function decodePod(root: Field, unnamed: ObjectReporter, source: SourceLocation): Pod | null {
  const decoded = decodeMeta(root, unnamed, source, { namespaced: true, nameRule: 'subdomain' });
  if (decoded === null) return null;
  const { meta, r } = decoded;
  const spec = child(root, 'spec');
  const status = child(root, 'status');
  const phase = decodeOptionalString(child(status, 'phase'), r);
  return {
    kind: 'Pod',
    meta,
    nodeName: decodeOptionalString(child(spec, 'nodeName'), r),
    hostname: decodeOptionalString(child(spec, 'hostname'), r),
    podIPs: decodePodIPs(status, r),
    // The API server sets Pending when a Pod is created.
    phase: phase ?? 'Pending',
    ready: decodeReady(status),
    containerPorts: decodeContainerPorts(spec, r),
  };
}
