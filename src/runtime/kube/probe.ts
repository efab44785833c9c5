import { KubeConfig, CoreV1Api, Watch } from '@kubernetes/client-node';
export const x = [KubeConfig, CoreV1Api, Watch];
