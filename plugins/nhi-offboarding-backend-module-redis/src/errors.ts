import {
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import {
  createSecretRedactor,
  URL_PASSWORD_PATTERN,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';

/** What the admin ACL user needs, named in permission errors. */
export const REDIS_PERMISSIONS_HINT =
  'The admin ACL user needs +acl (ACL GETUSER, SETUSER, DELUSER, WHOAMI, SAVE), +client|list, +client|kill and +client|id, +info, and for persistence +config|get and +config|rewrite; e.g. ACL SETUSER <admin> +acl +client|list +client|kill +client|id +info +config|get +config|rewrite +ping';

/** Error codes of node's sockets and DNS that mean the server cannot be reached. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
]);

/** The first word of a Redis error reply (`WRONGPASS`, `NOPERM`, `ERR`), if it is one. */
export function replyCode(err: unknown): string | undefined {
  const e = err as { name?: unknown; message?: unknown };
  if (e?.name !== 'ReplyError' || typeof e.message !== 'string') {
    return undefined;
  }
  return /^([A-Z]+)\b/.exec(e.message)?.[1];
}

/**
 * Removes secrets from a text: the configured ones verbatim and URL-encoded,
 * and anything that looks like `scheme://user:password@` or a password rule
 * of ACL SETUSER (`>secret`, `#hash`).
 */
export function makeRedactor(secrets: Array<string | undefined>) {
  return createSecretRedactor(secrets, [
    URL_PASSWORD_PATTERN,
    // ACL SETUSER arguments: >password, <password, #hash, !hash
    [/(^|\s)[<>][^\s]+/g, '$1>***'],
    [/(^|\s)[#!][0-9a-f]{64}\b/gi, '$1#***'],
  ]);
}

/** The message of an error (AggregateError has none). */
export function errorText(err: unknown): string {
  if (!err || typeof err !== 'object' || !('message' in err)) {
    return String(err);
  }
  const e = err as { message?: unknown; name?: unknown; code?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  const parts: string[] = [];
  if (message) parts.push(message);
  const inner = (err as { errors?: unknown }).errors;
  if (!message && Array.isArray(inner) && inner.length > 0) {
    parts.push(errorText(inner[0]));
  }
  if (typeof e.code === 'string' && !parts.join(' ').includes(e.code)) {
    parts.push(`(${e.code})`);
  }
  return (
    parts.join(' ').replace(/^(Error: )+/, '') ||
    (typeof e.name === 'string' ? e.name : 'unknown error')
  );
}

/** True when the error means the server could not be reached (or the link broke). */
export function isConnectionFailure(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    errors?: unknown;
  };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (Array.isArray(e.errors) && e.errors.some(isConnectionFailure)) {
    return true;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    e.name !== 'ReplyError' &&
    /Connection is closed|connect E[A-Z]+|Stream isn't writeable|Command timed out|timed out/i.test(
      message,
    )
  );
}

/**
 * Turns anything an ioredis call threw into the provider error the engine
 * understands. `what` is a short description of the attempted step;
 * `server` is host:port (never a URL).
 */
export function toProviderError(
  err: unknown,
  options: {
    server: string;
    what: string;
    redact: (text: string) => string;
  },
): Error {
  const { server, what, redact } = options;
  if (
    err instanceof TransientProviderError ||
    err instanceof PermanentProviderError
  ) {
    return err;
  }
  const text = redact(errorText(err));
  const code = replyCode(err);
  if (!code && isConnectionFailure(err)) {
    return new TransientProviderError(
      `Redis server ${server} is unreachable while trying to ${what}: ${text}`,
    );
  }
  switch (code) {
    case 'WRONGPASS':
    case 'NOAUTH':
      return new PermanentProviderError(
        `The admin user of the redis provider could not log in to ${server} (${text}). Check the configured user and password, and that the admin ACL user is on.`,
      );
    case 'NOPERM':
      return new PermanentProviderError(
        `Redis at ${server} denied the permission to ${what} (${text}). ${REDIS_PERMISSIONS_HINT}.`,
      );
    case 'READONLY':
      return new PermanentProviderError(
        `Redis at ${server} is a read-only replica and cannot ${what} (${text}). Point the provider at the primary; note that each server keeps its own ACL users.`,
      );
    case 'LOADING':
    case 'BUSY':
    case 'TRYAGAIN':
    case 'MASTERDOWN':
    case 'CLUSTERDOWN':
      return new TransientProviderError(
        `Redis at ${server} failed to ${what} (${text}); it may pass on retry.`,
      );
    case 'ERR':
      if (/unknown (sub)?command|wrong number of arguments/i.test(text)) {
        return new PermanentProviderError(
          `Redis at ${server} does not support the command needed to ${what} (${text}). ACL users need Redis 6.0 or later; a command may also be renamed or disabled by the service.`,
        );
      }
      return new PermanentProviderError(
        `Redis at ${server} rejected the command to ${what} (${text}).`,
      );
    default:
      break;
  }
  return new Error(`Redis at ${server} failed to ${what}: ${text}`);
}
