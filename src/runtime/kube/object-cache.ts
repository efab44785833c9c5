/**
 * The objects kube-proxy watches, kept current by one reflector per resource. Changes are only
 * reported when they matter to kproxy: an object's fingerprint is what the shared decoder
 * makes of it (plus its diagnostics), so a Node heartbeat or a new resourceVersion alone
 * triggers no sync.
 */
import { type RawDocument, decodeObjects } from '../../core/k8s/decode.js';
import { DiagnosticSink } from '../../core/model/diagnostics.js';
import { type RawObject, apiDocuments } from './list.js';
import { DEFAULT_TIMING, type KubeLog, Reflector, type ReflectorTiming } from './reflector.js';
import type { ResourceSpec } from './resources.js';
import type { KubeClient } from './transport.js';

function decodedFingerprint(obj: RawObject): string {
  const sink = new DiagnosticSink();
  const decoded = decodeObjects([{ source: { file: 'api', document: 0 }, value: obj }], sink);
  return JSON.stringify([decoded, sink.all]);
}

export class KubeObjectCache {
  private readonly reflectors: Reflector[];
  private listener: () => void = () => undefined;
  private changes = 0;

  constructor(client: KubeClient, resources: readonly ResourceSpec[], log: KubeLog, timing: ReflectorTiming = DEFAULT_TIMING) {
    const changed = (): void => {
      this.changes++;
      this.listener();
    };
    this.reflectors = resources.map((spec) => new Reflector(client, spec, changed, decodedFingerprint, log, timing));
  }

  /** Starts listing and watching; `onChange` runs after every change that matters. */
  start(onChange: () => void): void {
    this.listener = onChange;
    for (const r of this.reflectors) r.start();
  }

  /** Resolves once every resource has been listed (kube-proxy's initial-sync gate). */
  async ready(): Promise<void> {
    await Promise.all(this.reflectors.map((r) => r.synced));
  }

  /** Counts the changes seen; equal values mean equal documents(). */
  get generation(): number {
    return this.changes;
  }

  documents(): RawDocument[] {
    return apiDocuments(this.reflectors.flatMap((r) => r.objects()));
  }

  reflector(name: ResourceSpec['name']): Reflector | undefined {
    return this.reflectors.find((r) => r.spec.name === name);
  }

  async close(): Promise<void> {
    await Promise.all(this.reflectors.map((r) => r.stop()));
  }
}
