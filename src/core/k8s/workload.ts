/** Pod specs (in Pods and Deployment templates): the container ports named targetPorts resolve to. */
import type { ContainerPort } from '../model/objects.js';
import { type Field, child, readString } from './fields.js';
import { decodeListItems, decodePortName, decodeProtocol, decodeRequiredPort, isMappingItem } from './common.js';
import type { ObjectReporter } from './report.js';

function decodeContainerPort(item: Field, r: ObjectReporter): ContainerPort | null {
  if (!isMappingItem(item, r)) return null;
  const name = decodePortName(child(item, 'name'), r, item.path, 'IANA_SVC_NAME');
  if (name === null) return null;
  const protocol = decodeProtocol(child(item, 'protocol'), r, item.path);
  const containerPort = decodeRequiredPort(child(item, 'containerPort'), r, item.path);
  if (protocol === null || containerPort === null) return null;
  return { name, containerPort, protocol };
}

/**
 * The ports of every container, then of every sidecar (an init container with restartPolicy
 * Always), in the order the EndpointSlice controller searches them for a named port.
 */
export function decodeContainerPorts(podSpec: Field, r: ObjectReporter): ContainerPort[] {
  const out: ContainerPort[] = [];
  const collect = (container: Field): void => {
    for (const item of decodeListItems(child(container, 'ports'), r)) {
      const p = decodeContainerPort(item, r);
      if (p !== null) out.push(p);
    }
  };
  for (const c of decodeListItems(child(podSpec, 'containers'), r)) collect(c);
  for (const c of decodeListItems(child(podSpec, 'initContainers'), r)) {
    const policy = readString(child(c, 'restartPolicy'));
    if (policy.kind === 'ok' && policy.value === 'Always') collect(c);
  }
  return out;
}
