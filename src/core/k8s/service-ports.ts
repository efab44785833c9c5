/**
 * spec.ports. kube-proxy keys service ports by (port name, protocol) in a map, so of two
 * ports with the same key only the later survives; the earlier is dropped here the same way.
 */
import type { ServicePortSpec } from '../model/objects.js';
import { type Field, child, readInteger, readList } from './fields.js';
import { decodePortName, decodeProtocol, decodeRequiredPort, isMappingItem } from './common.js';
import { MAX_RULE_NAME_LENGTH, isIanaServiceName, isInDefaultNodePortRange, isPortNumber, isRuleSafeName } from './names.js';
import { type ObjectReporter, quote } from './report.js';

function decodeTargetPort(f: Field, port: number, r: ObjectReporter): number | string {
  const v = f.value;
  if (v === undefined || v === null || v === 0 || v === '') return port;
  if (typeof v === 'number') {
    if (isPortNumber(v)) return v;
    r.error(f.path, `${String(v)} is not a port number (1-65535); ignored, so it defaults to the port ${port}`);
    return port;
  }
  if (typeof v !== 'string') {
    r.error(f.path, `must be a port number or a port name, not ${quote(v)}; ignored, so it defaults to the port ${port}`);
    return port;
  }
  if (/^[0-9]+$/.test(v) && isPortNumber(Number(v))) {
    r.warning(f.path, `${quote(v)} is a string: an API server reads it as a port name and refuses it; read as the number ${v}`);
    return Number(v);
  }
  if (!isIanaServiceName(v)) {
    const matching = isRuleSafeName(v, MAX_RULE_NAME_LENGTH)
      ? 'container ports of that name still match it, as kube-proxy would see them'
      : 'no container port can match it';
    r.warning(f.path, `${quote(v)} is not a valid port name (IANA_SVC_NAME): an API server refuses it; ${matching}`);
  }
  return v;
}

function decodeNodePort(f: Field, r: ObjectReporter): number {
  const n = readInteger(f);
  if (n.kind === 'absent') return 0;
  if (n.kind === 'bad') {
    r.error(f.path, `${n.problem} (dropped)`);
    return 0;
  }
  if (n.value === 0) return 0;
  if (!isPortNumber(n.value)) {
    r.error(f.path, `${n.value} is not a port number (1-65535) (dropped)`);
    return 0;
  }
  if (!isInDefaultNodePortRange(n.value)) {
    r.warning(f.path, `${n.value} is outside the default node-port range 30000-32767: an API server refuses it; kube-proxy opens it`);
  }
  return n.value;
}

function decodePort(item: Field, index: number, r: ObjectReporter): ServicePortSpec | null {
  const dropped = item.path;
  if (!isMappingItem(item, r)) return null;
  const name = decodePortName(child(item, 'name'), r, dropped, 'a DNS-1123 label');
  const protocol = decodeProtocol(child(item, 'protocol'), r, dropped);
  const port = decodeRequiredPort(child(item, 'port'), r, dropped);
  if (name === null || protocol === null || port === null) return null;
  return {
    name,
    protocol,
    port,
    targetPort: decodeTargetPort(child(item, 'targetPort'), port, r),
    nodePort: decodeNodePort(child(item, 'nodePort'), r),
    index,
  };
}

/** The usable ports; null when spec.ports is not a list (the Service is skipped). */
export function decodeServicePorts(spec: Field, r: ObjectReporter): ServicePortSpec[] | null {
  const f = child(spec, 'ports');
  const list = readList(f);
  if (list.kind === 'bad') {
    r.error(f.path, `${list.problem}; the Service is skipped`);
    return null;
  }
  if (list.kind === 'absent') return [];
  const decoded: ServicePortSpec[] = [];
  for (const [i, item] of list.value.entries()) {
    const p = decodePort(item, i, r);
    if (p !== null) decoded.push(p);
  }
  const lastIndexByKey = new Map<string, number>();
  for (const p of decoded) lastIndexByKey.set(`${p.name}/${p.protocol}`, p.index);
  const kept = decoded.filter((p) => {
    const last = lastIndexByKey.get(`${p.name}/${p.protocol}`);
    if (last === undefined || last === p.index) return true;
    r.error(
      `${f.path}[${p.index}]`,
      `has the same name ${quote(p.name)} and protocol ${p.protocol} as spec.ports[${last}]: kube-proxy keeps only the later one, so this port is dropped`,
    );
    return false;
  });
  if (kept.length > 1) {
    for (const p of kept) {
      if (p.name === '') {
        r.warning(`${f.path}[${p.index}].name`, 'not set: an API server requires every port of a multi-port Service to be named');
      }
    }
  }
  return kept;
}
