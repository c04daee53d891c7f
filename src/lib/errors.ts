/**
 * The forwarder's error vocabulary. `code` is stable (logs and alerts key on it);
 * `retryable` says whether the invocation should throw so that Event Grid retries it.
 */
export type ForwarderErrorCode =
  | 'CONFIG' // a setting is missing or invalid
  | 'USAGE' // a command line was wrong
  | 'STORAGE' // a storage request failed in a way worth retrying
  | 'CHECKPOINT_CONTENTION' // could not win the checkpoint write after many attempts
  | 'SEND' // Event Hubs refused or failed a send
  | 'INPUT'; // input that cannot be processed

export class ForwarderError extends Error {
  override readonly name = 'ForwarderError';
  constructor(
    readonly code: ForwarderErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function configError(setting: string, problem: string, accepted: string): ForwarderError {
  return new ForwarderError('CONFIG', `Setting ${setting} ${problem}. Accepted: ${accepted}.`, true);
}

/** A one-line reason, including the causes an AggregateError (several failed attempts) carries. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message || ('code' in error && typeof error.code === 'string' ? error.code : error.name);
  if (!(error instanceof AggregateError) || error.errors.length === 0) return message;
  const causes = [...new Set(error.errors.map(errorMessage))].join('; ');
  return error.message ? `${error.message} (${causes})` : causes;
}

/**
 * A failed storage request. Retryable (throttling, network, 5xx, and 403 while a role assignment
 * propagates), except a 400, which the same request gets again.
 */
export function storageError(what: string, error: unknown): ForwarderError {
  const status = typeof error === 'object' && error !== null && 'statusCode' in error ? error.statusCode : undefined;
  return new ForwarderError('STORAGE', `${what} failed: ${errorMessage(error)}`, status !== 400, { cause: error });
}
