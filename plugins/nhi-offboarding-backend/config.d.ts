export interface Config {
  /** Configuration of the NHI Offboarding backend plugin. */
  nhiOffboarding?: {
    /** The retirement engine that runs steps in the background. */
    engine?: {
      /** Set to false to run no steps in this backend instance (API only). Default true. */
      enabled?: boolean;
      /** How often an idle worker looks for due steps, in milliseconds. Default 1000. */
      pollIntervalMs?: number;
      /**
       * How long a claimed step stays with its worker without a heartbeat, in
       * milliseconds. After that another worker takes it over (crash recovery). Default 30000.
       */
      leaseMs?: number;
      /** Steps this backend instance runs at once, across all providers. Default 32. */
      workerConcurrency?: number;
      /** Attempts of a step before it fails and the retirement needs attention. Default 5. */
      maxAttempts?: number;
      /** First retry delay in milliseconds (doubles each attempt, with jitter). Default 1000. */
      retryBaseDelayMs?: number;
      /** Longest retry delay in milliseconds. Default 60000. */
      retryMaxDelayMs?: number;
      /** A provider call that has not answered after this many milliseconds is cut off. Default 30000. */
      callTimeoutMs?: number;
    };

    /** Discovery of trust anchors across the catalog. */
    discovery?: {
      /**
       * When to re-discover every entity linked to a credential (annotated
       * for a system provider, or depending on a credential Resource), so
       * residual access and orphans cover the whole catalog. Default: every
       * 10 minutes, first 30 seconds after start.
       */
      schedule?: {
        frequency:
          | { cron: string }
          | string
          | { minutes?: number; hours?: number; days?: number };
        timeout: string | { minutes?: number; hours?: number };
        initialDelay?: string | { seconds?: number; minutes?: number };
        scope?: 'global' | 'local';
      };
    };

    /**
     * Drift detection: the anchors of completed and quarantined retirements
     * are re-verified against their systems; one a system trusts again is
     * drift (evidence record, retirement needs attention).
     */
    reverification?: {
      /** Set to false to schedule no re-verification in this backend. Default true. */
      enabled?: boolean;
      /**
       * When to re-verify (runs on one backend instance at a time). Default:
       * every hour, first one minute after start.
       */
      schedule?: {
        frequency:
          | { cron: string }
          | string
          | {
              seconds?: number;
              minutes?: number;
              hours?: number;
              days?: number;
            };
        timeout:
          | string
          | { seconds?: number; minutes?: number; hours?: number };
        initialDelay?: string | { seconds?: number; minutes?: number };
      };
      /** Retirements re-verified at once (provider limits still apply). Default 50. */
      batchSize?: number;
      /**
       * A clean re-verification is written to the evidence chain at most once
       * in this many hours (the retirement's last-verified time moves every
       * run). Default 24.
       */
      recordEveryHours?: number;
      /** A verify call that has not answered after this many milliseconds counts as unknown. Default 30000. */
      callTimeoutMs?: number;
    };

    /**
     * Time-to-revoke objective: retirements that take longer to remove
     * access are breaches (platform page, evidence export). An ISO 8601
     * duration such as PT4H or an object such as { hours: 4 }. Default 4 hours
     * (FedRAMP's PS-4 setting).
     */
    timeToRevoke?: string | { hours?: number; minutes?: number };

    /**
     * Anchors the system reports unused for more than this many days are
     * stale (CIS Controls 5.3). Default 45.
     */
    staleAfterDays?: number;

    /**
     * Values of `spec.lifecycle` that mean an entity is retired; its live
     * anchors are residual access. Default ['retired', 'decommissioned'].
     * (`deprecated` entities are always reported as well.)
     */
    retiredLifecycles?: string[];

    /**
     * How long a computed page of residual access is given to other readers
     * of the same page, in seconds; 0 computes it on every request. A page
     * is built from catalog answers up to 30 s old in any case. Default 5.
     */
    residualAccessCacheSeconds?: number;

    /**
     * How long a computed page of the retirement list (the platform page's,
     * not one entity's) is given to other readers of the same page, in
     * seconds; 0 reads it on every request. One retirement and an entity's
     * list of retirements are always read as they are now. Default 2.
     */
    retirementListCacheSeconds?: number;

    /**
     * PostgreSQL: send the Retire tab's reads as named prepared statements,
     * planned once per connection (default true). Set false behind a
     * connection pooler in transaction mode that cannot keep them (PgBouncer
     * before 1.21, or later without max_prepared_statements). False also
     * sends those reads through knex's query runner on SQLite (slower, the
     * same answers).
     */
    preparedStatements?: boolean;

    /**
     * Automatic retirement triggers. Each is off unless enabled; `action`
     * `propose` (default) leaves a proposal the owner confirms or dismisses,
     * `retire` starts the retirement. A trigger seen twice starts one.
     */
    triggers?: {
      /** How often the catalog watch compares the catalog with what it saw last, in seconds. Default 60. */
      watchFrequencySeconds?: number;
      /** Fires when an entity's spec.lifecycle changes to one of `lifecycles`. */
      lifecycle?: {
        enabled?: boolean;
        action?: 'retire' | 'propose';
        mode?: 'revoke' | 'quarantine';
        quarantineDays?: number;
        /** Default ['deprecated', 'retired', 'decommissioned']. */
        lifecycles?: string[];
      };
      /** Fires when an entity leaves the catalog while its trust anchors are still live. */
      missing?: {
        enabled?: boolean;
        action?: 'retire' | 'propose';
        mode?: 'revoke' | 'quarantine';
        quarantineDays?: number;
      };
      /** Fires on events of a Backstage events topic (payload: README, "Event trigger"). */
      events?: {
        enabled?: boolean;
        action?: 'retire' | 'propose';
        mode?: 'revoke' | 'quarantine';
        quarantineDays?: number;
        /** Default `nhi-offboarding.retire`. */
        topic?: string;
      };
    };

    /** Notifications through Backstage's notifications service. */
    notifications?: {
      /** Set to false to send none. Default true. */
      enabled?: boolean;
      /** Entity refs (groups or users) told when an exception waits for approval. Default none. */
      approvers?: string[];
    };

    /**
     * Credential systems. Each entry is built by the provider type's module;
     * an entity links to an entry's credentials with the annotation
     * `nhi-offboarding/<id>: id1, id2`. The provider `catalog` (credentials
     * declared as catalog Resources) is always present.
     */
    providers?: Array<{
      /** Unique id: lower-case letters, digits, '.', '_' or '-'. Used in annotations. */
      id: string;
      /** Provider type, e.g. `postgres`, or a type a module adds (`demo` in the example app). */
      type: string;

      /**
       * postgres: a connection string (`postgresql://user:password@host:5432/db`)
       * or an object with host, port, user, password, database and ssl, as knex
       * and pg take it. The admin account needs CREATEROLE (SUPERUSER for
       * superuser roles) and pg_signal_backend membership to end sessions.
       * @visibility secret
       */
      connection?:
        | string
        | {
            host?: string;
            port?: number;
            user: string;
            /** @visibility secret */
            password?: string;
            database?: string;
            /** @visibility secret */
            ssl?: boolean | { [key: string]: unknown };
          };
      /** postgres: revoke ends with REASSIGN OWNED, DROP OWNED and DROP ROLE (default false: keep the disabled role). */
      dropRole?: boolean;
      /** postgres: role that receives a dropped role's objects. Default: the admin account. */
      reassignTo?: string;
      /** postgres: size of the connection pool. Default: concurrency. */
      maxConnections?: number;
      /** postgres: connect timeout in milliseconds. Default 5000. */
      connectTimeoutMs?: number;
      /** postgres: statement_timeout of the provider's sessions in milliseconds. Default 20000. */
      statementTimeoutMs?: number;
      /** postgres: how long to wait for a terminated session to exit, in milliseconds. Default 5000. */
      terminateWaitMs?: number;
      /** postgres: stable server name used in fingerprints. Default: the cluster's system_identifier. */
      serverIdentity?: string;

      /** Calls in flight at once against this provider. Default 4. */
      concurrency?: number;
    }>;
  };
}
