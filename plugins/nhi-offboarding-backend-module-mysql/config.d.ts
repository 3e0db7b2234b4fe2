export interface Config {
  nhiOffboarding?: {
    /**
     * Credential systems. This module adds the type `mysql`: the accounts
     * (`user@host`) of a MySQL 8 or MariaDB 10.4+ server, linked with the
     * annotation `nhi-offboarding/<id>: app@%, reporting@10.0.0.%`.
     */
    providers?: Array<{
      /** Unique id: lower-case letters, digits, '.', '_' or '-'. Used in annotations. */
      id: string;
      /** Provider type: `mysql` for this module (MySQL and MariaDB alike). */
      type: string;

      /**
       * mysql: `mysql://user:password@host:3306` (or `mariadb://`), or an object
       * with host, port, user, password, database and ssl. The admin account
       * needs CREATE USER, PROCESS, CONNECTION ADMIN (MariaDB 10.5+; MySQL:
       * CONNECTION_ADMIN; or SUPER), SELECT on the `mysql` schema, and ADMIN
       * OPTION on the roles it revokes.
       * @visibility secret
       */
      connection?:
        | string
        | {
            /** Default `localhost`. */
            host?: string;
            /** Default 3306. */
            port?: number;
            user: string;
            /** @visibility secret */
            password?: string;
            database?: string;
            /**
             * mysql: `true` for TLS with the system's CAs, or mysql2 ssl options
             * (`{ ca, rejectUnauthorized, ... }`).
             * @visibility secret
             */
            ssl?: boolean | { [key: string]: unknown };
          };
      /**
       * mysql: `revoke` ends with DROP USER (default true). When false the
       * account is kept: locked, without roles, its password replaced by a
       * random hash nobody knows.
       */
      dropUser?: boolean;
      /** mysql: size of the connection pool. Default: concurrency. */
      maxConnections?: number;
      /** mysql: connect timeout in milliseconds. Default 5000. */
      connectTimeoutMs?: number;
      /** mysql: a statement is given up after this many milliseconds. Default 20000. */
      queryTimeoutMs?: number;
      /** mysql: how long to wait for killed connections to go away, in milliseconds. Default 5000. */
      killWaitMs?: number;
      /** mysql: stable server name used in fingerprints. Default: MySQL's server_uuid, MariaDB's @@hostname:@@port. */
      serverIdentity?: string;

      /** Calls in flight at once against this provider. Default 4. */
      concurrency?: number;
    }>;
  };
}
