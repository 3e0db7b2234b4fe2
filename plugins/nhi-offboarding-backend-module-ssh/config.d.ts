export interface Config {
  nhiOffboarding?: {
    /**
     * Credential systems. This module adds the type `ssh`: public keys in
     * authorized_keys files on hosts reached over SSH, linked with the
     * annotation `nhi-offboarding/<id>: SHA256:..., ssh-ed25519 AAAA...`.
     */
    providers?: Array<{
      /** Unique id: lower-case letters, digits, '.', '_' or '-'. Used in annotations. */
      id: string;
      /** Provider type: `ssh` for this module. */
      type: string;

      /** ssh: the hosts and the accounts whose authorized_keys are managed. */
      hosts?: Array<{
        host: string;
        /** Default 22. */
        port?: number;
        /** `SHA256:...` as `ssh-keygen -lf` prints it; without it any host key is accepted. */
        hostKeyFingerprint?: string;
        accounts: string[];
      }>;
      /** ssh: the admin login. Default `root`. */
      username?: string;
      /**
       * ssh: the admin private key (OpenSSH or PEM text).
       * @visibility secret
       */
      privateKey?: string;
      /**
       * ssh: passphrase of the admin private key.
       * @visibility secret
       */
      passphrase?: string;
      /** ssh: where sshd reads keys (`%u`, `%h`, `%%`). Default `%h/.ssh/authorized_keys`. */
      authorizedKeysFile?: string;
      /** ssh: sshd's log on the hosts (e.g. /var/log/auth.log), for terminateSessions. */
      sshdLogFile?: string;
      /** ssh: bytes read from the end of the log. Default 8 MiB. */
      sshdLogMaxBytes?: number;
      /** ssh: connect timeout in milliseconds. Default 10000. */
      connectTimeoutMs?: number;

      /** A command is given up after this many milliseconds. Default 20000. */
      commandTimeoutMs?: number;
      /** Calls in flight at once against this provider. */
      concurrency?: number;
    }>;
  };
}
