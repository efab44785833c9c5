/**
 * Proxy ports of the userspace mode (reference B.2): `--proxy-port-range` parsing and a
 * deterministic allocator over the range.
 *
 * kube-proxy picked a random free port in the range. kproxy allocates next-fit instead (the
 * first free port after the last one handed out, wrapping around): deterministic, so `kproxy
 * rules` can show the ports offline, and a released port is reused as late as possible, which is
 * what the randomness was for (a UDP flow still NATed to a released port must not reach a
 * different service).
 */
import { KproxyError } from '../../core/errors.js';

export interface PortRange {
  /** First port of the range. */
  readonly base: number;
  /** Number of ports (base .. base+size-1). */
  readonly size: number;
}

/**
 * Parses kube-proxy's `--proxy-port-range` spellings: `LOW-HIGH` (inclusive), `BASE+OFFSET`
 * (BASE..BASE+OFFSET) or a single `PORT`. Empty and `0-0` mean "no range": the kernel picks.
 * Returns the error text for a bad value.
 */
export function parsePortRange(text: string): { readonly range: PortRange | null } | { readonly error: string } {
  const value = text.trim();
  if (value === '' || value === '0-0') return { range: null };
  const port = (s: string): number | null => (/^\d{1,5}$/.test(s) && Number(s) <= 65535 ? Number(s) : null);
  let low: number | null;
  let high: number | null;
  const dash = /^(\d+)-(\d+)$/.exec(value);
  const plus = /^(\d+)\+(\d+)$/.exec(value);
  if (dash !== null) {
    low = port(dash[1] ?? '');
    high = port(dash[2] ?? '');
  } else if (plus !== null) {
    low = port(plus[1] ?? '');
    const offset = port(plus[2] ?? '');
    high = low === null || offset === null ? null : low + offset;
  } else {
    low = port(value);
    high = low;
  }
  if (low === null || high === null || high > 65535) {
    return { error: `"${text}" is not a port range (LOW-HIGH, BASE+OFFSET or PORT, ports up to 65535)` };
  }
  if (low === 0) return { error: `"${text}": port 0 cannot be part of a range` };
  if (high < low) return { error: `"${text}": the end of the range is below its start` };
  return { range: { base: low, size: high - low + 1 } };
}

/** The range of a `--proxy-port-range` value already validated with the flags; null = the kernel picks. */
export function proxyPortRange(text: string): PortRange | null {
  const parsed = parsePortRange(text);
  if ('error' in parsed) throw new KproxyError('E_USAGE', `--proxy-port-range: ${parsed.error}`);
  return parsed.range;
}

export function formatPortRange(range: PortRange): string {
  return `${range.base}-${range.base + range.size - 1}`;
}

/** Next-fit allocation over a range; every operation is deterministic. */
export class PortRangeAllocator {
  private readonly used = new Set<number>();
  /** Offset of the next port to try. */
  private cursor = 0;

  constructor(readonly range: PortRange) {}

  get free(): number {
    return this.range.size - this.used.size;
  }

  contains(port: number): boolean {
    return port >= this.range.base && port < this.range.base + this.range.size;
  }

  isUsed(port: number): boolean {
    return this.used.has(port);
  }

  /** The next free port after the previous allocation; throws when the range is exhausted. */
  allocate(): number {
    for (let i = 0; i < this.range.size; i++) {
      const offset = (this.cursor + i) % this.range.size;
      const port = this.range.base + offset;
      if (!this.used.has(port)) {
        this.used.add(port);
        this.cursor = (offset + 1) % this.range.size;
        return port;
      }
    }
    throw new KproxyError(
      'E_CONFIG',
      `port allocation failed; there are no remaining ports left to allocate in the accepted range ${formatPortRange(this.range)}`,
    );
  }

  /** Marks a port as taken (e.g. found in use by another program); false if outside the range. */
  reserve(port: number): boolean {
    if (!this.contains(port)) return false;
    this.used.add(port);
    return true;
  }

  release(port: number): void {
    this.used.delete(port);
  }
}
