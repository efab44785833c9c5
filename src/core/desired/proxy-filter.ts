/**
 * The label filters kube-proxy puts on its Service and EndpointSlice watches
 * (`!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless`, or
 * `service-proxy-name=<name>` when a proxy name is configured). Objects from files are
 * filtered the same way.
 */
import type { DiagnosticSink } from '../model/diagnostics.js';
import type { ClusterObjects, ObjectMeta } from '../model/objects.js';

export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** The API label selector of those filters, for this proxy name ("" = the default proxy). */
export function proxyLabelSelector(serviceProxyName: string): string {
  const proxy = serviceProxyName === '' ? `!${SERVICE_PROXY_NAME_LABEL}` : `${SERVICE_PROXY_NAME_LABEL}=${serviceProxyName}`;
  return `${proxy},!${HEADLESS_LABEL}`;
}

/** Why kube-proxy would never see this object, or null when it would. */
function filteredOutBecause(meta: ObjectMeta, serviceProxyName: string): string | null {
  const proxyName = meta.labels[SERVICE_PROXY_NAME_LABEL];
  if (serviceProxyName === '') {
    if (proxyName !== undefined) {
      return `labelled ${SERVICE_PROXY_NAME_LABEL}=${proxyName}: handled by another proxy`;
    }
  } else if (proxyName !== serviceProxyName) {
    return `not labelled ${SERVICE_PROXY_NAME_LABEL}=${serviceProxyName}`;
  }
  if (meta.labels[HEADLESS_LABEL] !== undefined) return `labelled ${HEADLESS_LABEL}`;
  return null;
}

export function selectProxiedObjects(objects: ClusterObjects, serviceProxyName: string): ClusterObjects {
  return {
    ...objects,
    services: objects.services.filter((s) => filteredOutBecause(s.meta, serviceProxyName) === null),
    endpointSlices: objects.endpointSlices.filter((s) => filteredOutBecause(s.meta, serviceProxyName) === null),
  };
}

/** Notes (not errors) for every object the label filters leave out, so users see why. */
export function noteFilteredObjects(objects: ClusterObjects, serviceProxyName: string, sink: DiagnosticSink): void {
  for (const obj of [...objects.services, ...objects.endpointSlices]) {
    const why = filteredOutBecause(obj.meta, serviceProxyName);
    if (why === null) continue;
    sink.add({
      severity: 'note',
      source: obj.meta.source,
      kind: obj.kind,
      object: `${obj.meta.namespace}/${obj.meta.name}`,
      field: 'metadata.labels',
      message: `ignored: ${why}`,
    });
  }
}
