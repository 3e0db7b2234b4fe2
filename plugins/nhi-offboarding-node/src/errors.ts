/**
 * Errors providers throw so the engine knows whether to try again.
 * Anything else thrown is treated as transient until attempts run out.
 */

/** A failure that may pass: network error, 5xx, timeout. @public */
export class TransientProviderError extends Error {
  readonly name: string = 'TransientProviderError';
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** The system asked us to slow down (HTTP 429 / Retry-After). @public */
export class RateLimitedError extends TransientProviderError {
  readonly name: string = 'RateLimitedError';
}

/**
 * A failure that retrying will not fix, e.g. the admin account lacks a
 * privilege. The message must say what a person has to do.
 * @public
 */
export class PermanentProviderError extends Error {
  readonly name: string = 'PermanentProviderError';
}
