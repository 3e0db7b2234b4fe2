import type { Config } from '@backstage/config';

/**
 * The object form of a provider's `connection` key: host, port, user,
 * password, an optional database and TLS options under the name the
 * provider's client library uses (`ssl` or `tls`).
 * @public
 */
export interface ProviderConnectionObject {
  host?: string;
  port?: number;
  user: string;
  password?: string;
  database?: string;
  ssl?: unknown;
  tls?: unknown;
}

/**
 * Readers for the keys that every entry of `nhiOffboarding.providers` of one
 * type shares, so each provider module validates them the same way and
 * names itself in every error.
 * @public
 */
export interface ProviderConfigHelpers {
  /** An error whose message names the provider type's config. */
  invalid(message: string): Error;
  /** `fallback` when unset; otherwise the value, which must be a positive integer. */
  positiveInt(value: number | undefined, key: string, fallback: number): number;
  /**
   * Checks the entry's `type` (absent counts as this type) and returns its id;
   * an id given by the caller wins over the entry's own `id` key.
   */
  entryId(config: Config, id?: string): string;
  /** The `connection` key: a URL string, or the object form. */
  connection(
    config: Config,
    options: { tlsKey: 'ssl' | 'tls'; database: boolean },
  ): string | ProviderConnectionObject;
}

/** @public */
export function providerConfigHelpers(
  providerType: string,
): ProviderConfigHelpers {
  const invalid = (message: string) =>
    new Error(`Invalid ${providerType} provider config: ${message}`);
  return {
    invalid,
    positiveInt(value, key, fallback) {
      if (value === undefined) return fallback;
      if (!Number.isInteger(value) || value <= 0) {
        throw invalid(`${key} must be a positive integer`);
      }
      return value;
    },
    entryId(config, id) {
      const type = config.getOptionalString('type') ?? providerType;
      if (type !== providerType) {
        throw invalid(`type must be '${providerType}', got '${type}'`);
      }
      return id ?? config.getString('id');
    },
    connection(config, { tlsKey, database }) {
      const raw = config.get('connection');
      if (typeof raw === 'string') return raw;
      const c = config.getConfig('connection');
      const tls = c.getOptional(tlsKey);
      return {
        host: c.getOptionalString('host'),
        port: c.getOptionalNumber('port'),
        user: c.getString('user'),
        password: c.getOptionalString('password'),
        ...(database ? { database: c.getOptionalString('database') } : {}),
        ...(tls !== undefined ? { [tlsKey]: tls } : {}),
      };
    },
  };
}
