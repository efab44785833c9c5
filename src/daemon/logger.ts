/**
 * Structured logs on stderr: one line per event, `text` (klog-like `key=value`) or `json`.
 */
export type LogFormat = 'text' | 'json';
export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

function textValue(v: string | number | boolean | null | undefined): string {
  if (typeof v === 'string') return /^[\w./:@%+-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  return String(v);
}

export function createLogger(format: LogFormat, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    const ts = new Date().toISOString();
    if (format === 'json') {
      write(`${JSON.stringify({ ts, level, msg, ...fields })}\n`);
      return;
    }
    const kv = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${textValue(v)}`)
      .join(' ');
    write(`${ts} ${level.toUpperCase().padEnd(5)} ${JSON.stringify(msg)}${kv === '' ? '' : ` ${kv}`}\n`);
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
