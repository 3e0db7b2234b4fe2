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
export type MysqlOperation =
  | 'read'
  | 'lock'
  | 'kill'
  | 'revoke-role'
  | 'scrub-password'
  | 'drop-user';

/** What the admin account needs for each kind of statement. */
export const PRIVILEGE_HINTS: Record<MysqlOperation, string> = {
  read: 'Reading accounts needs SELECT on mysql.global_priv and mysql.roles_mapping (MariaDB) or mysql.user and mysql.role_edges (MySQL), and the PROCESS privilege to see the connections of other accounts',
  lock: 'ALTER USER ... ACCOUNT LOCK / UNLOCK needs the CREATE USER privilege (or UPDATE on the mysql schema)',
  kill: 'KILL CONNECTION of another account needs CONNECTION ADMIN (MariaDB 10.5+) or SUPER; on MySQL CONNECTION_ADMIN or SUPER',
  'revoke-role':
    'REVOKE <role> FROM <account> needs the role WITH ADMIN OPTION (GRANT <role> TO <admin> WITH ADMIN OPTION); on MySQL also ROLE_ADMIN',
  'scrub-password':
    'ALTER USER ... IDENTIFIED needs the CREATE USER privilege (or UPDATE on the mysql schema)',
  'drop-user':
    'DROP USER needs the CREATE USER privilege (or DELETE on the mysql schema)',
};

/** Error codes of node's sockets, DNS and mysql2 that mean the server cannot be reached. */
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
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'POOL_CLOSED',
]);

/** Server errors that may pass when tried again. */
const TRANSIENT_ERRNOS = new Set([
  1040, // too many connections
  1053, // server shutdown in progress
  1205, // lock wait timeout
  1213, // deadlock
  1317, // query interrupted
  1396, // ALTER/DROP USER on an account that went away meanwhile: re-read
  1927, // connection was killed
  1969, // max_statement_time exceeded
  2002, // cannot connect (socket)
  2003, // cannot connect (TCP)
  2006, // server has gone away
  2013, // lost connection during query
  3024, // MySQL max_execution_time exceeded
]);

/** Errors of a login that was refused: wrong password, locked, or no such account. */
export const LOGIN_REFUSED_ERRNOS = new Set([1045, 1698, 3118, 4151]);

/**
 * True for "this account is locked". MariaDB answers errno 4151, which mysql2
 * names after an unrelated error (ER_BULK_PARSER_INCOMPLETE_ESCAPE_SEQUENCE),
 * so the number or the message is checked, never the code name. MySQL uses
 * 3118 (ER_ACCOUNT_HAS_BEEN_LOCKED).
 */
export function isAccountLockedError(err: unknown): boolean {
  const e = err as { errno?: unknown; message?: unknown };
  return (
    e?.errno === 4151 ||
    e?.errno === 3118 ||
    (typeof e?.message === 'string' && /account is locked/i.test(e.message))
  );
}

/**
 * Removes secrets from a text: the configured ones verbatim and URL-encoded,
 * and anything that looks like `scheme://user:password@`, `password=...`
 * or a MySQL password hash (`*` and 40 hex digits).
 */
export function makeRedactor(secrets: Array<string | undefined>) {
  return createSecretRedactor(secrets, [
    URL_PASSWORD_PATTERN,
    PASSWORD_ASSIGNMENT_PATTERN,
    // mysql_native_password hashes as SHOW GRANTS prints them
    [/\*[0-9A-F]{40}\b/gi, '*<hash>'],
  ]);
}

/** The server's error number of a mysql2 error, if it is one. */
export function errnoOf(err: unknown): number | undefined {
  const errno = (err as { errno?: unknown })?.errno;
  return typeof errno === 'number' && errno > 0 ? errno : undefined;
}

/** The first meaningful message of an error (AggregateError has none). */
export function errorText(err: unknown): string {
  // Duck-typed: errors made in another realm (node internals under jest's
  // vm) are not `instanceof Error`.
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
  if (
    typeof e.code === 'string' &&
    !errnoOf(err) &&
    !parts.join(' ').includes(e.code)
  ) {
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
  const e = err as { code?: unknown; errors?: unknown; message?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const errno = errnoOf(err);
  if (errno && [1040, 1053, 1927, 2002, 2003, 2006, 2013].includes(errno)) {
    return true;
  }
  if (Array.isArray(e.errors) && e.errors.some(isConnectionFailure)) {
    return true;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    !errno &&
    /connect ETIMEDOUT|connect E[A-Z]+|Connection lost|closed state|Pool is closed|Can't add new command when connection is in closed state/i.test(
      message,
    )
  );
}

/**
 * Turns anything a mysql2 call threw into the provider error the engine
 * understands. `what` is a short description of the attempted step;
 * `server` is host:port (never a URL).
 */
export function toProviderError(
  err: unknown,
  options: {
    server: string;
    what: string;
    operation: MysqlOperation;
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
  const errno = errnoOf(err);
  const text = redact(errorText(err));
  const fatal = (err as { fatal?: unknown })?.fatal === true;

  if (isConnectionFailure(err)) {
    return new TransientProviderError(
      `MySQL server ${server} is unreachable while trying to ${what}: ${text}`,
    );
  }
  if (errno && LOGIN_REFUSED_ERRNOS.has(errno) && (fatal || errno !== 1698)) {
    return new PermanentProviderError(
      `The admin account of the mysql provider could not log in to ${server} (errno ${errno}: ${text}). ${
        isAccountLockedError(err)
          ? 'The admin account is locked: ALTER USER ... ACCOUNT UNLOCK it.'
          : 'Check the configured user, password and the host part of the admin account.'
      }`,
    );
  }
  switch (errno) {
    case 1044: // database access denied
    case 1095: // not owner of thread (KILL)
    case 1142: // table access denied
    case 1143: // column access denied
    case 1227: // you need (at least one of) the X privilege(s)
    case 1370: // routine access denied
    case 1698: // access denied (REVOKE role without ADMIN OPTION)
      return new PermanentProviderError(
        `MySQL at ${server} denied the privilege to ${what} (errno ${errno}: ${text}). ${PRIVILEGE_HINTS[operation]}.`,
      );
    case 1049:
      return new PermanentProviderError(
        `The configured database does not exist on ${server}: ${text}`,
      );
    default:
      break;
  }
  if (errno && TRANSIENT_ERRNOS.has(errno)) {
    return new TransientProviderError(
      `MySQL at ${server} failed to ${what} (errno ${errno}: ${text}); it may pass on retry.`,
    );
  }
  if (errno && errno >= 1000 && errno < 2000) {
    return new PermanentProviderError(
      `MySQL at ${server} rejected the statement to ${what} (errno ${errno}: ${text}).`,
    );
  }
  return new Error(
    `MySQL at ${server} failed to ${what}${
      errno ? ` (errno ${errno})` : ''
    }: ${text}`,
  );
}
