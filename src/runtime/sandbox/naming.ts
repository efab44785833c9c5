/**
 * Names of everything a sandbox creates. Every network namespace starts with `kpx-<id>-` and
 * every interface it names with `kpx<id>`, so a run's objects can be found (and removed) by
 * their prefix alone, even when the run crashed before writing its state.
 */

/** Prefix shared by every namespace of every sandbox run. */
export const NETNS_PREFIX = 'kpx-';
/** Linux limits interface names to 15 characters (IFNAMSIZ - 1). */
export const MAX_INTERFACE_NAME = 15;
/** The run id of a sandbox namespace name (`kpx-<id>-...`), or null when it is not one. */
export function runIdOfNetns(netns: string): string | null {
  const match = /^kpx-([0-9a-f]{6})-/.exec(netns);
  return match?.[1] ?? null;
}

export function runNetnsPrefix(id: string): string {
  return `${NETNS_PREFIX}${id}-`;
}

export function externalNetnsName(id: string): string {
  return `${runNetnsPrefix(id)}external`;
}

export function nodeNetnsName(id: string, nodeName: string): string {
  return `${runNetnsPrefix(id)}${nodeName}`;
}

/** `kpx-<id>-pod-<name>` in namespace default, `kpx-<id>-pod-<name>.<namespace>` elsewhere. */
export function podNetnsName(id: string, namespace: string, podName: string): string {
  const suffix = namespace === 'default' ? podName : `${podName}.${namespace}`;
  return `${runNetnsPrefix(id)}pod-${suffix}`;
}

function interfaceName(id: string, kind: 'br' | 'n' | 'p', index: number | null): string {
  const name = `kpx${id}${kind}${index === null ? '' : String(index)}`;
  if (name.length > MAX_INTERFACE_NAME) {
    throw new RangeError(`interface name ${name} is longer than ${MAX_INTERFACE_NAME} characters`);
  }
  return name;
}

/** The bridge in the external namespace that the nodes' uplinks attach to. */
export function bridgeName(id: string): string {
  return interfaceName(id, 'br', null);
}

/** External-side end of node `index`'s uplink veth (the node side is `eth0`). */
export function uplinkName(id: string, nodeIndex: number): string {
  return interfaceName(id, 'n', nodeIndex);
}

/** Node-side end of a pod's veth (the pod side is `eth0`). */
export function podVethName(id: string, podSeq: number): string {
  return interfaceName(id, 'p', podSeq);
}

/** The namespace names in `ip netns list` output (each line: a name, maybe followed by `(id: N)`). */
export function netnsNamesOf(listOutput: string): string[] {
  return listOutput
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}
