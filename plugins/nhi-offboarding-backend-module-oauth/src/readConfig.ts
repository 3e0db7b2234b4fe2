import type { Config } from '@backstage/config';
import type { OauthClientCredentials, OauthProviderConfig } from './config';
import { providerConfigHelpers } from '@nhi-offboarding/plugin-nhi-offboarding-node';

const helpers = providerConfigHelpers('oauth');

/** Defaults of the optional keys of {@link OauthProviderConfig}. @public */
export const OAUTH_PROVIDER_DEFAULTS = {
  concurrency: 4,
  timeoutMs: 10000,
  tokenLifetimeSeconds: 0,
} as const;

/**
 * Reads an `oauth` entry of `nhiOffboarding.providers`. The id given by the
 * caller wins over the entry's own `id` key.
 * @public
 */
export function readOauthProviderConfig(
  config: Config,
  id?: string,
): OauthProviderConfig {
  const entryId = helpers.entryId(config, id);
  const clients: { [clientId: string]: OauthClientCredentials } = {};
  // A list, not a map keyed by client_id: config keys must start with a
  // letter, and generated client ids (UUIDs, random base64url) often do not.
  if (config.has('clients') && !Array.isArray(config.get('clients'))) {
    throw helpers.invalid(
      'clients must be a list of { clientId, registrationAccessToken, registrationClientUri }',
    );
  }
  for (const entry of config.getOptionalConfigArray('clients') ?? []) {
    const clientId = entry.getString('clientId');
    if (clients[clientId]) {
      throw helpers.invalid(`client ${clientId} is listed twice`);
    }
    clients[clientId] = {
      registrationAccessToken: entry.getOptionalString(
        'registrationAccessToken',
      ),
      registrationClientUri: entry.getOptionalString('registrationClientUri'),
    };
  }
  const e = config.getOptionalConfig('endpoints');
  return {
    id: entryId,
    type: 'oauth',
    issuer: config.getString('issuer'),
    endpoints: e
      ? {
          registration: e.getOptionalString('registration'),
          token: e.getOptionalString('token'),
          revocation: e.getOptionalString('revocation'),
          introspection: e.getOptionalString('introspection'),
        }
      : undefined,
    clients,
    adminToken: config.getOptionalString('adminToken'),
    concurrency: config.getOptionalNumber('concurrency'),
    timeoutMs: config.getOptionalNumber('timeoutMs'),
    tokenLifetimeSeconds: config.getOptionalNumber('tokenLifetimeSeconds'),
  };
}

/** Validates and applies defaults. */
export function resolveOauthConfig(config: OauthProviderConfig) {
  if (!config.id) {
    throw new Error('Invalid oauth provider config: id is required');
  }
  let issuer: URL;
  try {
    issuer = new URL(config.issuer);
  } catch {
    throw new Error('Invalid oauth provider config: issuer is not a URL');
  }
  if (issuer.protocol !== 'https:' && issuer.protocol !== 'http:') {
    throw new Error(
      'Invalid oauth provider config: issuer must be an https:// URL',
    );
  }
  const num = (v: number | undefined, key: string, fallback: number) => {
    if (v === undefined) return fallback;
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(
        `Invalid oauth provider config: ${key} must be a non-negative integer`,
      );
    }
    return v;
  };
  const secrets = [
    config.adminToken,
    ...Object.values(config.clients ?? {}).map(c => c.registrationAccessToken),
  ].filter((s): s is string => Boolean(s));
  return {
    id: config.id,
    issuer: config.issuer.replace(/\/$/, ''),
    server: issuer.host,
    endpoints: config.endpoints ?? {},
    clients: config.clients ?? {},
    adminToken: config.adminToken,
    concurrency: Math.max(
      1,
      num(
        config.concurrency,
        'concurrency',
        OAUTH_PROVIDER_DEFAULTS.concurrency,
      ),
    ),
    timeoutMs: Math.max(
      1,
      num(config.timeoutMs, 'timeoutMs', OAUTH_PROVIDER_DEFAULTS.timeoutMs),
    ),
    tokenLifetimeSeconds: num(
      config.tokenLifetimeSeconds,
      'tokenLifetimeSeconds',
      OAUTH_PROVIDER_DEFAULTS.tokenLifetimeSeconds,
    ),
    secrets,
  };
}

/** A validated config. */
export type ResolvedOauthConfig = ReturnType<typeof resolveOauthConfig>;
