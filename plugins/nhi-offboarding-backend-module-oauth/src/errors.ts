import {
  PermanentProviderError,
  RateLimitedError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import {
  createSecretRedactor,
  URL_PASSWORD_PATTERN,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';

/** Removes secrets from a text: the configured ones, bearer tokens and client secrets. */
export function makeRedactor(secrets: Array<string | undefined>) {
  return createSecretRedactor(secrets, [
    URL_PASSWORD_PATTERN,
    [/(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 ***'],
    [
      /("?(client_secret|registration_access_token|access_token|refresh_token)"?\s*[:=]\s*"?)[^",&\s}]+/g,
      '$1***',
    ],
  ]);
}

/** The message of a thrown value (fetch wraps the socket error in `cause`). */
export function errorText(err: unknown): string {
  const e = err as { message?: unknown; cause?: { code?: unknown } };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = e?.cause?.code;
  return typeof code === 'string' && !message.includes(code)
    ? `${message} (${code})`
    : message;
}

/**
 * An HTTP answer (status + OAuth error body) as a provider error. `what` is
 * a short description of the attempted step.
 */
export function httpError(options: {
  server: string;
  what: string;
  status: number;
  error?: string;
  description?: string;
  retryAfter?: string | null;
  hint: string;
}): Error {
  const { server, what, status, error, description, hint } = options;
  const text = `HTTP ${status}${error ? ` ${error}` : ''}${
    description ? `: ${description}` : ''
  }`;
  if (status === 429) {
    const seconds = Number(options.retryAfter);
    return new RateLimitedError(
      `OAuth server ${server} asked to slow down while trying to ${what} (${text}).`,
      Number.isFinite(seconds) ? seconds * 1000 : undefined,
    );
  }
  if (status >= 500 || status === 408) {
    return new TransientProviderError(
      `OAuth server ${server} failed to ${what} (${text}); it may pass on retry.`,
    );
  }
  if (status === 401 || status === 403) {
    return new PermanentProviderError(
      `OAuth server ${server} refused the credentials used to ${what} (${text}). ${hint}`,
    );
  }
  return new PermanentProviderError(
    `OAuth server ${server} rejected the request to ${what} (${text}).`,
  );
}

/** A network failure or timeout as a transient error. */
export function networkError(
  err: unknown,
  options: { server: string; what: string; redact: (t: string) => string },
): Error {
  if (
    err instanceof TransientProviderError ||
    err instanceof PermanentProviderError
  ) {
    return err;
  }
  return new TransientProviderError(
    `OAuth server ${options.server} is unreachable while trying to ${
      options.what
    }: ${options.redact(errorText(err))}`,
  );
}
