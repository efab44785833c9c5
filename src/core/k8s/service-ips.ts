/**
 * spec.clusterIP / clusterIPs / ipFamilies. kube-proxy picks the cluster IP of its family by
 * index (ipFamilies[i] ↔ clusterIPs[i]), or from clusterIP alone when ipFamilies is empty. A
 * cluster IP it cannot parse, or of the wrong family, would end up in its ruleset as garbage
 * ("<nil>") and make the whole restore fail, so such a Service is skipped here.
 */
import type { IPFamily, ServiceType } from '../model/objects.js';
import { canonicalIP } from '../net/ip.js';
import { type Field, child, readList, readString } from './fields.js';
import { familyOf } from './common.js';
import { type ObjectReporter, quote } from './report.js';

export interface ClusterIPs {
  readonly clusterIP: string;
  readonly clusterIPs: readonly string[];
  readonly ipFamilies: readonly IPFamily[];
}

const SKIPPED = 'the Service is skipped';

function readStrings(f: Field, r: ObjectReporter): string[] | null {
  const list = readList(f);
  if (list.kind === 'absent') return [];
  if (list.kind === 'bad') {
    r.error(f.path, `${list.problem}; ${SKIPPED}`);
    return null;
  }
  const out: string[] = [];
  for (const item of list.value) {
    if (typeof item.value !== 'string') {
      r.error(item.path, `must be a string, not ${quote(item.value)}; ${SKIPPED}`);
      return null;
    }
    out.push(item.value);
  }
  return out;
}

function readFamilies(f: Field, r: ObjectReporter): IPFamily[] | null {
  const values = readStrings(f, r);
  if (values === null) return null;
  const out: IPFamily[] = [];
  for (const [i, v] of values.entries()) {
    if (v !== 'IPv4' && v !== 'IPv6') {
      r.error(`${f.path}[${i}]`, `${quote(v)} is not an IP family (IPv4 or IPv6); ${SKIPPED}`);
      return null;
    }
    out.push(v);
  }
  return out;
}

/** Checks every cluster IP parses and matches its declared family; reports and returns false if not. */
function checkAddresses(ips: readonly string[], path: (i: number) => string, families: readonly IPFamily[], r: ObjectReporter): boolean {
  for (const [i, ip] of ips.entries()) {
    const family = familyOf(ip);
    if (family === null) {
      r.error(path(i), `${quote(ip)} is not an IP address, so kube-proxy cannot program this Service; ${SKIPPED}`);
      return false;
    }
    const declared = families[i];
    if (declared !== undefined && declared !== family) {
      r.error(
        path(i),
        `${quote(ip)} is an ${family} address but spec.ipFamilies[${i}] is ${declared}: kube-proxy would program it into its ${declared} rules; ${SKIPPED}`,
      );
      return false;
    }
  }
  return true;
}

export function decodeClusterIPs(spec: Field, type: ServiceType, r: ObjectReporter): ClusterIPs | null {
  const ipField = child(spec, 'clusterIP');
  const single = readString(ipField);
  if (single.kind === 'bad') {
    r.error(ipField.path, `${single.problem}; ${SKIPPED}`);
    return null;
  }
  const ipsField = child(spec, 'clusterIPs');
  const list = readStrings(ipsField, r);
  const familiesField = child(spec, 'ipFamilies');
  const families = readFamilies(familiesField, r);
  if (list === null || families === null) return null;

  // API-server defaulting: either field fills the other.
  let clusterIP = single.kind === 'ok' ? single.value : '';
  const fromSingle = list.length === 0 && clusterIP !== '';
  const clusterIPs = fromSingle ? [clusterIP] : list;
  if (clusterIP === '' && clusterIPs.length > 0) clusterIP = clusterIPs[0] ?? '';

  if (type === 'ExternalName') return { clusterIP, clusterIPs, ipFamilies: families };
  if (clusterIP === 'None') return { clusterIP, clusterIPs: ['None'], ipFamilies: families };
  if (clusterIP === '') {
    r.error(
      ipField.path,
      'not set: kproxy cannot allocate a cluster IP as an API server would, and kube-proxy skips a Service without one',
    );
    return { clusterIP: '', clusterIPs: [], ipFamilies: families };
  }
  const path = (i: number): string => (fromSingle ? ipField.path : `${ipsField.path}[${i}]`);
  if (!checkAddresses(clusterIPs, path, families, r)) return null;
  if (!fromSingle && single.kind === 'ok' && single.value !== '' && canonicalIP(clusterIP) !== canonicalIP(clusterIPs[0] ?? '')) {
    r.warning(
      ipsField.path,
      `spec.clusterIPs[0] ${quote(clusterIPs[0])} differs from spec.clusterIP ${quote(clusterIP)}: an API server refuses this; kube-proxy uses spec.clusterIPs`,
    );
  }
  // API-server defaulting: the families of the allocated IPs.
  const ipFamilies = families.length > 0 ? families : clusterIPs.map((ip) => familyOf(ip) ?? 'IPv4');
  return { clusterIP, clusterIPs, ipFamilies };
}
