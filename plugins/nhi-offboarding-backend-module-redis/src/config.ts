/*
 * Configuration of a `redis` entry of `nhiOffboarding.providers`, as the
 * provider takes it in code. config.d.ts describes the same keys for
 * app-config.
 */

/**
 * Connection to a Redis server (6.0 or later, for ACL users).
 * @public
 */
export interface RedisProviderConnection {
  /** Host name or IP address. Default `localhost`. */
  host?: string;
  /** TCP port. Default 6379. */
  port?: number;
  /**
   * The ACL user the provider logs in as; `default` when the server only
   * has `requirepass`. See the README for the permissions it needs.
   */
  user: string;
  /** Its password. */
  password?: string;
  /** TLS: `true` for TLS with the system's CAs, or node `tls.connect` options. */
  tls?: boolean | { [key: string]: unknown };
}

/** How ACL changes are written to disk, so a restart does not undo them. @public */
export type RedisAclPersistence =
  | 'auto'
  | 'acl-save'
  | 'config-rewrite'
  | 'none';

/**
 * A Redis server whose ACL users are trust anchors (kind `service-account`).
 * @public
 */
export interface RedisProviderConfig {
  /** Instance id, unique among the providers of the backend. */
  id: string;
  /** Provider type. */
  type: 'redis';
  /**
   * `redis://user:password@host:6379` (`rediss://` for TLS) or a connection
   * object. A URL may embed the admin password, so the whole value is secret.
   */
  connection: string | RedisProviderConnection;
  /**
   * How ACL changes are made durable. `auto` (default): `ACL SAVE` when the
   * server uses an aclfile, `CONFIG REWRITE` when it was started with a
   * config file, nothing when it has neither. `none` for services that
   * persist ACLs themselves or forbid CONFIG.
   */
  persistAcl?: RedisAclPersistence;
  /**
   * Whether `rotate` also closes the user's open connections (default
   * true). They logged in with the old password, and Redis cannot tell the
   * retiring entity's connections from those of the other users of the
   * credential, so all of them are closed.
   */
  rotateEndsConnections?: boolean;
  /** Calls in flight at once against this server. Default 4. */
  concurrency?: number;
  /** Give up connecting after this many milliseconds. Default 5000. */
  connectTimeoutMs?: number;
  /** Give up on a command after this many milliseconds. Default 10000. */
  commandTimeoutMs?: number;
  /** How long to wait for closed connections to disappear, in milliseconds. Default 5000. */
  killWaitMs?: number;
}
