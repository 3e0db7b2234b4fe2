import { join } from 'node:path';
import type { Config } from '@backstage/config';
import type { X509ProviderConfig } from './config';
import { providerConfigHelpers } from '@nhi-offboarding/plugin-nhi-offboarding-node';

const helpers = providerConfigHelpers('x509');
const { positiveInt } = helpers;

/** Defaults of the optional keys of {@link X509ProviderConfig}. @public */
export const X509_PROVIDER_DEFAULTS = {
  crlDays: 30,
  revokeReason: 'cessationOfOperation',
  discoverByName: true,
  opensslPath: 'openssl',
  commandTimeoutMs: 20000,
} as const;

/** CRL reasons `openssl ca -crl_reason` accepts for a final revocation. */
export const FINAL_REASONS = [
  'unspecified',
  'keyCompromise',
  'CACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
];

/**
 * Reads an `x509` entry of `nhiOffboarding.providers`. The id given by the
 * caller wins over the entry's own `id` key.
 * @public
 */
export function readX509ProviderConfig(
  config: Config,
  id?: string,
): X509ProviderConfig {
  const entryId = helpers.entryId(config, id);
  return {
    id: entryId,
    type: 'x509',
    caDir: config.getString('caDir'),
    opensslConfig: config.getOptionalString('opensslConfig'),
    database: config.getOptionalString('database'),
    certsDir: config.getOptionalString('certsDir'),
    caCert: config.getOptionalString('caCert'),
    crlPath: config.getOptionalString('crlPath'),
    caKeyPassphrase: config.getOptionalString('caKeyPassphrase'),
    crlDays: config.getOptionalNumber('crlDays'),
    revokeReason: config.getOptionalString('revokeReason'),
    ocspUrl: config.getOptionalString('ocspUrl'),
    discoverByName: config.getOptionalBoolean('discoverByName'),
    opensslPath: config.getOptionalString('opensslPath'),
    commandTimeoutMs: config.getOptionalNumber('commandTimeoutMs'),
  };
}

/** A validated config with defaults applied and every path resolved. */
export interface ResolvedX509Config {
  id: string;
  caDir: string;
  opensslConfig: string;
  database: string;
  certsDir: string;
  caCert: string;
  crlPath: string;
  caKeyPassphrase?: string;
  crlDays: number;
  revokeReason: string;
  ocspUrl?: string;
  discoverByName: boolean;
  opensslPath: string;
  commandTimeoutMs: number;
  /** Secrets that must never appear in a message or log. */
  secrets: string[];
}

/** Applies defaults and validates. */
export function resolveX509Config(
  config: X509ProviderConfig,
): ResolvedX509Config {
  if (!config.id)
    throw new Error('Invalid x509 provider config: id is required');
  if (!config.caDir) {
    throw new Error('Invalid x509 provider config: caDir is required');
  }
  const revokeReason =
    config.revokeReason ?? X509_PROVIDER_DEFAULTS.revokeReason;
  if (!FINAL_REASONS.includes(revokeReason)) {
    throw new Error(
      `Invalid x509 provider config: revokeReason must be one of ${FINAL_REASONS.join(
        ', ',
      )} (certificateHold is what disable uses)`,
    );
  }
  if (config.ocspUrl && !/^https?:\/\//.test(config.ocspUrl)) {
    throw new Error(
      'Invalid x509 provider config: ocspUrl must be an http:// or https:// URL',
    );
  }
  const dir = config.caDir;
  return {
    id: config.id,
    caDir: dir,
    opensslConfig: config.opensslConfig ?? join(dir, 'openssl.cnf'),
    database: config.database ?? join(dir, 'index.txt'),
    certsDir: config.certsDir ?? join(dir, 'newcerts'),
    caCert: config.caCert ?? join(dir, 'ca.crt'),
    crlPath: config.crlPath ?? join(dir, 'crl.pem'),
    caKeyPassphrase: config.caKeyPassphrase,
    crlDays: positiveInt(
      config.crlDays,
      'crlDays',
      X509_PROVIDER_DEFAULTS.crlDays,
    ),
    revokeReason,
    ocspUrl: config.ocspUrl,
    discoverByName:
      config.discoverByName ?? X509_PROVIDER_DEFAULTS.discoverByName,
    opensslPath: config.opensslPath ?? X509_PROVIDER_DEFAULTS.opensslPath,
    commandTimeoutMs: positiveInt(
      config.commandTimeoutMs,
      'commandTimeoutMs',
      X509_PROVIDER_DEFAULTS.commandTimeoutMs,
    ),
    secrets: config.caKeyPassphrase ? [config.caKeyPassphrase] : [],
  };
}
