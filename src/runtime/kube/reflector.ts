/**
 * One resource's list+watch loop, as client-go's reflector runs it: list (in pages), then watch
 * from the list's resourceVersion with bookmarks; resume from the last seen resourceVersion
 * when a watch ends; list again when the server says that version is gone (410); back off while
 * the server cannot be reached, keeping the objects last seen; restart a watch that stays
 * silent (no event, no bookmark) for too long.
 */
import { type KubeClient, type Query, type WatchEvent, type WatchHandle, KubeApiError, errorEventStatus } from './transport.js';
import { type RawObject, listResource } from './list.js';
import { type ResourceSpec, rawObjectKey, rawResourceVersion, withKind } from './resources.js';

export type LogValue = string | number | boolean | null | undefined;
export interface KubeLog {
  info(msg: string, fields?: Readonly<Record<string, LogValue>>): void;
  warn(msg: string, fields?: Readonly<Record<string, LogValue>>): void;
}

export interface ReflectorTiming {
  /** A watch with no event and no bookmark for this long is restarted. */
  readonly stallTimeoutMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** The timeoutSeconds asked of each watch (client-go: 5 to 10 minutes). */
  readonly watchTimeoutSeconds: () => number;
  readonly pageSize: number;
}

/** API servers send a bookmark about every minute; two missed ones mean a dead stream. */
export const DEFAULT_TIMING: ReflectorTiming = {
  stallTimeoutMs: 150_000,
  initialBackoffMs: 800,
  maxBackoffMs: 30_000,
  watchTimeoutSeconds: () => 300 + Math.floor(Math.random() * 300),
  pageSize: 500,
};

/** A watch that lasted this long or delivered an event counts as healthy (resets the backoff). */
const HEALTHY_WATCH_MS = 1000;

/** Maps an object to what matters of it: equal fingerprints mean no change worth a sync. */
export type Fingerprint = (obj: RawObject) => string;

type WatchOutcome =
  | { readonly kind: 'closed'; readonly healthy: boolean }
  | { readonly kind: 'expired'; readonly message: string }
  | { readonly kind: 'stalled' }
  | { readonly kind: 'failed'; readonly error: Error; readonly healthy: boolean }
  | { readonly kind: 'stopped' };

interface Entry {
  readonly object: RawObject;
  readonly fingerprint: string;
}

export interface ReflectorStats {
  lists: number;
  watches: number;
  expired: number;
  stalls: number;
  failures: number;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Reflector {
  private items = new Map<string, Entry>();
  private resourceVersion = '';
  private stopped = false;
  private loopDone: Promise<void> | null = null;
  private backoffMs = 0;
  private wake: (() => void) | null = null;
  private stopWatch: (() => void) | null = null;
  private markSynced: () => void = () => undefined;
  readonly synced: Promise<void>;
  readonly stats: ReflectorStats = { lists: 0, watches: 0, expired: 0, stalls: 0, failures: 0 };

  constructor(
    private readonly client: KubeClient,
    readonly spec: ResourceSpec,
    private readonly onChange: () => void,
    private readonly fingerprint: Fingerprint,
    private readonly log: KubeLog,
    private readonly timing: ReflectorTiming = DEFAULT_TIMING,
  ) {
    this.synced = new Promise((resolve) => {
      this.markSynced = resolve;
    });
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.stopWatch?.();
    await this.loopDone;
  }

  /** The objects last seen, in key order. */
  objects(): RawObject[] {
    return [...this.items.keys()].sort().map((k) => (this.items.get(k) as Entry).object);
  }

  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  private selectors(): Query {
    return { labelSelector: this.spec.labelSelector, fieldSelector: this.spec.fieldSelector };
  }

  private async loop(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      if (needList) {
        try {
          await this.list();
          needList = false;
          this.backoffMs = 0;
        } catch (err) {
          if (this.isStopped()) break;
          this.stats.failures++;
          const delay = this.nextBackoff();
          this.log.warn(`listing ${this.spec.name} failed; keeping the last objects seen and retrying`, {
            error: errorText(err),
            retryInMs: delay,
          });
          await this.sleep(delay);
          continue;
        }
      }
      const outcome = await this.watchOnce();
      switch (outcome.kind) {
        case 'stopped':
          break;
        case 'closed':
          // The server ends every watch after its timeout: resume from where it stopped.
          if (outcome.healthy) this.backoffMs = 0;
          else await this.sleep(this.nextBackoff());
          break;
        case 'expired':
          this.stats.expired++;
          this.log.info(`watch of ${this.spec.name}: resource version ${this.resourceVersion} is gone; listing again`, {
            reason: outcome.message,
          });
          needList = true;
          break;
        case 'stalled':
          this.stats.stalls++;
          this.log.warn(`watch of ${this.spec.name}: no event or bookmark for ${this.timing.stallTimeoutMs / 1000}s; restarting it`, {
            resourceVersion: this.resourceVersion,
          });
          break;
        case 'failed': {
          this.stats.failures++;
          if (outcome.healthy) this.backoffMs = 0;
          const delay = this.nextBackoff();
          this.log.warn(`watch of ${this.spec.name} failed; keeping the last objects seen and retrying`, {
            error: outcome.error.message,
            resourceVersion: this.resourceVersion,
            retryInMs: delay,
          });
          await this.sleep(delay);
          break;
        }
      }
    }
  }

