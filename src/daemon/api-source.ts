/** Objects from the Kubernetes API: kube-proxy's list+watch of Services, EndpointSlices and this Node. */
import { decodeObjects } from '../core/k8s/decode.js';
import { type Diagnostic, DiagnosticSink } from '../core/model/diagnostics.js';
import type { ClusterObjects } from '../core/model/objects.js';
import { KproxyError } from '../core/errors.js';
import { describeConnection, loadKubeConfig, type ConnectionOptions } from '../runtime/kube/kubeconfig.js';
import { KubeObjectCache } from '../runtime/kube/object-cache.js';
import type { KubeLog, ReflectorTiming } from '../runtime/kube/reflector.js';
import { proxyResources } from '../runtime/kube/resources.js';
import { HttpKubeClient, type KubeClient } from '../runtime/kube/transport.js';
import { FileSource } from './file-source.js';
import type { ObjectSource } from './types.js';

export interface ApiSourceOptions {
  readonly client: KubeClient;
  readonly nodeName: string;
  readonly serviceProxyName: string;
  readonly log: KubeLog;
  readonly timing?: ReflectorTiming;
}

export class ApiSource implements ObjectSource {
  /** The Node comes from the API: its absence means this node is not (or no longer) a member. */
  readonly watchesNode = true;
  private readonly cache: KubeObjectCache;
  private decoded: { generation: number; objects: ClusterObjects; diagnostics: readonly Diagnostic[] } | null = null;

  constructor(o: ApiSourceOptions) {
    this.cache = new KubeObjectCache(o.client, proxyResources(o.serviceProxyName, o.nodeName), o.log, o.timing);
  }

  start(onChange: () => void): Promise<void> {
    this.cache.start(onChange);
    return Promise.resolve();
  }

  /** Decoding runs again only after a change; otherwise the last result (and its diagnostics) is reused. */
  load(sink: DiagnosticSink): Promise<ClusterObjects> {
    const generation = this.cache.generation;
    if (this.decoded?.generation !== generation) {
      const own = new DiagnosticSink();
      const objects = decodeObjects(this.cache.documents(), own);
      this.decoded = { generation, objects, diagnostics: own.all };
    }
    for (const d of this.decoded.diagnostics) sink.add(d);
    return Promise.resolve(this.decoded.objects);
  }

  ready(): Promise<void> {
    return this.cache.ready();
  }

  close(): Promise<void> {
    return this.cache.close();
  }

  /** For tests and debugging: the reflectors' counters. */
  get objectCache(): KubeObjectCache {
    return this.cache;
  }
}

export interface SourceChoice {
  /** -f paths; none = the Kubernetes API. */
  readonly files: readonly string[];
  readonly connection: ConnectionOptions;
  /** --kubeconfig or --master given as flags (not from a config file). */
  readonly connectionFlagsGiven: boolean;
  readonly nodeName: string;
  readonly serviceProxyName: string;
  readonly log: KubeLog;
}

/** Manifest files when -f is given, otherwise the API (kubeconfig, --master, or in-cluster). */
export function chooseObjectSource(c: SourceChoice): { source: ObjectSource; description: string } {
  if (c.files.length > 0) {
    if (c.connectionFlagsGiven) {
      throw new KproxyError('E_USAGE', 'run: -f PATH (objects from files) and --kubeconfig/--master (objects from the API) exclude each other');
    }
    return { source: new FileSource(c.files), description: `files ${c.files.join(', ')}` };
  }
  const client = new HttpKubeClient(loadKubeConfig(c.connection));
  const source = new ApiSource({ client, nodeName: c.nodeName, serviceProxyName: c.serviceProxyName, log: c.log });
  return { source, description: `${describeConnection(c.connection)} (${client.server})` };
}
