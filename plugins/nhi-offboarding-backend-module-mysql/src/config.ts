/*
 * Configuration of a `mysql` entry of `nhiOffboarding.providers`, as the
 * provider takes it in code. config.d.ts describes the same keys for
 * app-config.
 */

/**
 * Connection to a MySQL or MariaDB server, as mysql2 takes it.
 * @public
 */
export interface MysqlProviderConnection {
  /** Host name or IP address of the server. Default `localhost`. */
  host?: string;
  /** TCP port of the server. Default 3306. */
  port?: number;
  /** The admin account the provider logs in as (see the README for its privileges). */
  user: string;
  /** Password of the admin account. */
  password?: string;
  /** Default database of the provider's sessions. Optional; the provider reads only the `mysql` schema and information_schema. */
  database?: string;
  /** TLS: `true` for TLS with the system's CAs, or mysql2's ssl options (`{ ca, rejectUnauthorized, ... }`). */
  ssl?: boolean | { [key: string]: unknown };
}

/**
 * A MySQL / MariaDB server whose accounts (`user@host`) are trust anchors
 * (kind `db-user`).
 * @public
 */
export interface MysqlProviderConfig {
  /** Instance id, unique among the providers of the backend. */
  id: string;
  /** Provider type. */
  type: 'mysql';
  /**
   * `mysql://user:password@host:3306/database` or a connection object. A URL
   * may embed the admin password, so the whole value is secret.
   */
  connection: string | MysqlProviderConnection;
  /**
   * `revoke` ends with DROP USER (default true). When false the account is
   * kept: locked, without roles, and with its password replaced by a random
   * hash nobody knows, so unlocking it does not bring the old password back.
   */
  dropUser?: boolean;
  /** Calls in flight at once against this server. Default 4. */
  concurrency?: number;
  /** Size of the connection pool. Default: `concurrency`. */
  maxConnections?: number;
  /** Give up connecting after this many milliseconds. Default 5000. */
  connectTimeoutMs?: number;
  /** Give up on a statement after this many milliseconds. Default 20000. */
  queryTimeoutMs?: number;
  /** How long to wait for killed connections to go away, in milliseconds. Default 5000. */
  killWaitMs?: number;
  /**
   * Stable name of the server used in fingerprints. Default: MySQL's
   * `server_uuid`; MariaDB has none, so `@@hostname:@@port` of the server.
   */
  serverIdentity?: string;
}
