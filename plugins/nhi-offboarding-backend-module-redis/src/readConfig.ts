import type { Config } from '@backstage/config';
import type { RedisOptions } from 'ioredis';
import type {
  RedisAclPersistence,
  RedisProviderConfig,
  RedisProviderConnection,
} from './config';
import { providerConfigHelpers } from '@nhi-offboarding/plugin-nhi-offboarding-node';

const helpers = providerConfigHelpers('redis');
const { positiveInt } = helpers;

/** Defaults of the optional keys of {@link RedisProviderConfig}. @public */
export const REDIS_PROVIDER_DEFAULTS = {
  persistAcl: 'auto' as RedisAclPersistence,
  rotateEndsConnections: true,
  concurrency: 4,
  connectTimeoutMs: 5000,
  commandTimeoutMs: 10000,
  killWaitMs: 5000,
} as const;

const PERSISTENCE: RedisAclPersistence[] = [
  'auto',
  'acl-save',
  'config-rewrite',
  'none',
];

/**
 * Reads a `redis` entry of `nhiOffboarding.providers`. The id given by the
 * caller wins over the entry's own `id` key.
 * @public
 */
export function readRedisProviderConfig(
  config: Config,
  id?: string,
): RedisProviderConfig {
  const entryId = helpers.entryId(config, id);
  const connection = helpers.connection(config, {
    tlsKey: 'tls',
    database: false,
  }) as string | RedisProviderConnection;
  return {
    id: entryId,
    type: 'redis',
    connection,
    persistAcl: config.getOptionalString('persistAcl') as
      | RedisAclPersistence
      | undefined,
    rotateEndsConnections: config.getOptionalBoolean('rotateEndsConnections'),
    concurrency: config.getOptionalNumber('concurrency'),
    connectTimeoutMs: config.getOptionalNumber('connectTimeoutMs'),
    commandTimeoutMs: config.getOptionalNumber('commandTimeoutMs'),
    killWaitMs: config.getOptionalNumber('killWaitMs'),
  };
}

/** A validated config with defaults applied and the ioredis options. */
export interface ResolvedRedisConfig {
  id: string;
  persistAcl: RedisAclPersistence;
  rotateEndsConnections: boolean;
  concurrency: number;
  killWaitMs: number;
  /** host:port, for messages. Never contains credentials. */
  server: string;
  /** Secrets that must never appear in a message or log. */
  secrets: string[];
  client: RedisOptions;
}

function parseUrl(value: string): {
  server: string;
  password?: string;
  options: RedisOptions;
} {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(
      'Invalid redis provider config: connection is not a valid redis:// URL',
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(
      'Invalid redis provider config: a connection URL must start with redis:// or rediss://',
    );
  }
  const host =
    decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = Number(url.port || 6379);
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const username = decodeURIComponent(url.username) || 'default';
  return {
    server: `${host}:${port}`,
    password,
    options: {
      host,
      port,
      username,
      password,
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  };
}

/** Applies defaults, validates, and builds the ioredis options. */
export function resolveRedisConfig(
  config: RedisProviderConfig,
): ResolvedRedisConfig {
  if (!config.id) {
    throw new Error('Invalid redis provider config: id is required');
  }
  const persistAcl = config.persistAcl ?? REDIS_PROVIDER_DEFAULTS.persistAcl;
  if (!PERSISTENCE.includes(persistAcl)) {
    throw new Error(
      `Invalid redis provider config: persistAcl must be one of ${PERSISTENCE.join(
        ', ',
      )}`,
    );
  }
  const concurrency = positiveInt(
    config.concurrency,
    'concurrency',
    REDIS_PROVIDER_DEFAULTS.concurrency,
  );
  const connectTimeoutMs = positiveInt(
    config.connectTimeoutMs,
    'connectTimeoutMs',
    REDIS_PROVIDER_DEFAULTS.connectTimeoutMs,
  );
  const commandTimeoutMs = positiveInt(
    config.commandTimeoutMs,
    'commandTimeoutMs',
    REDIS_PROVIDER_DEFAULTS.commandTimeoutMs,
  );
  const killWaitMs = positiveInt(
    config.killWaitMs,
    'killWaitMs',
    REDIS_PROVIDER_DEFAULTS.killWaitMs,
  );

  let server: string;
  const secrets: string[] = [];
  let base: RedisOptions;
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
        "Invalid redis provider config: connection.user is required ('default' for a requirepass-only server)",
      );
    }
    server = `${c.host ?? 'localhost'}:${c.port ?? 6379}`;
    if (c.password) secrets.push(c.password);
    base = {
      host: c.host ?? 'localhost',
      port: c.port ?? 6379,
      username: c.user,
      password: c.password,
      ...tlsOptions(c.tls),
    };
  } else {
    throw new Error(
      'Invalid redis provider config: connection must be a redis:// URL or an object',
    );
  }
  return {
    id: config.id,
    persistAcl,
    rotateEndsConnections:
      config.rotateEndsConnections ??
      REDIS_PROVIDER_DEFAULTS.rotateEndsConnections,
    concurrency,
    killWaitMs,
    server,
    secrets,
    client: {
      ...base,
      // One multiplexed connection, opened on first use. It does not
      // reconnect by itself: the next call opens a new one, so a server that
      // was down is found again and a failure surfaces as an error at once.
      lazyConnect: true,
      connectTimeout: connectTimeoutMs,
      commandTimeout: commandTimeoutMs,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      enableReadyCheck: true,
      autoResubscribe: false,
      connectionName: 'backstage-nhi-offboarding',
    },
  };
}

function tlsOptions(
  tls: RedisProviderConnection['tls'],
): Partial<RedisOptions> {
  if (tls === true) return { tls: {} };
  if (tls && typeof tls === 'object') {
    return { tls: tls as RedisOptions['tls'] };
  }
  return {};
}
