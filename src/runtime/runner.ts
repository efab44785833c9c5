/**
 * A bounded-frequency runner like kube-proxy's (pkg/proxy/runner): requests are coalesced,
 * runs are at least `minIntervalMs` apart (measured from the end of the previous run), a run
 * happens at least every `maxIntervalMs`, and after failed runs the next one comes with
 * exponential backoff — `firstRetryMs`, doubling per consecutive failure, at most
 * `retryIntervalMs` (kube-proxy's fixed retry interval) — unless something else triggers it first.
 */
export interface RunnerOptions {
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly retryIntervalMs: number;
  /** The first retry's delay; defaults to retryIntervalMs (no backoff). */
  readonly firstRetryMs?: number;
}

export class BoundedFrequencyRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private pending = false;
  /** Consecutive failed runs. */
  private failures = 0;
  /** End of the last run; -Infinity before the first, so a first request runs at once. */
  private lastEnd = Number.NEGATIVE_INFINITY;
  /** Base of the periodic and retry schedules: the last run's end, or the start. */
  private periodBase = Date.now();
  private stopped = false;

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly opts: RunnerOptions,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Asks for a run as soon as the minimum interval allows. */
  run(): void {
    if (this.stopped) return;
    this.pending = true;
    this.schedule();
  }

  /** Starts the periodic schedule (without an immediate run). */
  start(): void {
    this.periodBase = Date.now();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** The delay before the next retry after the current run of failures. */
  retryDelay(): number {
    const first = this.opts.firstRetryMs ?? this.opts.retryIntervalMs;
    return Math.min(this.opts.retryIntervalMs, first * 2 ** Math.max(0, this.failures - 1));
  }

  private schedule(): void {
    if (this.stopped || this.running !== null) return;
    const now = Date.now();
    let at: number;
    if (this.pending) at = Math.max(now, this.lastEnd + this.opts.minIntervalMs);
    else if (this.failures > 0) at = this.periodBase + this.retryDelay();
    else at = this.periodBase + this.opts.maxIntervalMs;
    if (this.timer !== null) clearTimeout(this.timer);
    this.armFor(at);
  }

  /**
   * Fires at `at` (wall clock), not before: a timer counts from the event loop's cached time,
   * which lags the clock, so it can fire a few ms early — and runs must stay minIntervalMs apart.
   */
  private armFor(at: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (Date.now() < at) {
        this.armFor(at);
        return;
      }
      this.fire();
    }, Math.max(0, at - Date.now()));
  }

  private fire(): void {
    this.pending = false;
    this.running = this.fn()
      .then(
        () => {
          this.failures = 0;
        },
        (err: unknown) => {
          this.failures++;
          this.onError(err);
        },
      )
      .finally(() => {
        this.lastEnd = Date.now();
        this.periodBase = this.lastEnd;
        this.running = null;
        this.schedule();
      });
  }
}
