/** One consistent look at a cluster (list, no watch): what `kproxy rules --kubeconfig` renders. */
import { decodeObjects } from '../../core/k8s/decode.js';
import type { DiagnosticSink } from '../../core/model/diagnostics.js';
import type { ClusterObjects } from '../../core/model/objects.js';
import { type ConnectionOptions, loadKubeConfig } from './kubeconfig.js';
import { listOnce } from './list.js';
import { proxyResources } from './resources.js';
import { HttpKubeClient } from './transport.js';

export async function loadApiObjects(
  connection: ConnectionOptions,
  nodeName: string,
  serviceProxyName: string,
  sink: DiagnosticSink,
): Promise<ClusterObjects> {
  const client = new HttpKubeClient(loadKubeConfig(connection));
  return decodeObjects(await listOnce(client, proxyResources(serviceProxyName, nodeName)), sink);
}
