export interface Config {
  nhiOffboarding?: {
    /**
     * Credential systems. This module adds the type `redis`: the ACL users of
     * a Redis 6+ server, linked with the annotation
     * `nhi-offboarding/<id>: orders-writer, cache-reader`.
     */
    providers?: Array<{
      /** Unique id: lower-case letters, digits, '.', '_' or '-'. Used in annotations. */
      id: string;
      /** Provider type: `redis` for this module. */
      type: string;

      /**
       * redis: `redis://user:password@host:6379` (`rediss://` for TLS), or an
       * object with host, port, user (the admin ACL user; `default` for a
       * requirepass-only server), password and tls. The admin user needs
       * +acl, +client|list, +client|kill, +client|id, +info and, for
       * persistence, +config|get and +config|rewrite.
       * @visibility secret
       */
      connection?:
        | string
        | {
            /** Default `localhost`. */
            host?: string;
            /** Default 6379. */
            port?: number;
            user: string;
            /** @visibility secret */
            password?: string;
            /**
             * redis: `true` for TLS with the system's CAs, or node tls options.
             * @visibility secret
             */
            tls?: boolean | { [key: string]: unknown };
          };
      /**
       * redis: how ACL changes are made durable. `auto` (default): ACL SAVE with
       * an aclfile, CONFIG REWRITE with a config file; `acl-save`,
       * `config-rewrite`, or `none` when the service persists ACLs itself.
       */
      persistAcl?: 'auto' | 'acl-save' | 'config-rewrite' | 'none';
      /**
       * redis: whether `rotate` also closes the user's open connections, which
       * logged in with the old password (default true).
       */
      rotateEndsConnections?: boolean;
      /** redis: connect timeout in milliseconds. Default 5000. */
      connectTimeoutMs?: number;
      /** redis: a command is given up after this many milliseconds. Default 10000. */
      commandTimeoutMs?: number;
      /** redis: how long to wait for closed connections to disappear, in milliseconds. Default 5000. */
      killWaitMs?: number;

      /** Calls in flight at once against this provider. Default 4. */
      concurrency?: number;
    }>;
  };
}
