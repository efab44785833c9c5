/**
 * A small packet tracer with the semantics of kube-proxy's own unit-test tracer
 * (proxier_test.go tracePacket): it runs nat KUBE-SERVICES (what PREROUTING jumps to), then
 * the filter chains, collecting every endpoint a probabilistic rule may send the packet to and
 * whether KUBE-MARK-MASQ was hit. It lets the transcribed packet-flow expectations of kube-proxy's
 * tests check our rendered rules independently of the golden text.
 */
import { cidrContains, parseCIDR, parseIP } from '../../src/core/net/ip.js';
import type { Ruleset } from '../../src/dataplanes/iptables/model.js';

export interface PacketFlow {
  readonly name: string;
  readonly sourceIP: string;
  readonly protocol?: 'tcp' | 'udp' | 'sctp';
  readonly destIP: string;
  readonly destPort: number;
  /** Comma-separated endpoints, or ACCEPT / DROP / REJECT, or "" for no match. */
  readonly output: string;
  readonly masq?: boolean;
}

/** kube-proxy's testNodeIPs plus loopback: what `--src-type/--dst-type LOCAL` matches. */
export const TEST_LOCAL_IPS = ['127.0.0.1', '::1', '192.168.0.2', '192.168.1.2', '192.168.99.11', '2001:db8::1', '2001:db8:1::2'];

interface Packet {
  readonly src: string;
  readonly proto: string;
  readonly dst: string;
  readonly dport: string;
}

function addressMatches(value: string, ip: string): boolean {
  const parsedIP = parseIP(ip);
  if (parsedIP === null) throw new Error(`bad IP in test case: ${ip}`);
  if (value.includes('/')) {
    const cidr = parseCIDR(value);
    if (cidr === null) throw new Error(`bad CIDR in rules: ${value}`);
    return cidrContains(cidr, parsedIP);
  }
  return parseIP(value)?.text === parsedIP.text;
}

class Tracer {
  readonly outputs: string[] = [];
  masq = false;

  constructor(
    private readonly chains: ReadonlyMap<string, readonly (readonly string[])[]>,
    private readonly localIPs: ReadonlySet<string>,
  ) {}

  private matches(words: readonly string[], p: Packet): boolean {
    let negate = false;
    for (let i = 0; i < words.length; i++) {
      const w = words[i] ?? '';
      const value = words[i + 1] ?? '';
      if (w === '!') {
        negate = true;
        continue;
      }
      let ok: boolean | null = null;
      switch (w) {
        case '-s':
          ok = addressMatches(value, p.src);
          break;
        case '-d':
          ok = addressMatches(value, p.dst);
          break;
        case '-p':
          ok = value === p.proto;
          break;
        case '--dport':
          ok = value === p.dport;
          break;
        case '--src-type':
          ok = value === (this.localIPs.has(p.src) ? 'LOCAL' : 'not-matched');
          break;
        case '--dst-type':
          ok = value === (this.localIPs.has(p.dst) ? 'LOCAL' : 'not-matched');
          break;
        case '--rcheck':
        case '--mark':
        case '--ctstate':
          // Rules that look at history never match a fresh packet.
          return false;
        default:
          break;
      }
      if (ok !== null) {
        if (ok === negate) return false;
        i++;
      }
      negate = false;
    }
    return true;
  }

  run(chain: string, p: Packet): boolean {
    for (const words of this.chains.get(chain) ?? []) {
      const j = words.indexOf('-j');
      if (j < 0) continue;
      if (!this.matches(words, p)) continue;
      const target = words[j + 1] ?? '';
      switch (target) {
        case 'KUBE-MARK-MASQ':
          this.masq = true;
          continue;
        case 'ACCEPT':
        case 'REJECT':
        case 'DROP':
          this.outputs.push(target);
          return true;
        case 'DNAT':
          this.outputs.push(words[words.indexOf('--to-destination') + 1] ?? '?');
          return true;
        default: {
          const terminated = this.run(target, p);
          if (terminated && !words.includes('--probability')) return true;
        }
      }
    }
    return false;
  }
}

function chainsOf(ruleset: Ruleset, table: string): Map<string, (readonly string[])[]> {
  const map = new Map<string, (readonly string[])[]>();
  for (const t of ruleset.tables) {
    if (t.name !== table) continue;
    for (const r of t.rules) {
      const list = map.get(r.chain) ?? [];
      list.push(r.words);
      map.set(r.chain, list);
    }
  }
  return map;
}

export interface TraceResult {
  readonly output: string;
  readonly masq: boolean;
}

export function tracePacket(ruleset: Ruleset, flow: PacketFlow, localIPs: readonly string[] = TEST_LOCAL_IPS): TraceResult {
  const local = new Set(localIPs);
  let p: Packet = { src: flow.sourceIP, proto: flow.protocol ?? 'tcp', dst: flow.destIP, dport: String(flow.destPort) };
  const nat = new Tracer(chainsOf(ruleset, 'nat'), local);
  nat.run('KUBE-SERVICES', p);
  const first = nat.outputs[0];
  if (first !== undefined) {
    const host = first.startsWith('[') ? first.slice(1, first.indexOf(']')) : (first.split(':')[0] ?? '');
    p = { ...p, dst: host };
  }
  const filter = new Tracer(chainsOf(ruleset, 'filter'), local);
  for (const chain of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) filter.run(chain, p);
  return { output: [...nat.outputs, ...filter.outputs].join(', '), masq: nat.masq };
}
