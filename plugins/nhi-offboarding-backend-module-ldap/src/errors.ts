import {
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { createSecretRedactor } from '@nhi-offboarding/plugin-nhi-offboarding-node';

/** What the admin DN needs, named in permission errors. */
export function ldapAclHint(options: {
  bindDN: string;
  baseDN: string;
  groupBaseDN: string;
}): string {
  return `The admin DN ${options.bindDN} needs, in slapd.conf / olcAccess before any rule that stops at it: write access to the service-account entries and their userPassword and pwdAccountLockedTime attributes ("access to dn.subtree=\\"${options.baseDN}\\" by dn.exact=\\"${options.bindDN}\\" write"), write access to the member, uniqueMember and memberUid attributes of the groups under ${options.groupBaseDN}, and for deleteEntry write access to the entry and to "children" of its parent`;
}

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

/** LDAP result codes that may pass when tried again. */
const TRANSIENT_CODES = new Set([
  3, // timeLimitExceeded
  51, // busy
  52, // unavailable
  80, // other
]);

/** The LDAP result code of an ldapts error, if it is one. */
export function resultCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Removes the configured secrets from a text. */
export function makeRedactor(secrets: Array<string | undefined>) {
  return createSecretRedactor(secrets, [
    // userPassword values as slapd stores them ({SSHA}..., {CRYPT}...)
    [/\{(S?SHA\d*|CRYPT|MD5|SMD5|PBKDF2[^}]*|ARGON2)\}\S+/gi, '{$1}***'],
  ]);
}

/** The message of an error, with the LDAP code when there is one. */
export function errorText(err: unknown): string {
  if (!err || typeof err !== 'object' || !('message' in err)) {
    return String(err);
  }
  const e = err as { message?: unknown; name?: unknown; code?: unknown };
  const message =
    typeof e.message === 'string'
      ? e.message.replace(/\s*Code: 0x[0-9a-f]+\s*$/i, '').trim()
      : '';
  const name =
    typeof e.name === 'string' && e.name !== 'Error'
      ? e.name
      : (err as object).constructor?.name ?? '';
  const parts: string[] = [];
  if (name && name !== 'Error') parts.push(name);
  if (message) parts.push(message);
  if (typeof e.code === 'number') parts.push(`(LDAP result ${e.code})`);
  else if (typeof e.code === 'string' && !message.includes(e.code)) {
    parts.push(`(${e.code})`);
  }
  return parts.join(' ') || 'unknown error';
}

/** True when the error means the server could not be reached (or the link broke). */
export function isConnectionFailure(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (Array.isArray(e.errors) && e.errors.some(isConnectionFailure)) {
    return true;
  }
  if (typeof e.code === 'number') return false;
  const message = typeof e.message === 'string' ? e.message : '';
  return /connect E[A-Z]+|timeout|timed out|connection (was )?closed|socket|not connected|Connection closed/i.test(
    message,
  );
}

/**
 * Turns anything an ldapts call threw into the provider error the engine
 * understands. `what` is a short description of the attempted step.
 */
export function toProviderError(
  err: unknown,
  options: {
    server: string;
    what: string;
    redact: (text: string) => string;
    aclHint: string;
    binding?: boolean;
  },
): Error {
  const { server, what, redact, aclHint } = options;
  if (
    err instanceof TransientProviderError ||
    err instanceof PermanentProviderError
  ) {
    return err;
  }
  const text = redact(errorText(err));
  const code = resultCode(err);
  if (code === undefined && isConnectionFailure(err)) {
    return new TransientProviderError(
      `LDAP server ${server} is unreachable while trying to ${what}: ${text}`,
    );
  }
  switch (code) {
    case 49:
      if (options.binding) {
        return new PermanentProviderError(
          `The admin DN of the ldap provider could not bind to ${server} (${text}). Check bindDN and bindPassword, and that the admin entry is not locked by a password policy.`,
        );
      }
      break;
    case 50: // insufficientAccessRights
      return new PermanentProviderError(
        `LDAP server ${server} denied the access needed to ${what} (${text}). ${aclHint}.`,
      );
    case 8: // strongerAuthRequired
    case 13: // confidentialityRequired
      return new PermanentProviderError(
        `LDAP server ${server} requires a protected connection to ${what} (${text}): use ldaps:// in url.`,
      );
    case 10: // referral: a read-only replica
      return new PermanentProviderError(
        `LDAP server ${server} referred the request to ${what} elsewhere (${text}); it is probably a read-only replica: point the provider at the primary.`,
      );
    case 53: // unwillingToPerform
      return new PermanentProviderError(
        `LDAP server ${server} is unwilling to ${what} (${text}); on a replica ("shadow context") point the provider at the primary.`,
      );
    default:
      break;
  }
  if (code !== undefined && TRANSIENT_CODES.has(code)) {
    return new TransientProviderError(
      `LDAP server ${server} failed to ${what} (${text}); it may pass on retry.`,
    );
  }
  if (code !== undefined) {
    return new PermanentProviderError(
      `LDAP server ${server} rejected the request to ${what} (${text}).`,
    );
  }
  return new Error(`LDAP server ${server} failed to ${what}: ${text}`);
}
