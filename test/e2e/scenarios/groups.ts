/**
 * The sandboxes the scenario table runs in. Scenarios of one group share a sandbox (and one
 * proxy per node) to keep the suite fast.
 */
export type GroupName = 'one-node' | 'two-nodes' | 'changes';

export interface GroupSpec {
  readonly nodes: number;
  readonly manifests: string;
}

const deployment = (name: string, replicas: number, ports: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: default}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: server
        image: kproxy/pod-server
        ports: ${ports}
`;

const service = (name: string, app: string, spec: string): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  selector: {app: ${app}}
${spec}`;

const HTTP_8080 = '[{name: http, containerPort: 8080}, {name: dns, containerPort: 5353, protocol: UDP}]';
const PORT_80 = '  ports: [{port: 80, targetPort: 8080}]\n';

export const GROUPS: Readonly<Record<GroupName, GroupSpec>> = {
  'one-node': {
    nodes: 1,
    manifests: [
      deployment('web', 3, HTTP_8080),
      service('web', 'web', `  type: ClusterIP\n${PORT_80}`),
      service(
        'web-multi',
        'web',
        '  ports:\n  - {name: http, port: 80, targetPort: http}\n  - {name: alt, port: 8081, targetPort: 8080}\n',
      ),
      service('web-udp', 'web', '  ports: [{name: dns, port: 53, protocol: UDP, targetPort: dns}]\n'),
      service('web-np', 'web', `  type: NodePort\n${PORT_80}`),
      service('web-ext', 'web', `  externalIPs: [192.0.2.10]\n${PORT_80}`),
      service('web-lb', 'web', `  type: LoadBalancer\n${PORT_80}`),
      service('web-lb-ranges', 'web', `  type: LoadBalancer\n  loadBalancerSourceRanges: [198.51.100.1/32]\n${PORT_80}`),
      service(
        'web-sticky',
        'web',
        `  type: NodePort\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 1}}\n${PORT_80}`,
      ),
      service('nothing', 'nothing', PORT_80),
      // Stickiness for as long as a test runs (kube-proxy's default of 3 hours): with web-sticky's
      // 1 s, a client held up for a second between two requests would be free to move.
      service('web-sticky-long', 'web', `  type: NodePort\n  sessionAffinity: ClientIP\n${PORT_80}`),
    ].join('---\n'),
  },
  'two-nodes': {
    nodes: 2,
    manifests: [
      deployment('spread', 4, HTTP_8080),
      service('spread-local', 'spread', `  type: NodePort\n  externalTrafficPolicy: Local\n${PORT_80}`),
      service('spread-cluster', 'spread', `  type: NodePort\n  externalTrafficPolicy: Cluster\n${PORT_80}`),
      service('spread-itp', 'spread', `  internalTrafficPolicy: Local\n${PORT_80}`),
      `apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: default, labels: {app: solo}}
spec:
  containers: [{name: server, image: kproxy/pod-server, ports: [{containerPort: 8080}]}]
status: {podIP: 172.18.0.50}
`,
      service('solo-local', 'solo', `  type: NodePort\n  externalTrafficPolicy: Local\n${PORT_80}`),
    ].join('---\n'),
  },
  changes: {
    nodes: 1,
    manifests: [
      deployment('scale', 3, HTTP_8080),
      service('scale', 'scale', PORT_80),
      deployment('term', 2, HTTP_8080),
      service('term', 'term', PORT_80),
      deployment('dns', 2, HTTP_8080),
      service('dns', 'dns', '  ports: [{name: dns, port: 53, protocol: UDP, targetPort: dns}]\n'),
    ].join('---\n'),
  },
};
