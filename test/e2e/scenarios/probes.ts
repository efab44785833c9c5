/**
 * A probe is one kind of traffic in the scenario table: where it starts, which service address
 * it targets, which protocol. Probes are data so that every dataplane (and the tracer, which
 * predicts what the kernel will do) can use the same table.
 */
import type { Sandbox, TrafficResult } from '../../../src/runtime/sandbox/index.js';

export type Origin =
  | { readonly kind: 'client'; readonly node?: string }
  | { readonly kind: 'pod'; readonly pod: string }
  | { readonly kind: 'node'; readonly node?: string }
  | { readonly kind: 'external'; readonly sourceIP?: string };

export type Via =
  | { readonly kind: 'clusterIP' }
  | { readonly kind: 'nodePort'; readonly node?: string }
  | { readonly kind: 'externalIP' }
  | { readonly kind: 'loadBalancer' };

export interface Probe {
  readonly from: Origin;
  readonly service: string;
  /** Service port name; the first port when absent. */
  readonly port?: string;
  readonly via: Via;
  readonly protocol?: 'tcp' | 'udp';
  readonly count: number;
  readonly timeoutMs?: number;
  readonly concurrency?: number;
  /** Send from this source port (one flow, so use concurrency 1). */
  readonly sourcePort?: number;
}

export interface ResolvedProbe {
  readonly netns: string;
  /** What the tracer calls the origin. */
  readonly origin: 'pod' | 'node' | 'external';
  readonly srcIP: string;
  readonly dstIP: string;
  readonly dstPort: number;
  readonly protocol: 'tcp' | 'udp';
  /** The node whose rules the packet meets first. */
  readonly node: string;
}

export function resolveProbe(sb: Sandbox, p: Probe): ResolvedProbe {
  const svc = sb.service(p.service);
  const port = p.port === undefined ? svc.ports[0] : svc.ports.find((sp) => sp.name === p.port);
  if (port === undefined) throw new Error(`service ${p.service} has no port ${p.port ?? '(any)'}`);
  let dstIP: string;
  let dstPort = port.port;
  let node: string | undefined;
  switch (p.via.kind) {
    case 'clusterIP':
      dstIP = svc.clusterIP;
      break;
    case 'nodePort':
      node = p.via.node ?? sb.node().name;
      dstIP = sb.node(node).address;
      dstPort = port.nodePort;
      break;
    case 'externalIP':
      dstIP = svc.externalIPs[0] ?? '';
      break;
    case 'loadBalancer':
      dstIP = svc.loadBalancerIngress[0]?.ip ?? '';
      break;
  }
  if (dstIP === '' || dstPort === 0) throw new Error(`service ${p.service} has no ${p.via.kind} address`);
  const protocol = p.protocol ?? (port.protocol === 'UDP' ? 'udp' : 'tcp');
  switch (p.from.kind) {
    case 'client': {
      const client = sb.clientPod(p.from.node);
      return { netns: client.netns, origin: 'pod', srcIP: client.ip, dstIP, dstPort, protocol, node: client.nodeName };
    }
    case 'pod': {
      const pod = sb.pod(p.from.pod);
      return { netns: pod.netns, origin: 'pod', srcIP: pod.ip, dstIP, dstPort, protocol, node: pod.nodeName };
    }
    case 'node': {
      const n = sb.node(p.from.node);
      return { netns: n.netns, origin: 'node', srcIP: n.address, dstIP, dstPort, protocol, node: n.name };
    }
    case 'external':
      return {
        netns: sb.externalNetns,
        origin: 'external',
        srcIP: p.from.sourceIP ?? sb.externalAddress,
        dstIP,
        dstPort,
        protocol,
        node: node ?? sb.node().name,
      };
  }
}

export async function send(sb: Sandbox, p: Probe): Promise<TrafficResult> {
  const r = resolveProbe(sb, p);
  const options = {
    count: p.count,
    concurrency: p.concurrency ?? 4,
    timeoutMs: p.timeoutMs ?? 2000,
    ...(p.from.kind === 'external' && p.from.sourceIP !== undefined ? { sourceIP: p.from.sourceIP } : {}),
    ...(p.sourcePort === undefined ? {} : { sourcePort: p.sourcePort }),
  };
  return r.protocol === 'udp'
    ? sb.udpRequests(r.netns, r.dstIP, r.dstPort, options)
    : sb.httpRequests(r.netns, r.dstIP, r.dstPort, options);
}
