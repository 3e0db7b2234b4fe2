import type { Config } from '@backstage/config';
import type { Knex } from 'knex';
import type {
  PostgresProviderConfig,
  PostgresProviderConnection,
} from './config';
import { providerConfigHelpers } from '@nhi-offboarding/plugin-nhi-offboarding-node';

const helpers = providerConfigHelpers('postgres');
const { positiveInt } = helpers;

/** Defaults of the optional keys of {@link PostgresProviderConfig}. */
export const POSTGRES_PROVIDER_DEFAULTS = {
  dropRole: false,
  concurrency: 4,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 20000,
  terminateWaitMs: 5000,
} as const;

/**
 * Reads a `postgres` entry of `nhiOffboarding.providers`. The id given by
 * the caller wins over the entry's own `id` key.
 */
export function readPostgresProviderConfig(
  config: Config,
  id?: string,
): PostgresProviderConfig {
  const entryId = helpers.entryId(config, id);
  const connection = helpers.connection(config, {
    tlsKey: 'ssl',
    database: true,
  }) as string | PostgresProviderConnection;
  return {
    id: entryId,
    type: 'postgres',
    connection,
    dropRole: config.getOptionalBoolean('dropRole'),
    reassignTo: config.getOptionalString('reassignTo'),
    concurrency: config.getOptionalNumber('concurrency'),
    maxConnections: config.getOptionalNumber('maxConnections'),
    connectTimeoutMs: config.getOptionalNumber('connectTimeoutMs'),
    statementTimeoutMs: config.getOptionalNumber('statementTimeoutMs'),
    terminateWaitMs: config.getOptionalNumber('terminateWaitMs'),
    serverIdentity: config.getOptionalString('serverIdentity'),
  };
}

/** A validated config with defaults applied and what knex/pg need. */
export interface ResolvedPostgresConfig {
  id: string;
  dropRole: boolean;
  reassignTo?: string;
  concurrency: number;
  maxConnections: number;
  terminateWaitMs: number;
  statementTimeoutMs: number;
  serverIdentity?: string;
  /** host:port, for messages. Never contains credentials. */
  server: string;
  /** Secrets that must never appear in a message or log. */
  secrets: string[];
  /** Connection settings for knex's pg client. */
  knexConnection: Knex.PgConnectionConfig;
  connectTimeoutMs: number;
}

function serverOfConnectionString(value: string): {
  server: string;
  password?: string;
} {
  try {
    const url = new URL(value);
    const hostParam = url.searchParams.get('host');
    const host = url.hostname
      ? decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1')
      : hostParam ?? 'localhost';
    const port = url.port || url.searchParams.get('port') || '5432';
    return {
      server: `${host}:${port}`,
      password: url.password ? decodeURIComponent(url.password) : undefined,
    };
  } catch {
    return { server: 'the configured PostgreSQL server' };
  }
}

/** Applies defaults, validates, and builds the knex connection settings. */
export function resolvePostgresConfig(
  config: PostgresProviderConfig,
): ResolvedPostgresConfig {
  if (!config.id) {
    throw new Error('Invalid postgres provider config: id is required');
  }
  const concurrency = positiveInt(
    config.concurrency,
    'concurrency',
    POSTGRES_PROVIDER_DEFAULTS.concurrency,
  );
  const maxConnections = positiveInt(
    config.maxConnections,
    'maxConnections',
    concurrency,
  );
  const connectTimeoutMs = positiveInt(
    config.connectTimeoutMs,
    'connectTimeoutMs',
    POSTGRES_PROVIDER_DEFAULTS.connectTimeoutMs,
  );
  const statementTimeoutMs = positiveInt(
    config.statementTimeoutMs,
    'statementTimeoutMs',
    POSTGRES_PROVIDER_DEFAULTS.statementTimeoutMs,
  );
  const terminateWaitMs = positiveInt(
    config.terminateWaitMs,
    'terminateWaitMs',
    POSTGRES_PROVIDER_DEFAULTS.terminateWaitMs,
  );

  const common = {
    application_name: 'backstage-nhi-offboarding',
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
  };
  let server: string;
  const secrets: string[] = [];
  let knexConnection: Knex.PgConnectionConfig;
  if (typeof config.connection === 'string') {
    const parsed = serverOfConnectionString(config.connection);
    server = parsed.server;
    secrets.push(config.connection);
    if (parsed.password) secrets.push(parsed.password);
    knexConnection = { ...common, connectionString: config.connection };
  } else if (config.connection && typeof config.connection === 'object') {
    const c = config.connection;
    if (!c.user) {
      throw new Error(
        'Invalid postgres provider config: connection.user is required',
      );
    }
    server = `${c.host ?? 'localhost'}:${c.port ?? 5432}`;
    if (c.password) secrets.push(c.password);
    knexConnection = {
      ...common,
      host: c.host,
      port: c.port,
      user: c.user,
      password: c.password,
      database: c.database,
      ...(c.ssl !== undefined
        ? { ssl: c.ssl as Knex.PgConnectionConfig['ssl'] }
        : {}),
    };
  } else {
    throw new Error(
      'Invalid postgres provider config: connection must be a connection string or an object',
    );
  }

  return {
    id: config.id,
    dropRole: config.dropRole ?? POSTGRES_PROVIDER_DEFAULTS.dropRole,
    reassignTo: config.reassignTo,
    concurrency,
    maxConnections,
    terminateWaitMs,
    statementTimeoutMs,
    serverIdentity: config.serverIdentity,
    server,
    secrets,
    knexConnection,
    connectTimeoutMs,
  };
}
