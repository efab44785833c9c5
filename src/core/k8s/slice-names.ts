/**
 * Names for derived EndpointSlices. A cluster names them `<service>-<5 random characters>`
 * (generateName); kproxy derives the 5 characters from a hash of what the slice holds, so the
 * same input always gives the same names, and checks they are unique in the namespace. Also the
 * label and the port grouping both controllers (EndpointSlice and mirroring) use.
 */
import type { EndpointSlice, SlicePort } from '../model/objects.js';

/** The label naming the controller that wrote a derived EndpointSlice. */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';

/** Endpoints with the same set of ports (in any order) share slices. */
export function slicePortsKey(ports: readonly SlicePort[]): string {
  return JSON.stringify(ports.map((p) => [p.name, p.port, p.protocol]).sort());
}

/** The characters Kubernetes' random name suffixes are drawn from. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** generateName keeps at most 58 characters of the prefix (63 minus the suffix). */
const MAX_PREFIX = 58;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function suffix(seed: string): string {
  let h = fnv1a(seed);
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += ALPHABET[h % ALPHABET.length] ?? 'b';
    h = Math.floor(h / ALPHABET.length);
  }
  return out;
}

export class SliceNamer {
  private readonly used = new Set<string>();

  constructor(existing: readonly EndpointSlice[]) {
    for (const s of existing) this.used.add(`${s.meta.namespace}/${s.meta.name}`);
  }

  /** A fresh name `<owner>-xxxxx` in the namespace, derived from `seed`. */
  next(namespace: string, owner: string, seed: string): string {
    const prefix = `${owner}-`.slice(0, MAX_PREFIX);
    for (let salt = 0; ; salt++) {
      const name = prefix + suffix(`${namespace}/${owner}/${seed}/${salt}`);
      const key = `${namespace}/${name}`;
      if (!this.used.has(key)) {
        this.used.add(key);
        return name;
      }
    }
  }
}
