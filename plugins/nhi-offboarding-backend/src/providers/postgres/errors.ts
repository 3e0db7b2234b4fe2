import {
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import {
  createSecretRedactor,
  URL_PASSWORD_PATTERN,
  PASSWORD_ASSIGNMENT_PATTERN,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';

/** The kinds of statement the provider runs, for privilege hints. */
export type PostgresOperation =
  | 'read'
  | 'alter-login'
  | 'clear-password'
  | 'terminate'
  | 'revoke-membership'
  | 'reassign-drop-owned'
  | 'drop-role';

/** What the admin account needs for each kind of statement (SQLSTATE 42501). */
const PRIVILEGE_HINTS: Record<PostgresOperation, string> = {
  read: 'Reading pg_roles, pg_auth_members and pg_stat_activity needs only CONNECT on the configured database',
  'alter-login':
    'ALTER ROLE ... NOLOGIN / LOGIN needs the CREATEROLE attribute on the admin account (PostgreSQL 16+: also ADMIN OPTION on the role), and SUPERUSER when the target role is a superuser',
  'clear-password':
    'ALTER ROLE ... PASSWORD NULL needs the CREATEROLE attribute on the admin account (PostgreSQL 16+: also ADMIN OPTION on the role), and SUPERUSER when the target role is a superuser',
  terminate:
    'pg_terminate_backend needs the admin account to be a member of pg_signal_backend (or of the target role), and SUPERUSER to terminate the sessions of a superuser role',
  'revoke-membership':
    'REVOKE <group> FROM <role> needs ADMIN OPTION on the group role or the CREATEROLE attribute on the admin account (SUPERUSER for superuser groups; PostgreSQL 16+: the grantor of the membership or its privileges)',
  'reassign-drop-owned':
    'REASSIGN OWNED / DROP OWNED need the admin account to have the privileges of the role being dropped (membership in it, e.g. GRANT <role> TO <admin>) and of the reassignTo role, or SUPERUSER',
  'drop-role':
    'DROP ROLE needs the CREATEROLE attribute on the admin account (PostgreSQL 16+: also ADMIN OPTION on the role), and SUPERUSER for superuser roles',
};

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

/** SQLSTATEs that may pass when tried again. */
const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement_timeout)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
  '53100', // disk_full
  '53200', // out_of_memory
]);

/**
 * Removes secrets from a text: the configured ones verbatim and URL-encoded,
 * and any `scheme://user:password@` or `password=...` that looks like one.
 */
export function makeRedactor(secrets: Array<string | undefined>) {
  return createSecretRedactor(secrets, [
    URL_PASSWORD_PATTERN,
    PASSWORD_ASSIGNMENT_PATTERN,
  ]);
}

/** The SQLSTATE of a `pg` error, if it is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)
    ? code
    : undefined;
}

/** The first meaningful message of an error (AggregateError has none). */
export function errorText(err: unknown): string {
  // Duck-typed: errors made in another realm (node internals under jest's
  // vm) are not `instanceof Error`.
  if (!err || typeof err !== 'object' || !('message' in err)) {
    return String(err);
  }
  const e = err as { message?: unknown; name?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  const parts: string[] = [];
  if (message) parts.push(message);
  const inner = (err as { errors?: unknown }).errors;
  if (!message && Array.isArray(inner) && inner.length > 0) {
    parts.push(errorText(inner[0]));
  }
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    !sqlState(err) &&
    !parts.join(' ').includes(code)
  ) {
    parts.push(`(${code})`);
  }
  return (
    parts.join(' ').replace(/^(Error: )+/, '') ||
    (typeof e.name === 'string' ? e.name : 'unknown error')
  );
}

/** True when the error means the server could not be reached at all. */
export function isConnectionFailure(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    errors?: unknown;
  };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const state = sqlState(err);
  if (state && (state.startsWith('08') || state === '57P03')) return true;
  if (e.name === 'KnexTimeoutError') return true;
  if (Array.isArray(e.errors) && e.errors.some(isConnectionFailure))
    return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    !state &&
    /Connection terminated|connection timeout|timeout expired|Timeout acquiring a connection|not queryable|connect E[A-Z]+/i.test(
      message,
    )
  );
}

/**
 * Turns anything a knex/pg call threw into the provider error the engine
 * understands. `what` is a short description of the attempted step;
 * `server` is host:port (never a connection string).
 */
export function toProviderError(
  err: unknown,
  options: {
    server: string;
    what: string;
    operation: PostgresOperation;
    redact: (text: string) => string;
  },
): Error {
  const { server, what, operation, redact } = options;
  if (
    err instanceof TransientProviderError ||
    err instanceof PermanentProviderError
  ) {
    return err;
  }
  const state = sqlState(err);
  const text = redact(errorText(err));
  const detail = redact(
    String((err as { detail?: unknown })?.detail ?? '').trim(),
  );

  if (isConnectionFailure(err)) {
    return new TransientProviderError(
      `PostgreSQL server ${server} is unreachable while trying to ${what}: ${text}`,
    );
  }
  switch (state) {
    case '28P01':
    case '28000':
      return new PermanentProviderError(
        `The admin account of the postgres provider could not log in to ${server} (SQLSTATE ${state}: ${text}). Check the configured user, password and pg_hba.conf.`,
      );
    case '3D000':
      return new PermanentProviderError(
        `The configured database does not exist on ${server}: ${text}`,
      );
    case '42501':
      return new PermanentProviderError(
        `PostgreSQL at ${server} denied the privilege to ${what} (SQLSTATE 42501: ${text}). ${PRIVILEGE_HINTS[operation]}.`,
      );
    case '2BP01':
      return new PermanentProviderError(
        `PostgreSQL at ${server} cannot ${what} because other objects depend on the role (SQLSTATE 2BP01: ${text}${
          detail ? `; ${detail.replace(/\n/g, '; ')}` : ''
        }). REASSIGN OWNED / DROP OWNED only act on the configured database: run them in every other database listed, then retry.`,
      );
    default:
      break;
  }
  if (state && TRANSIENT_SQLSTATES.has(state)) {
    return new TransientProviderError(
      `PostgreSQL at ${server} failed to ${what} (SQLSTATE ${state}: ${text}); it may pass on retry.`,
    );
  }
  if (state && (state.startsWith('42') || state.startsWith('22'))) {
    return new PermanentProviderError(
      `PostgreSQL at ${server} rejected the statement to ${what} (SQLSTATE ${state}: ${text}).`,
    );
  }
  return new Error(
    `PostgreSQL at ${server} failed to ${what}${
      state ? ` (SQLSTATE ${state})` : ''
    }: ${text}`,
  );
}
