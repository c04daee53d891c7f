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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A storage request that failed in a way a later retry may not (throttling, network, 5xx). */
export function storageError(what: string, error: unknown): ForwarderError {
  return new ForwarderError('STORAGE', `${what} failed: ${errorMessage(error)}`, true, { cause: error });
}
