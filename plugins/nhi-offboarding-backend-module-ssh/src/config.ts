/*
 * Configuration of an `ssh` entry of `nhiOffboarding.providers`, as the
 * provider takes it in code. config.d.ts describes the same keys for
 * app-config.
 */

/** A host whose accounts' authorized_keys the provider manages. @public */
export interface SshProviderHost {
  /** Host name or IP address. */
  host: string;
  /** SSH port. Default 22. */
  port?: number;
  /**
   * The host key's fingerprint as `ssh-keygen -lf` prints it
   * (`SHA256:...`). Strongly recommended: without it any host key is
   * accepted (and recorded in the evidence).
   */
  hostKeyFingerprint?: string;
  /** The accounts whose authorized_keys are managed. */
  accounts: string[];
}

/**
 * SSH public keys in authorized_keys files of accounts on hosts reached
 * over SSH, as trust anchors (kind `ssh-key`).
 * @public
 */
export interface SshProviderConfig {
  /** Instance id, unique among the providers of the backend. */
  id: string;
  /** Provider type. */
  type: 'ssh';
  hosts: SshProviderHost[];
  /** The account the provider logs in as (it must be able to edit the files: usually root). Default `root`. */
  username?: string;
  /** The admin private key (OpenSSH or PEM text). Secret. */
  privateKey: string;
  /** Passphrase of the admin private key. Secret. */
  passphrase?: string;
  /** Where sshd reads keys: `%u` user, `%h` home, `%%` a percent sign. Default `%h/.ssh/authorized_keys`. */
  authorizedKeysFile?: string;
  /** sshd's log on the hosts (e.g. /var/log/auth.log), read by `terminateSessions`. */
  sshdLogFile?: string;
  /** How much of the end of the log is read, in bytes. Default 8 MiB. */
  sshdLogMaxBytes?: number;
  /** Give up connecting after this many milliseconds. Default 10000. */
  connectTimeoutMs?: number;
  /** Give up on a remote command after this many milliseconds. Default 20000. */
  commandTimeoutMs?: number;
  /** Calls in flight at once. Default 4. */
  concurrency?: number;
}
