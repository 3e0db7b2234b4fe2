import type { Config } from '@backstage/config';
import type { LdapProviderConfig } from './config';
import { providerConfigHelpers } from '@nhi-offboarding/plugin-nhi-offboarding-node';

const helpers = providerConfigHelpers('ldap');
const { positiveInt } = helpers;

/** Defaults of the optional keys of {@link LdapProviderConfig}. @public */
export const LDAP_PROVIDER_DEFAULTS = {
  accountAttribute: 'uid',
  accountFilter: '(objectClass=*)',
  deleteEntry: true,
  discoverByDescription: true,
  lockAclInstalled: false,
  concurrency: 4,
  connectTimeoutMs: 5000,
  timeoutMs: 10000,
} as const;

/**
 * Reads an `ldap` entry of `nhiOffboarding.providers`. The id given by the
 * caller wins over the entry's own `id` key.
 * @public
 */
export function readLdapProviderConfig(
  config: Config,
  id?: string,
): LdapProviderConfig {
  const entryId = helpers.entryId(config, id);
  const tls = config.getOptional('tlsOptions');
  return {
    id: entryId,
    type: 'ldap',
    url: config.getString('url'),
    bindDN: config.getString('bindDN'),
    bindPassword: config.getString('bindPassword'),
    baseDN: config.getString('baseDN'),
    accountAttribute: config.getOptionalString('accountAttribute'),
    accountFilter: config.getOptionalString('accountFilter'),
    groupBaseDN: config.getOptionalString('groupBaseDN'),
    deleteEntry: config.getOptionalBoolean('deleteEntry'),
    discoverByDescription: config.getOptionalBoolean('discoverByDescription'),
    seeAlsoTemplate: config.getOptionalString('seeAlsoTemplate'),
    lockAclInstalled: config.getOptionalBoolean('lockAclInstalled'),
    ...(tls !== undefined
      ? { tlsOptions: tls as LdapProviderConfig['tlsOptions'] }
      : {}),
    concurrency: config.getOptionalNumber('concurrency'),
    connectTimeoutMs: config.getOptionalNumber('connectTimeoutMs'),
    timeoutMs: config.getOptionalNumber('timeoutMs'),
  };
}

/** A validated config with defaults applied. */
export interface ResolvedLdapConfig {
  id: string;
  url: string;
  /** host:port, for messages. */
  server: string;
  bindDN: string;
  bindPassword: string;
  baseDN: string;
  accountAttribute: string;
  accountFilter: string;
  groupBaseDN: string;
  deleteEntry: boolean;
  discoverByDescription: boolean;
  seeAlsoTemplate?: string;
  lockAclInstalled: boolean;
  tlsOptions?: { [key: string]: unknown };
  concurrency: number;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** Applies defaults and validates. */
export function resolveLdapConfig(
  config: LdapProviderConfig,
): ResolvedLdapConfig {
  if (!config.id)
    throw new Error('Invalid ldap provider config: id is required');
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new Error(
      'Invalid ldap provider config: url is not a valid ldap:// or ldaps:// URL',
    );
  }
  if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') {
    throw new Error(
      'Invalid ldap provider config: url must start with ldap:// or ldaps://',
    );
  }
  if (url.username || url.password) {
    throw new Error(
      'Invalid ldap provider config: put the credentials in bindDN / bindPassword, not in the url',
    );
  }
  for (const key of ['bindDN', 'bindPassword', 'baseDN'] as const) {
    if (!config[key]) {
      throw new Error(`Invalid ldap provider config: ${key} is required`);
    }
  }
  const accountAttribute =
    config.accountAttribute ?? LDAP_PROVIDER_DEFAULTS.accountAttribute;
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(accountAttribute)) {
    throw new Error(
      'Invalid ldap provider config: accountAttribute must be an attribute name',
    );
  }
  const accountFilter =
    config.accountFilter ?? LDAP_PROVIDER_DEFAULTS.accountFilter;
  if (!/^\(.*\)$/.test(accountFilter.trim())) {
    throw new Error(
      'Invalid ldap provider config: accountFilter must be a parenthesised LDAP filter',
    );
  }
  if (
    config.seeAlsoTemplate &&
    !config.seeAlsoTemplate.includes('{entityRef}')
  ) {
    throw new Error(
      'Invalid ldap provider config: seeAlsoTemplate must contain {entityRef}',
    );
  }
  const port = url.port || (url.protocol === 'ldaps:' ? '636' : '389');
  return {
    id: config.id,
    url: `${url.protocol}//${url.host}`,
    server: `${url.hostname}:${port}`,
    bindDN: config.bindDN,
    bindPassword: config.bindPassword,
    baseDN: config.baseDN,
    accountAttribute,
    accountFilter: accountFilter.trim(),
    groupBaseDN: config.groupBaseDN ?? config.baseDN,
    deleteEntry: config.deleteEntry ?? LDAP_PROVIDER_DEFAULTS.deleteEntry,
    discoverByDescription:
      config.discoverByDescription ??
      LDAP_PROVIDER_DEFAULTS.discoverByDescription,
    seeAlsoTemplate: config.seeAlsoTemplate,
    lockAclInstalled:
      config.lockAclInstalled ?? LDAP_PROVIDER_DEFAULTS.lockAclInstalled,
    tlsOptions: config.tlsOptions,
    concurrency: positiveInt(
      config.concurrency,
      'concurrency',
      LDAP_PROVIDER_DEFAULTS.concurrency,
    ),
    connectTimeoutMs: positiveInt(
      config.connectTimeoutMs,
      'connectTimeoutMs',
      LDAP_PROVIDER_DEFAULTS.connectTimeoutMs,
    ),
    timeoutMs: positiveInt(
      config.timeoutMs,
      'timeoutMs',
      LDAP_PROVIDER_DEFAULTS.timeoutMs,
    ),
  };
}