  /** A method, not the field: the loop's narrowing of `this.stopped` does not survive awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private nextBackoff(): number {
    const base = this.backoffMs === 0 ? this.timing.initialBackoffMs : Math.min(this.backoffMs * 2, this.timing.maxBackoffMs);
    this.backoffMs = base;
    // Jitter spreads the retries of many nodes after an API server outage.
    return Math.round(base * (1 + Math.random() * 0.5));
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private async list(): Promise<void> {
    const listed = await listResource(this.client, this.spec, this.timing.pageSize);
    const items = new Map<string, Entry>();
    for (const obj of listed.items) this.put(items, obj);
    this.stats.lists++;
    const changed = items.size !== this.items.size || [...items].some(([k, e]) => this.items.get(k)?.fingerprint !== e.fingerprint);
    this.items = items;
    this.resourceVersion = listed.resourceVersion;
    this.markSynced();
    if (changed) this.onChange();
  }

  /** Adds an object to a map; returns whether its fingerprint differs from the one it replaced. */
  private put(into: Map<string, Entry>, raw: unknown): boolean {
    const object = withKind(this.spec, raw);
    const key = rawObjectKey(object);
    if (object === null || key === null) return false;
    const fingerprint = this.fingerprint(object);
    const changed = into.get(key)?.fingerprint !== fingerprint;
    into.set(key, { object, fingerprint });
    return changed;
  }

  private watchOnce(): Promise<WatchOutcome> {
    if (this.stopped) return Promise.resolve({ kind: 'stopped' });
    this.stats.watches++;
    return new Promise((resolve) => {
      const started = Date.now();
      let events = 0;
      const watch = { finished: false };
      let handle: WatchHandle | null = null;
      let stallTimer: NodeJS.Timeout | null = null;
      const healthy = (): boolean => events > 0 || Date.now() - started >= HEALTHY_WATCH_MS;
      const finish = (o: WatchOutcome): void => {
        if (watch.finished) return;
        watch.finished = true;
        if (stallTimer !== null) clearTimeout(stallTimer);
        this.stopWatch = null;
        handle?.abort();
        resolve(o);
      };
      const armStallTimer = (): void => {
        if (stallTimer !== null) clearTimeout(stallTimer);
        stallTimer = setTimeout(() => finish({ kind: 'stalled' }), this.timing.stallTimeoutMs);
      };
      this.stopWatch = () => finish({ kind: 'stopped' });
      armStallTimer();
      handle = this.client.watch(
        this.spec.path,
        {
          ...this.selectors(),
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(this.timing.watchTimeoutSeconds()),
        },
        {
          onOpen: armStallTimer,
          onEvent: (event) => {
            events++;
            armStallTimer();
            const end = this.apply(event);
            if (end !== null) finish(end);
          },
          onClose: (error) => {
            if (error === null) finish({ kind: 'closed', healthy: healthy() });
            else if (error instanceof KubeApiError && error.status === 410) finish({ kind: 'expired', message: error.message });
            else finish({ kind: 'failed', error, healthy: healthy() });
          },
        },
      );
      if (watch.finished) handle.abort();
    });
  }

  /** Applies one watch event; returns how the watch ends when the event ends it. */
  private apply(event: WatchEvent): WatchOutcome | null {
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const changed = this.put(this.items, event.object);
        this.noteVersion(event.object);
        if (changed) this.onChange();
        return null;
      }
      case 'DELETED': {
        const key = rawObjectKey(event.object);
        const existed = key !== null && this.items.delete(key);
        this.noteVersion(event.object);
        if (existed) this.onChange();
        return null;
      }
      case 'BOOKMARK':
        this.noteVersion(event.object);
        return null;
      case 'ERROR': {
        const status = errorEventStatus(event.object);
        if (status.status === 410) return { kind: 'expired', message: status.message };
        return { kind: 'failed', error: status, healthy: true };
      }
      default:
        this.log.warn(`watch of ${this.spec.name}: unknown event type ignored`, { type: event.type });
        return null;
    }
  }

  private noteVersion(obj: unknown): void {
    const rv = rawResourceVersion(obj);
    if (rv !== null) this.resourceVersion = rv;
  }
}
