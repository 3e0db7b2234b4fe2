import {
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
};

/** Exponential backoff with jitter (half fixed, half random) so retries spread out. */
export function backoffMs(
  policy: RetryPolicy,
  attempt: number,
  random = Math.random,
): number {
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** Math.max(0, attempt - 1),
  );
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export type ErrorVerdict =
  | { retry: true; delayMs: number; message: string }
  | { retry: false; message: string };

/**
 * What to do after a failed attempt: permanent errors stop at once, others
 * are retried (honouring Retry-After) until attempts run out.
 */
export function judgeError(
  policy: RetryPolicy,
  error: unknown,
  attempts: number,
): ErrorVerdict {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof PermanentProviderError) {
    return { retry: false, message };
  }
  if (attempts >= policy.maxAttempts) {
    return {
      retry: false,
      message: `Gave up after ${attempts} attempt(s): ${message}`,
    };
  }
  const retryAfter =
    error instanceof TransientProviderError ? error.retryAfterMs : undefined;
  return {
    retry: true,
    delayMs:
      retryAfter !== undefined
        ? Math.max(retryAfter, 0)
        : backoffMs(policy, attempts),
    message,
  };
}
