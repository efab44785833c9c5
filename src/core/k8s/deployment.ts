/** Decoding an apps/v1 Deployment: what the sandbox needs to create its Pods. */
import type { SourceLocation } from '../model/diagnostics.js';
import type { Deployment } from '../model/objects.js';
import { type Field, child, readInteger } from './fields.js';
import { decodeMeta, decodeStringMap } from './meta.js';
import type { ObjectReporter } from './report.js';
import { decodeContainerPorts } from './workload.js';

function decodeReplicas(spec: Field, r: ObjectReporter): number {
  const f = child(spec, 'replicas');
  const n = readInteger(f);
  if (n.kind === 'absent') return 1;
  if (n.kind === 'bad' || n.value < 0) {
    r.error(f.path, `${n.kind === 'bad' ? n.problem : `${n.value} is negative`}; ignored, so it defaults to 1`);
    return 1;
  }
  return n.value;
}

export function decodeDeployment(root: Field, unnamed: ObjectReporter, source: SourceLocation): Deployment | null {
  const decoded = decodeMeta(root, unnamed, source, { namespaced: true, nameRule: 'subdomain' });
  if (decoded === null) return null;
  const { meta, r } = decoded;
  const spec = child(root, 'spec');
  const template = child(spec, 'template');
  return {
    kind: 'Deployment',
    meta,
    replicas: decodeReplicas(spec, r),
    podLabels: decodeStringMap(child(child(template, 'metadata'), 'labels'), r),
    containerPorts: decodeContainerPorts(child(template, 'spec'), r),
  };
}
