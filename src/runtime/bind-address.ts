import { KproxyError } from '../core/errors.js';

export interface BindAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` or `[v6]:port`; an empty string (or port 0) disables the server. */
export function parseBindAddress(flag: string, value: string): BindAddress | null {
  if (value.trim() === '') return null;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value.trim());
  const port = m?.[3] === undefined ? NaN : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new KproxyError('E_USAGE', `${flag}: "${value}" is not host:port`);
  }
  if (port === 0) return null;
  return { host: m[1] ?? m[2] ?? '', port };
}
