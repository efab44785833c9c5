/** What the traffic client is asked to do and what it reports (shared by client.ts and traffic.ts). */

export type TrafficProtocol = 'tcp' | 'udp';

export interface TrafficRequest {
  readonly protocol: TrafficProtocol;
  readonly ip: string;
  readonly port: number;
  readonly count: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** Bind the client socket to this local address; null lets the kernel choose. */
  readonly sourceIP: string | null;
  /** Bind to this local port (only sensible with concurrency 1); null = ephemeral. */
  readonly sourcePort: number | null;
}

export interface TrafficResult {
  readonly protocol: TrafficProtocol;
  readonly target: string;
  readonly requests: number;
  /** Requests answered with a body naming a pod. */
  readonly answered: number;
  readonly errors: number;
  /** Answers per pod name. */
  readonly byPod: Readonly<Record<string, number>>;
  /** Answers per source address the pod saw (shows masquerading). */
  readonly bySource: Readonly<Record<string, number>>;
  /** Errors per kind: an errno code (ECONNREFUSED, ...), `timeout`, `http-<status>` or `bad-reply`. */
  readonly errorKinds: Readonly<Record<string, number>>;
  /** The pod that answered each request, in order (null for errors). */
  readonly sequence: readonly (string | null)[];
  readonly durationMs: number;
}
