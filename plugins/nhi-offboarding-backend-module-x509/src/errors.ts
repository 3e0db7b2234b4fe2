import {
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { createSecretRedactor } from '@nhi-offboarding/plugin-nhi-offboarding-node';

/** Removes the configured secrets (the CA key passphrase) from a text. */
export function makeRedactor(secrets: Array<string | undefined>) {
  return createSecretRedactor(secrets, [
    [
      /-----BEGIN[^-]*PRIVATE KEY-----[\s\S]*?-----END[^-]*PRIVATE KEY-----/g,
      '<private key>',
    ],
  ]);
}

/** The first meaningful message of an error. */
export function errorText(err: unknown): string {
  if (!err || typeof err !== 'object' || !('message' in err)) {
    return String(err);
  }
  const e = err as { message?: unknown; code?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  return message || (typeof e.code === 'string' ? e.code : 'unknown error');
}

/** A failed openssl run: exit code and (redacted) error output. */
export class OpensslError extends Error {
  readonly name = 'OpensslError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
  }
}

const FS_TRANSIENT = new Set([
  'ENOENT',
  'EIO',
  'EBUSY',
  'EAGAIN',
  'ETIMEDOUT',
  'ESTALE',
  'ENOTCONN',
  'EHOSTDOWN',
]);

/**
 * Turns anything a file or openssl step threw into the provider error the
 * engine understands. `what` is a short description of the step.
 */
export function toProviderError(
  err: unknown,
  options: { ca: string; what: string; redact: (text: string) => string },
): Error {
  const { ca, what, redact } = options;
  if (
    err instanceof TransientProviderError ||
    err instanceof PermanentProviderError
  ) {
    return err;
  }
  const text = redact(errorText(err));
  const code = (err as { code?: unknown })?.code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    const path = (err as { path?: unknown }).path;
    return new PermanentProviderError(
      `The backend may not ${what} of CA ${ca}: ${text}. It needs read and write access to the CA database (index.txt and its .attr/.old files), ${
        typeof path === 'string' ? `${path}, ` : ''
      }the CRL path and its folder, and read access to the CA key and certificates.`,
    );
  }
  if (typeof code === 'string' && FS_TRANSIENT.has(code)) {
    return new TransientProviderError(
      `CA ${ca} is not reachable while trying to ${what}: ${text}`,
    );
  }
  if (err instanceof OpensslError) {
    const out = redact(err.stderr);
    if (
      /bad decrypt|unable to load CA private key|bad password|Could not read CA private key|unable to load key/i.test(
        out,
      )
    ) {
      return new PermanentProviderError(
        `openssl could not use the private key of CA ${ca} to ${what}: wrong or missing caKeyPassphrase, or the key is unreadable (${firstLines(
          out,
        )}).`,
      );
    }
    if (/Permission denied/i.test(out)) {
      return new PermanentProviderError(
        `openssl was denied access while trying to ${what} for CA ${ca} (${firstLines(
          out,
        )}). The backend user needs write access to the CA database and the CRL path, and read access to the CA key.`,
      );
    }
    if (err.exitCode === null) {
      return new TransientProviderError(
        `openssl did not finish in time while trying to ${what} for CA ${ca}.`,
      );
    }
    return new PermanentProviderError(
      `openssl failed to ${what} for CA ${ca} (exit ${
        err.exitCode
      }): ${firstLines(out)}`,
    );
  }
  return new Error(`Failed to ${what} for CA ${ca}: ${text}`);
}

export function firstLines(text: string, n = 3): string {
  return text
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean)
    .slice(0, n)
    .join(' | ');
}
