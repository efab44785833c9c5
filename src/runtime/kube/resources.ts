/**
 * What kube-proxy lists and watches (reference C.6): Services and EndpointSlices with its label
 * selector, and its own Node by name.
 */
import { proxyLabelSelector } from '../../core/desired/proxy-filter.js';

export type ResourceName = 'services' | 'endpointslices' | 'nodes';

export interface ResourceSpec {
  readonly name: ResourceName;
  /** The collection path across all namespaces. */
  readonly path: string;
  readonly kind: string;
  readonly apiVersion: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export function proxyResources(serviceProxyName: string, nodeName: string): ResourceSpec[] {
  const labelSelector = proxyLabelSelector(serviceProxyName);
  return [
    { name: 'services', path: '/api/v1/services', kind: 'Service', apiVersion: 'v1', labelSelector },
    {
      name: 'endpointslices',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      labelSelector,
    },
    { name: 'nodes', path: '/api/v1/nodes', kind: 'Node', apiVersion: 'v1', fieldSelector: `metadata.name=${nodeName}` },
  ];
}

/** `namespace/name` (or `name`) of a raw API object; null when it has no name. */
export function rawObjectKey(obj: unknown): string | null {
  if (typeof obj !== 'object' || obj === null) return null;
  const meta = (obj as { metadata?: unknown }).metadata;
  if (typeof meta !== 'object' || meta === null) return null;
  const { name, namespace } = meta as { name?: unknown; namespace?: unknown };
  if (typeof name !== 'string' || name === '') return null;
  return typeof namespace === 'string' && namespace !== '' ? `${namespace}/${name}` : name;
}

export function rawResourceVersion(obj: unknown): string | null {
  if (typeof obj !== 'object' || obj === null) return null;
  const meta = (obj as { metadata?: unknown }).metadata;
  if (typeof meta !== 'object' || meta === null) return null;
  const rv = (meta as { resourceVersion?: unknown }).resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : null;
}

/** List items come without kind and apiVersion; give them their collection's. */
export function withKind(spec: ResourceSpec, obj: unknown): Record<string, unknown> | null {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return null;
  return { ...(obj as Record<string, unknown>), kind: spec.kind, apiVersion: spec.apiVersion };
}
