/** Pod specs (in Pods and Deployment templates): the container ports named targetPorts resolve to. */
import type { ContainerPort } from '../model/objects.js';
import { type Field, child, readList, readRecord, readString } from './fields.js';
import { decodeProtocol, decodeRequiredPort } from './common.js';
import { isIanaServiceName } from './names.js';
import { type ObjectReporter, quote } from './report.js';

function listItems(f: Field, r: ObjectReporter): Field[] {
  const list = readList(f);
  if (list.kind === 'bad') r.error(f.path, `${list.problem} (dropped)`);
  return list.kind === 'ok' ? list.value : [];
}

function decodeContainerPort(item: Field, r: ObjectReporter): ContainerPort | null {
  const rec = readRecord(item);
  if (rec.kind !== 'ok') {
    r.error(item.path, `${rec.kind === 'bad' ? rec.problem : 'must be a mapping, not null'}; it is dropped`);
    return null;
  }
  const nameField = child(item, 'name');
  const name = readString(nameField);
  if (name.kind === 'bad' || (name.kind === 'ok' && name.value !== '' && !isIanaServiceName(name.value))) {
    const what = name.kind === 'bad' ? name.problem : `${quote(name.value)} is not a valid port name (IANA_SVC_NAME)`;
    r.error(nameField.path, `${what}; ${item.path} is dropped`);
    return null;
  }
  const protocol = decodeProtocol(child(item, 'protocol'), r, item.path);
  const containerPort = decodeRequiredPort(child(item, 'containerPort'), r, item.path);
  if (protocol === null || containerPort === null) return null;
  return { name: name.kind === 'ok' ? name.value : '', containerPort, protocol };
}

/**
 * The ports of every container, then of every sidecar (an init container with restartPolicy
 * Always), in the order the EndpointSlice controller searches them for a named port.
 */
export function decodeContainerPorts(podSpec: Field, r: ObjectReporter): ContainerPort[] {
  const out: ContainerPort[] = [];
  const collect = (container: Field): void => {
    for (const item of listItems(child(container, 'ports'), r)) {
      const p = decodeContainerPort(item, r);
      if (p !== null) out.push(p);
    }
  };
  for (const c of listItems(child(podSpec, 'containers'), r)) collect(c);
  for (const c of listItems(child(podSpec, 'initContainers'), r)) {
    const policy = readString(child(c, 'restartPolicy'));
    if (policy.kind === 'ok' && policy.value === 'Always') collect(c);
  }
  return out;
}
