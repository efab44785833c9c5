/**
 * Loopback addresses and ports that no other socket can take by chance while a test relies on
 * them (`node --test` runs test files in parallel processes, and other programs run too).
 *
 * A port the kernel picked for `listen(0)` and that a test then closed to reuse later (as a dead
 * endpoint, or to bind again) can be picked again at any moment by any process's `listen(0)` or
 * `connect`. The ports here are outside the kernel's ephemeral range, which it never picks on its
 * own, on a random address of 127.0.0.0/8 (all of it is local on Linux) that no other test uses:
 * only an explicit bind of that very address and port could take one.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** The ports the kernel picks from for `listen(0)` and outgoing connections. */
function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high)) return { low, high };
  } catch {
    // not Linux: assume the usual range
  }
  return { low: 32768, high: 60999 };
}

/** Where quiet ports are picked: 20000-29999 unless the ephemeral range reaches into it. */
function quietRange(): { from: number; to: number } {
  const { low, high } = ephemeralRange();
  if (high < 20000 || low > 29999) return { from: 20000, to: 29999 };
  if (high < 64000) return { from: high + 1, to: 65535 };
  return { from: 10300, to: low - 1 };
}

/** A random address in 127.0.0.0/8, away from 127.0.0.x and 127.0.1.1 (which other programs use). */
export function privateLoopbackIP(): string {
  return `127.${randomInt(100, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

function tcpFree(ip: string, port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, ip, () => server.close(() => resolve(true)));
  });
}

function udpFree(ip: string, port: number): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, ip, () => socket.close(() => resolve(true)));
  });
}

/**
 * A port of `ip` outside the ephemeral range on which nothing listens (TCP or UDP), with the
 * `following` ports after it free too (for a port range).
 */
export async function quietPort(ip: string, following = 0): Promise<number> {
  const { from, to } = quietRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = randomInt(from, to - following + 1);
    let free = true;
    for (let p = port; free && p <= port + following; p++) free = (await tcpFree(ip, p)) && (await udpFree(ip, p));
    if (free) return port;
  }
  throw new Error(`no quiet port found on ${ip} in ${from}-${to}`);
}

/** An address and port nothing listens on, and nothing will: a TCP connect is refused, a UDP datagram gets ICMP port unreachable. */
export async function deadAddress(): Promise<{ ip: string; port: number }> {
  const ip = privateLoopbackIP();
  return { ip, port: await quietPort(ip) };
}
