import type { Config } from '@backstage/config';
import type { SshProviderConfig, SshProviderHost } from './config';
import { normalizeFingerprint } from './authorizedKeys';
import { providerConfigHelpers } from '@nhi-offboarding/plugin-nhi-offboarding-node';

const helpers = providerConfigHelpers('ssh');
const { positiveInt } = helpers;

/** Defaults of the optional keys of {@link SshProviderConfig}. @public */
export const SSH_PROVIDER_DEFAULTS = {
  username: 'root',
  authorizedKeysFile: '%h/.ssh/authorized_keys',
  sshdLogMaxBytes: 8 * 1024 * 1024,
  connectTimeoutMs: 10000,
  commandTimeoutMs: 20000,
  concurrency: 4,
} as const;

/**
 * Reads an `ssh` entry of `nhiOffboarding.providers`. The id given by the
 * caller wins over the entry's own `id` key.
 * @public
 */
export function readSshProviderConfig(
  config: Config,
  id?: string,
): SshProviderConfig {
  const entryId = helpers.entryId(config, id);
  return {
    id: entryId,
    type: 'ssh',
    hosts: config.getConfigArray('hosts').map(h => ({
      host: h.getString('host'),
      port: h.getOptionalNumber('port'),
      hostKeyFingerprint: h.getOptionalString('hostKeyFingerprint'),
      accounts: h.getStringArray('accounts'),
    })),
    username: config.getOptionalString('username'),
    privateKey: config.getString('privateKey'),
    passphrase: config.getOptionalString('passphrase'),
    authorizedKeysFile: config.getOptionalString('authorizedKeysFile'),
    sshdLogFile: config.getOptionalString('sshdLogFile'),
    sshdLogMaxBytes: config.getOptionalNumber('sshdLogMaxBytes'),
    connectTimeoutMs: config.getOptionalNumber('connectTimeoutMs'),
    commandTimeoutMs: config.getOptionalNumber('commandTimeoutMs'),
    concurrency: config.getOptionalNumber('concurrency'),
  };
}

/** A validated config with defaults applied. */
export interface ResolvedSshConfig {
  id: string;
  hosts: Array<
    Required<Omit<SshProviderHost, 'hostKeyFingerprint'>> & {
      hostKeyFingerprint?: string;
    }
  >;
  username: string;
  privateKey: string;
  passphrase?: string;
  authorizedKeysFile: string;
  sshdLogFile?: string;
  sshdLogMaxBytes: number;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  concurrency: number;
  secrets: string[];
}

const ACCOUNT = /^[a-z_][a-z0-9_.-]*\$?$/i;

export function resolveSshConfig(config: SshProviderConfig): ResolvedSshConfig {
  if (!config.id)
    throw new Error('Invalid ssh provider config: id is required');
  if (!config.privateKey) {
    throw new Error('Invalid ssh provider config: privateKey is required');
  }
  if (!Array.isArray(config.hosts) || config.hosts.length === 0) {
    throw new Error(
      'Invalid ssh provider config: hosts must name at least one host',
    );
  }
  const hosts = config.hosts.map(h => {
    if (!h.host)
      throw new Error('Invalid ssh provider config: hosts[].host is required');
    for (const a of h.accounts ?? []) {
      if (!ACCOUNT.test(a)) {
        throw new Error(
          `Invalid ssh provider config: "${a}" is not an account name`,
        );
      }
    }
    if (!h.accounts?.length) {
      throw new Error(
        `Invalid ssh provider config: host ${h.host} names no accounts`,
      );
    }
    const fp = h.hostKeyFingerprint
      ? normalizeFingerprint(h.hostKeyFingerprint)
      : undefined;
    if (h.hostKeyFingerprint && !fp) {
      throw new Error(
        `Invalid ssh provider config: hostKeyFingerprint of ${h.host} must be SHA256:<base64> as ssh-keygen prints it`,
      );
    }
    return {
      host: h.host,
      port: positiveInt(h.port, 'port', 22),
      hostKeyFingerprint: fp,
      accounts: h.accounts,
    };
  });
  return {
    id: config.id,
    hosts,
    username: config.username ?? SSH_PROVIDER_DEFAULTS.username,
    privateKey: config.privateKey,
    passphrase: config.passphrase,
    authorizedKeysFile:
      config.authorizedKeysFile ?? SSH_PROVIDER_DEFAULTS.authorizedKeysFile,
    sshdLogFile: config.sshdLogFile,
    sshdLogMaxBytes: positiveInt(
      config.sshdLogMaxBytes,
      'sshdLogMaxBytes',
      SSH_PROVIDER_DEFAULTS.sshdLogMaxBytes,
    ),
    connectTimeoutMs: positiveInt(
      config.connectTimeoutMs,
      'connectTimeoutMs',
      SSH_PROVIDER_DEFAULTS.connectTimeoutMs,
    ),
    commandTimeoutMs: positiveInt(
      config.commandTimeoutMs,
      'commandTimeoutMs',
      SSH_PROVIDER_DEFAULTS.commandTimeoutMs,
    ),
    concurrency: positiveInt(
      config.concurrency,
      'concurrency',
      SSH_PROVIDER_DEFAULTS.concurrency,
    ),
    secrets: [config.privateKey, config.passphrase].filter((s): s is string =>
      Boolean(s),
    ),
  };
}
