/** Every error kproxy throws carries a stable code (DESIGN.md habits). */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_INPUT'
  /** An output file cannot be written. */
  | 'E_OUTPUT'
  | 'E_CONFIG'
  | 'E_PARSE'
  | 'E_RENDER'
  | 'E_EXEC'
  | 'E_SANDBOX'
  | 'E_TRACE'
  | 'E_UNSUPPORTED'
  /** The Kubernetes API server refused a request or broke a watch. */
  | 'E_API'
  | 'E_INTERNAL';

export class KproxyError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KproxyError';
    this.code = code;
  }
}

export function isKproxyError(value: unknown): value is KproxyError {
  return value instanceof KproxyError;
}
