/**
 * The demo's embedded default: the article's example (`examples/article-nginx.yaml`:
 * Deployment nginx with 3 replicas, Service nginx at 172.18.255.127:80) plus a NodePort
 * Service `nginx-nodeport` (nodePort 30080) on the same pods. The sandbox gives the pods
 * 172.18.0.5–7, as in the article.
 */
export const DEFAULT_DEMO_MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata:
  labels: {k8s-app: nginx, qcloud-app: nginx}
  name: nginx
  namespace: default
spec:
  replicas: 3
  selector:
    matchLabels: {k8s-app: nginx, qcloud-app: nginx}
  template:
    metadata:
      labels: {k8s-app: nginx, qcloud-app: nginx}
    spec:
      containers:
      - image: nginx:stable
        name: nginx
---
apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: default
  labels: {k8s-app: nginx, qcloud-app: nginx}
spec:
  type: ClusterIP
  clusterIP: 172.18.255.127
  selector: {k8s-app: nginx, qcloud-app: nginx}
  ports:
  - port: 80
    protocol: TCP
    targetPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: nginx-nodeport
  namespace: default
  labels: {k8s-app: nginx, qcloud-app: nginx}
spec:
  type: NodePort
  selector: {k8s-app: nginx, qcloud-app: nginx}
  ports:
  - port: 80
    protocol: TCP
    targetPort: 80
    nodePort: 30080
`;
