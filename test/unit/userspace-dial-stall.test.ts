/**
 * A TCP dial whose connect completed while the event loop was stalled past the attempt's timeout
 * counts as connected, not as a dead endpoint (timers run before the poll that reports it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connectTcp } from '../../src/runtime/userspace/dial.js';

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // the event loop is stalled, as on a loaded node
  }
}

test('a connect that completed during a stall longer than the timeout is a success', async () => {
  const server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const pending = connectTcp({ ip: '127.0.0.1', port, endpoint: `127.0.0.1:${port}` }, 20);
    busyWait(200);
    const result = await pending;
    if (!result.ok) assert.fail(`the dial failed: ${result.error}`);
    result.value.socket.destroy();
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
