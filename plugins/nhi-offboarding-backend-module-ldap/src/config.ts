/*
 * Configuration of an `ldap` entry of `nhiOffboarding.providers`, as the
 * provider takes it in code. config.d.ts describes the same keys for
 * app-config.
 */

/**
 * A directory (OpenLDAP slapd with the ppolicy overlay, or any LDAPv3 server
 * that honours `pwdAccountLockedTime`) whose service-account entries are
 * trust anchors (kind `service-account`).
 * @public
 */
export interface LdapProviderConfig {
  /** Instance id, unique among the providers of the backend. */
  id: string;
  /** Provider type. */
  type: 'ldap';
  /** `ldap://host:389` or `ldaps://host:636`. */
  url: string;
  /** The DN the provider binds as (its admin). */
  bindDN: string;
  /** Its password. */
  bindPassword: string;
  /** Where service accounts live (searched with scope sub). */
  baseDN: string;
  /** Attribute whose value is the externalId of an account. Default `uid`. */
  accountAttribute?: string;
  /** Extra filter an account entry must match. Default `(objectClass=*)`. */
  accountFilter?: string;
  /** Where groups live. Default: `baseDN`. */
  groupBaseDN?: string;
  /** `revoke` deletes the entry (default true); false: lock it and scramble its password. */
  deleteEntry?: boolean;
  /** Discover accounts whose `description` names the entity. Default true. */
  discoverByDescription?: boolean;
  /**
   * A DN template with `{entityRef}`: accounts whose `seeAlso` equals it are
   * discovered, e.g. `cn={entityRef},ou=backstage,dc=example,dc=org`.
   */
  seeAlsoTemplate?: string;
  /**
   * The operator declares that the directory has the lock ACL (README): a
   * connection that is already bound as a locked account is refused its next
   * operation. Only changes what the evidence says. Default false.
   */
  lockAclInstalled?: boolean;
  /** Node tls options for ldaps:// (e.g. `ca`). */
  tlsOptions?: { [key: string]: unknown };
  /** Calls in flight at once against this directory. Default 4. */
  concurrency?: number;
  /** Give up connecting after this many milliseconds. Default 5000. */
  connectTimeoutMs?: number;
  /** Give up on an operation after this many milliseconds. Default 10000. */
  timeoutMs?: number;
}
