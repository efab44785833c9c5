/** The canonical order of decoded objects: by namespace, then name (byte order). */
import { compareStrings } from '../compare.js';
import type { ClusterObjects, ObjectMeta } from '../model/objects.js';

function compareMeta(a: { readonly meta: ObjectMeta }, b: { readonly meta: ObjectMeta }): number {
  return compareStrings(a.meta.namespace, b.meta.namespace) || compareStrings(a.meta.name, b.meta.name);
}

export function byMeta<T extends { readonly meta: ObjectMeta }>(items: readonly T[]): T[] {
  return [...items].sort(compareMeta);
}

export function sortClusterObjects(o: ClusterObjects): ClusterObjects {
  return {
    services: byMeta(o.services),
    endpointSlices: byMeta(o.endpointSlices),
    endpoints: byMeta(o.endpoints),
    nodes: byMeta(o.nodes),
    pods: byMeta(o.pods),
    deployments: byMeta(o.deployments),
  };
}

/** `namespace/name` of an object, the key conflicts and slices are matched by. */
export function keyOf(meta: ObjectMeta): string {
  return `${meta.namespace}/${meta.name}`;
}
