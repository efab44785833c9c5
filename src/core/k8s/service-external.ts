/**
 * spec.externalIPs, spec.loadBalancerSourceRanges and status.loadBalancer.ingress: kube-proxy
 * skips entries it cannot parse (MapIPsByIPFamily / MapCIDRsByIPFamily, empty strings silently)
 * and trims source ranges first (API validation lets padding through).
 */
import type { LoadBalancerIngress } from '../model/objects.js';
import { parseCIDR, parseIP } from '../net/ip.js';
import { type Field, child, readList, readRecord, readString } from './fields.js';
import { decodeStringList } from './common.js';
import { type ObjectReporter, quote } from './report.js';

export function decodeExternalIPs(spec: Field, r: ObjectReporter): string[] {
  const entries = decodeStringList(child(spec, 'externalIPs'), r) ?? [];
  const out: string[] = [];
  for (const e of entries) {
    if (e.value.trim() === '') r.warning(e.path, 'empty; ignored (as kube-proxy does)');
    else if (parseIP(e.value) === null) r.error(e.path, `${quote(e.value)} is not an IP address (dropped)`);
    else out.push(e.value);
  }
  return out;
}

export function decodeSourceRanges(spec: Field, r: ObjectReporter): string[] {
  const field = child(spec, 'loadBalancerSourceRanges');
  const entries = decodeStringList(field, r) ?? [];
  const out: string[] = [];
  for (const e of entries) {
    const trimmed = e.value.trim();
    if (trimmed === '') r.warning(e.path, 'empty; ignored (as kube-proxy does)');
    else if (parseCIDR(trimmed) === null) r.error(e.path, `${quote(e.value)} is not a CIDR (dropped)`);
    else out.push(trimmed);
  }
  if (out.length === 0 && entries.some((e) => e.value.trim() !== '')) {
    r.warning(
      field.path,
      'no range is left: as kube-proxy, kproxy then accepts load-balancer traffic from every source',
    );
  }
  return out;
}

function decodeIPMode(f: Field, r: ObjectReporter): LoadBalancerIngress['ipMode'] {
  const m = readString(f);
  if (m.kind === 'absent') return null;
  if (m.kind === 'ok' && (m.value === 'VIP' || m.value === 'Proxy')) return m.value;
  const found = m.kind === 'bad' ? m.problem : `${quote(m.value)} is not VIP or Proxy`;
  r.warning(f.path, `${found}: kube-proxy only programs ingress IPs whose ipMode is unset or VIP, so it ignores this one`);
  return 'Proxy';
}

function decodeIngress(item: Field, r: ObjectReporter): LoadBalancerIngress | null {
  const rec = readRecord(item);
  if (rec.kind !== 'ok') {
    r.error(item.path, `${rec.kind === 'bad' ? rec.problem : 'must be a mapping, not null'} (dropped)`);
    return null;
  }
  const ipField = child(item, 'ip');
  const ip = readString(ipField);
  const hostField = child(item, 'hostname');
  const host = readString(hostField);
  if (host.kind === 'bad') r.error(hostField.path, `${host.problem} (dropped)`);
  const hostname = host.kind === 'ok' ? host.value : '';
  let address = '';
  if (ip.kind === 'bad') r.error(ipField.path, `${ip.problem} (dropped)`);
  else if (ip.kind === 'ok' && ip.value !== '') {
    if (parseIP(ip.value) === null) r.error(ipField.path, `${quote(ip.value)} is not an IP address (dropped)`);
    else address = ip.value;
  }
  if (address === '' && hostname === '') return null;
  return { ip: address, hostname, ipMode: decodeIPMode(child(item, 'ipMode'), r) };
}

export function decodeLoadBalancerIngress(root: Field, r: ObjectReporter): LoadBalancerIngress[] {
  const f = child(child(child(root, 'status'), 'loadBalancer'), 'ingress');
  const list = readList(f);
  if (list.kind === 'absent') return [];
  if (list.kind === 'bad') {
    r.error(f.path, `${list.problem} (dropped)`);
    return [];
  }
  const out: LoadBalancerIngress[] = [];
  for (const item of list.value) {
    const ing = decodeIngress(item, r);
    if (ing !== null) out.push(ing);
  }
  return out;
}
