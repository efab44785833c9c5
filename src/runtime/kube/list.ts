/** Listing a whole collection, page by page (`limit` + `continue`), as one consistent snapshot. */
import type { RawDocument } from '../../core/k8s/decode.js';
import { isRecord } from '../../core/k8s/fields.js';
import { type ResourceSpec, withKind } from './resources.js';
import { KubeApiError, type KubeClient } from './transport.js';

export type RawObject = Readonly<Record<string, unknown>>;

export interface ListResult {
  readonly items: readonly RawObject[];
  readonly resourceVersion: string;
}

function record(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

export async function listResource(client: KubeClient, spec: ResourceSpec, pageSize: number): Promise<ListResult> {
  const items: RawObject[] = [];
  let cont: string | undefined;
  let resourceVersion = '';
  do {
    const page = record(
      await client.getJSON(spec.path, {
        labelSelector: spec.labelSelector,
        fieldSelector: spec.fieldSelector,
        limit: String(pageSize),
        continue: cont,
      }),
    );
    const meta = record(page['metadata']);
    const pageItems = page['items'];
    if (!Array.isArray(pageItems)) throw new KubeApiError(0, '', `GET ${spec.path}: the answer is not a list`);
    for (const raw of pageItems as unknown[]) {
      const obj = withKind(spec, raw);
      if (obj !== null) items.push(obj);
    }
    const rv = meta['resourceVersion'];
    if (typeof rv === 'string') resourceVersion = rv;
    const next = meta['continue'];
    cont = typeof next === 'string' && next !== '' ? next : undefined;
  } while (cont !== undefined);
  return { items, resourceVersion };
}

/** Raw objects as decoder input: each its own document of the synthetic file `api`, numbered in order. */
export function apiDocuments(objects: readonly RawObject[]): RawDocument[] {
  return objects.map((value, i) => ({ source: { file: 'api', document: i + 1 }, value }));
}

/** Lists every resource once (no watch): `kproxy rules --kubeconfig`. */
export async function listOnce(client: KubeClient, resources: readonly ResourceSpec[], pageSize = 500): Promise<RawDocument[]> {
  const all: RawObject[] = [];
  for (const spec of resources) {
    try {
      all.push(...(await listResource(client, spec, pageSize)).items);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new KubeApiError(err instanceof KubeApiError ? err.status : 0, '', `listing ${spec.name} from ${client.server}: ${why}`);
    }
  }
  return apiDocuments(all);
}
