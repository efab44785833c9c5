import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  activePods,
  allPodsRunning,
  addDeploymentPods,
  expiredPods,
  findDeployment,
  markTerminating,
  scaleDownVictims,
  withoutPods,
} from '../../src/runtime/sandbox/changes.js';
import type { SandboxState } from '../../src/runtime/sandbox/types.js';
import { plannedSandbox } from '../helpers/sandbox.js';

const YAML = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: nginx}}
  template: {metadata: {labels: {app: nginx}}, spec: {containers: [{name: c}]}}
`;

function initial(nodes: number): SandboxState {
  return allPodsRunning(plannedSandbox(YAML, nodes));
}

describe('sandbox changes', () => {
  it('adds pods with new names, the next free addresses and a new veth each', () => {
    const s = initial(1);
    const { state, added } = addDeploymentPods(s, findDeployment(s, 'default', 'nginx'), 2);
    assert.deepEqual(added.map((p) => [p.name, p.ip, p.phase]), [
      ['nginx-3', '172.18.0.8', 'Pending'],
      ['nginx-4', '172.18.0.9', 'Pending'],
    ]);
    assert.equal(new Set(state.pods.map((p) => p.hostVeth)).size, state.pods.length);
    assert.equal(findDeployment(state, 'default', 'nginx').nextIndex, 5);
  });

  it('spreads added pods to the node with the fewest pods of the deployment', () => {
    const s = initial(2); // nginx-0 node-1, nginx-1 node-2, nginx-2 node-1
    const { added } = addDeploymentPods(s, findDeployment(s, 'default', 'nginx'), 1);
    assert.equal(added[0]?.nodeName, 'node-2');
    assert.equal(added[0].ip, '172.18.1.6');
  });

  it('scales down the newest pods first, and terminating pods no longer count', () => {
    const s = initial(1);
    const d = findDeployment(s, 'default', 'nginx');
    const victims = scaleDownVictims(s, d, 2);
    assert.deepEqual(victims.map((p) => p.name), ['nginx-2', 'nginx-1']);
    const t = markTerminating(s, new Set(['default/nginx-2']), new Date('2024-01-01T00:00:10Z'));
    assert.deepEqual(activePods(t, d).map((p) => p.name), ['nginx-0', 'nginx-1']);
    const terminating = t.pods.find((p) => p.name === 'nginx-2');
    assert.equal(terminating?.phase, 'Terminating');
    assert.equal(terminating.deletionDeadline, '2024-01-01T00:00:10.000Z');
    assert.deepEqual(expiredPods(t, new Date('2024-01-01T00:00:09Z')), []);
    assert.deepEqual(expiredPods(t, new Date('2024-01-01T00:00:10Z')).map((p) => p.name), ['nginx-2']);
    const gone = withoutPods(t, new Set(['default/nginx-2']));
    assert.ok(!gone.pods.some((p) => p.name === 'nginx-2'));
    // Its address is free again.
    const { added } = addDeploymentPods(gone, d, 1);
    assert.equal(added[0]?.ip, '172.18.0.7');
  });

  it('names unknown deployments and pods in its errors', () => {
    const s = initial(1);
    assert.throws(() => findDeployment(s, 'default', 'nope'), /no Deployment default\/nope .*default\/nginx/);
  });
});
