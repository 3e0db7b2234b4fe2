import type { Config } from '@backstage/config';
import type { PoolOptions } from 'mysql2/promise';
import type { MysqlProviderConfig, MysqlProviderConnection } from './config';
import { providerConfigHelpers } from '@nhi-offboarding/plugin-nhi-offboarding-node';

const helpers = providerConfigHelpers('mysql');
const { positiveInt } = helpers;

/** Defaults of the optional keys of {@link MysqlProviderConfig}. @public */
export const MYSQL_PROVIDER_DEFAULTS = {
  dropUser: true,
  concurrency: 4,
  connectTimeoutMs: 5000,
  queryTimeoutMs: 20000,
  killWaitMs: 5000,
} as const;

/**
 * Reads a `mysql` entry of `nhiOffboarding.providers`. The id given by the
 * caller wins over the entry's own `id` key.
 * @public
 */
export function readMysqlProviderConfig(
  config: Config,
  id?: string,
): MysqlProviderConfig {
  const entryId = helpers.entryId(config, id);
  const connection = helpers.connection(config, {
    tlsKey: 'ssl',
    database: true,
  }) as string | MysqlProviderConnection;
  return {
    id: entryId,
    type: 'mysql',
    connection,
    dropUser: config.getOptionalBoolean('dropUser'),
    concurrency: config.getOptionalNumber('concurrency'),
    maxConnections: config.getOptionalNumber('maxConnections'),
    connectTimeoutMs: config.getOptionalNumber('connectTimeoutMs'),
    queryTimeoutMs: config.getOptionalNumber('queryTimeoutMs'),
    killWaitMs: config.getOptionalNumber('killWaitMs'),
    serverIdentity: config.getOptionalString('serverIdentity'),
  };
}

/** A validated config with defaults applied and the mysql2 pool options. */
export interface ResolvedMysqlConfig {
  id: string;
  dropUser: boolean;
  concurrency: number;
  maxConnections: number;
  queryTimeoutMs: number;
  killWaitMs: number;
  serverIdentity?: string;
  /** host:port, for messages. Never contains credentials. */
  server: string;
  /** Secrets that must never appear in a message or log. */
  secrets: string[];
  pool: PoolOptions;
}

/** `ssl: true` means TLS with the system's CAs; an object goes to mysql2 as it is. */
function sslOptions(ssl: MysqlProviderConnection['ssl']): Partial<PoolOptions> {
  if (ssl === true) return { ssl: {} };
  if (ssl && typeof ssl === 'object') return { ssl: ssl as PoolOptions['ssl'] };
  return {};
}

function parseUrl(value: string): {
  server: string;
  password?: string;
  options: PoolOptions;
} {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(
      'Invalid mysql provider config: connection is not a valid mysql:// URL',
    );
  }
  if (!/^(mysql|mariadb):$/.test(url.protocol)) {
    throw new Error(
      'Invalid mysql provider config: a connection URL must start with mysql:// or mariadb://',
    );
  }
  const host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || 3306);
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const user = decodeURIComponent(url.username);
  if (!user) {
    throw new Error(
      'Invalid mysql provider config: the connection URL names no user',
    );
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return {
    server: `${host || 'localhost'}:${port}`,
    password,
    options: {
      host: host || 'localhost',
      port,
      user,
      password,
      ...(database ? { database } : {}),
    },
  };
}

/** Applies defaults, validates, and builds the mysql2 pool options. */
export function resolveMysqlConfig(
  config: MysqlProviderConfig,
): ResolvedMysqlConfig {
  if (!config.id) {
    throw new Error('Invalid mysql provider config: id is required');
  }
  const concurrency = positiveInt(
    config.concurrency,
    'concurrency',
    MYSQL_PROVIDER_DEFAULTS.concurrency,
  );
  const maxConnections = positiveInt(
    config.maxConnections,
    'maxConnections',
    concurrency,
  );
  const connectTimeoutMs = positiveInt(
    config.connectTimeoutMs,
    'connectTimeoutMs',
    MYSQL_PROVIDER_DEFAULTS.connectTimeoutMs,
  );
  const queryTimeoutMs = positiveInt(
    config.queryTimeoutMs,
    'queryTimeoutMs',
    MYSQL_PROVIDER_DEFAULTS.queryTimeoutMs,
  );
  const killWaitMs = positiveInt(
    config.killWaitMs,
    'killWaitMs',
    MYSQL_PROVIDER_DEFAULTS.killWaitMs,
  );

  let server: string;
  const secrets: string[] = [];
  let base: PoolOptions;
  if (typeof config.connection === 'string') {
    const parsed = parseUrl(config.connection);
    server = parsed.server;
    secrets.push(config.connection);
    if (parsed.password) secrets.push(parsed.password);
    base = parsed.options;
  } else if (config.connection && typeof config.connection === 'object') {
    const c = config.connection;
    if (!c.user) {
      throw new Error(
        'Invalid mysql provider config: connection.user is required',
      );
    }
    server = `${c.host ?? 'localhost'}:${c.port ?? 3306}`;
    if (c.password) secrets.push(c.password);
    base = {
      host: c.host ?? 'localhost',
      port: c.port ?? 3306,
      user: c.user,
      password: c.password,
      ...(c.database ? { database: c.database } : {}),
      ...sslOptions(c.ssl),
    };
  } else {
    throw new Error(
      'Invalid mysql provider config: connection must be a mysql:// URL or an object',
    );
  }

  return {
    id: config.id,
    dropUser: config.dropUser ?? MYSQL_PROVIDER_DEFAULTS.dropUser,
    concurrency,
    maxConnections,
    queryTimeoutMs,
    killWaitMs,
    serverIdentity: config.serverIdentity,
    server,
    secrets,
    pool: {
      ...base,
      connectTimeout: connectTimeoutMs,
      // A small pool; nothing is opened before the first call.
      connectionLimit: maxConnections,
      maxIdle: maxConnections,
      idleTimeout: 30_000,
      waitForConnections: true,
      queueLimit: 0,
      enableKeepAlive: true,
      multipleStatements: false,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    },
  };
}
