/** The logging the userspace proxy needs (the daemon's Logger fits it). */
export type ProxyLogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface ProxyLog {
  info(msg: string, fields?: ProxyLogFields): void;
  warn(msg: string, fields?: ProxyLogFields): void;
  error(msg: string, fields?: ProxyLogFields): void;
}

export const SILENT_LOG: ProxyLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
