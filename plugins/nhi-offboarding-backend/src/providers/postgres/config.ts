/*
 * Configuration keys of a `postgres` entry of `nhiOffboarding.providers`.
 *
 * Written self-contained (no imports) so that it can be merged into the
 * plugin's config.d.ts as it is.
 */

/**
 * Connection to a PostgreSQL server, as knex and `pg` take it.
 * @public
 */
export interface PostgresProviderConnection {
  /** Host name or IP address of the server. Default `localhost`. */
  host?: string;
  /** TCP port of the server. Default 5432. */
  port?: number;
  /**
   * The admin account the provider logs in as. It needs CREATEROLE to set
   * NOLOGIN/LOGIN and drop roles (SUPERUSER for superuser roles),
   * membership in pg_signal_backend to end sessions, and for `dropRole`
   * the privileges of the roles it drops (REASSIGN/DROP OWNED).
   */
  user: string;
  /**
   * Password of the admin account.
   * @visibility secret
   */
  password?: string;
  /**
   * The database the provider connects to. REASSIGN OWNED and DROP OWNED
   * act on this database only. Default: the user name.
   */
  database?: string;
  /**
   * TLS options passed to `pg` (`true`, or an object such as
   * `{ rejectUnauthorized: true, ca: '...' }`).
   * @visibility secret
   */
  ssl?: boolean | { [key: string]: unknown };
}

/**
 * A PostgreSQL server whose login roles are trust anchors (kind `db-user`).
 * @public
 */
export interface PostgresProviderConfig {
  /** Instance id, unique among the providers of the backend. */
  id: string;
  /** Provider type. */
  type: 'postgres';
  /**
   * A connection string (`postgresql://user:password@host:5432/db`) or a
   * connection object. A connection string may embed the admin password,
   * so the whole value is secret.
   * @visibility secret
   */
  connection: string | PostgresProviderConnection;
  /**
   * When true, `revoke` ends with REASSIGN OWNED, DROP OWNED (in the
   * configured database only) and DROP ROLE. When false (default) the role
   * is kept, disabled (NOLOGIN) and without memberships.
   */
  dropRole?: boolean;
  /**
   * Role that receives the objects of a dropped role (REASSIGN OWNED).
   * Default: the admin account the provider logs in as.
   */
  reassignTo?: string;
  /** Calls in flight at once against this server. Default 4. */
  concurrency?: number;
  /** Size of the connection pool. Default: `concurrency`. */
  maxConnections?: number;
  /** Give up connecting after this many milliseconds. Default 5000. */
  connectTimeoutMs?: number;
  /** statement_timeout of the provider's sessions in milliseconds. Default 20000. */
  statementTimeoutMs?: number;
  /**
   * How long to wait for each terminated session to exit
   * (`pg_terminate_backend(pid, timeout)`), in milliseconds. Default 5000.
   */
  terminateWaitMs?: number;
  /**
   * Stable name of the server used in fingerprints. Default: the cluster's
   * `system_identifier`, or host:port when that cannot be read.
   */
  serverIdentity?: string;
}
