/**
 * Kernel plumbing of the sandbox (SANDBOX.md's checked topology). Every command names the
 * namespace it acts in (`ip -n NS`, `ip netns exec NS`); links are created directly inside the
 * sandbox's namespaces (`... peer name eth0 netns POD`), so the root namespace is never touched.
 */
import { runCommand } from '../exec/run.js';
import { netnsNamesOf } from './naming.js';
import { EXTERNAL_CIDR } from './plan.js';
import type { SandboxNodeState, SandboxPodState, SandboxState } from './types.js';

/** Node-side address of every pod veth; the pods' default gateway. */
export const POD_GATEWAY = '169.254.1.1';

function prefixLength(cidr: string): string {
  return cidr.slice(cidr.indexOf('/') + 1);
}

async function ipBatch(netns: string, commands: readonly string[]): Promise<void> {
  await runCommand(['ip', '-n', netns, '-batch', '-'], { stdin: `${commands.join('\n')}\n` });
}

async function sysctl(netns: string, settings: Readonly<Record<string, string>>): Promise<void> {
  const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  await runCommand(['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', ...args]);
}

async function createNetns(name: string): Promise<void> {
  await runCommand(['ip', 'netns', 'add', name]);
  await runCommand(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

/** Deletes a namespace (and with it every interface inside it); a missing one is fine. */
export async function deleteNetns(name: string): Promise<void> {
  await runCommand(['ip', 'netns', 'del', name], { allowFailure: true });
}

export async function listNetns(): Promise<string[]> {
  const { stdout } = await runCommand(['ip', 'netns', 'list']);
  return netnsNamesOf(stdout);
}

/** Pids of the processes living in a namespace (empty when it does not exist). */
export async function netnsPids(name: string): Promise<number[]> {
  const { stdout } = await runCommand(['ip', 'netns', 'pids', name], { allowFailure: true });
  return stdout
    .split('\n')
    .map((s) => Number.parseInt(s.trim(), 10))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** The external client namespace with its bridge (198.51.100.1/24). */
export async function setupExternal(state: SandboxState): Promise<void> {
  await createNetns(state.externalNetns);
  await ipBatch(state.externalNetns, [
    `link add ${state.bridge} type bridge`,
    `addr add ${state.externalAddress}/${prefixLength(EXTERNAL_CIDR)} dev ${state.bridge}`,
    `link set ${state.bridge} up`,
  ]);
}

/** A node namespace, its uplink to the external bridge, forwarding and proxy ARP. */
export async function setupNode(state: SandboxState, node: SandboxNodeState): Promise<void> {
  await createNetns(node.netns);
  await ipBatch(state.externalNetns, [
    `link add ${node.uplink} type veth peer name eth0 netns ${node.netns}`,
    `link set ${node.uplink} master ${state.bridge}`,
    `link set ${node.uplink} up`,
  ]);
  await ipBatch(node.netns, [
    `addr add ${node.address}/${prefixLength(EXTERNAL_CIDR)} dev eth0`,
    'link set eth0 up',
    `route add default via ${state.externalAddress} dev eth0`,
  ]);
  // Interfaces created later (the pod veths) inherit conf.default: proxy ARP on, no reverse-path
  // filtering. eth0 exists already and keeps proxy ARP off.
  await sysctl(node.netns, {
    'net.ipv4.ip_forward': '1',
    'net.ipv4.conf.all.rp_filter': '0',
    'net.ipv4.conf.default.rp_filter': '0',
    'net.ipv4.conf.eth0.rp_filter': '0',
    'net.ipv4.conf.default.proxy_arp': '1',
  });
}

/**
 * Routes between nodes (each other node's podCIDR via its address) and from the external
 * namespace (each podCIDR via its node; everything else — ClusterIPs, load-balancer and
 * external IPs — via the first node).
 */
export async function setupRoutes(state: SandboxState): Promise<void> {
  for (const node of state.nodes) {
    const others = state.nodes.filter((o) => o.name !== node.name);
    if (others.length > 0) {
      await ipBatch(node.netns, others.map((o) => `route add ${o.podCIDR} via ${o.address} dev eth0`));
    }
  }
  const first = state.nodes[0];
  await ipBatch(state.externalNetns, [
    ...state.nodes.map((n) => `route add ${n.podCIDR} via ${n.address} dev ${state.bridge}`),
    ...(first === undefined ? [] : [`route add default via ${first.address} dev ${state.bridge}`]),
  ]);
}

/** A pod namespace wired to its node: a veth, POD_IP/32, a default route via 169.254.1.1. */
export async function setupPod(node: SandboxNodeState, pod: SandboxPodState): Promise<void> {
  await createNetns(pod.netns);
  await ipBatch(node.netns, [
    `link add ${pod.hostVeth} type veth peer name eth0 netns ${pod.netns}`,
    `addr add ${POD_GATEWAY}/32 dev ${pod.hostVeth}`,
    `link set ${pod.hostVeth} up`,
    // `replace`: a pod that had this IP may still be going away (the kernel destroys a deleted
    // namespace, and its veth and route, asynchronously).
    `route replace ${pod.ip}/32 dev ${pod.hostVeth}`,
  ]);
  await ipBatch(pod.netns, [
    `addr add ${pod.ip}/32 dev eth0`,
    'link set eth0 up',
    `route add ${POD_GATEWAY} dev eth0 scope link`,
    `route add default via ${POD_GATEWAY} dev eth0`,
  ]);
}
