export interface Config {
  nhiOffboarding?: {
    /**
     * Credential systems. This module adds the type `x509`: client
     * certificates of a CA run with `openssl ca` (index.txt), linked by serial
     * with the annotation `nhi-offboarding/<id>: 1000, 1A2F`.
     */
    providers?: Array<{
      /** Unique id: lower-case letters, digits, '.', '_' or '-'. Used in annotations. */
      id: string;
      /** Provider type: `x509` for this module. */
      type: string;

      /** x509: folder of the CA; the other paths default to files in it. */
      caDir?: string;
      /** x509: the `openssl ca` configuration. Default `<caDir>/openssl.cnf`. */
      opensslConfig?: string;
      /** x509: the CA database. Default `<caDir>/index.txt`. */
      database?: string;
      /** x509: issued certificates as `<SERIAL>.pem`. Default `<caDir>/newcerts`. */
      certsDir?: string;
      /** x509: the CA certificate. Default `<caDir>/ca.crt`. */
      caCert?: string;
      /** x509: where the CRL is published. Default `<caDir>/crl.pem`. */
      crlPath?: string;
      /**
       * x509: passphrase of the CA private key (given to openssl through its
       * environment, never on the command line).
       * @visibility secret
       */
      caKeyPassphrase?: string;
      /** x509: validity of each generated CRL in days. Default 30. */
      crlDays?: number;
      /** x509: CRL reason of `revoke`. Default `cessationOfOperation`. */
      revokeReason?: string;
      /** x509: OCSP responder URL; when set, `verify` asks it too. */
      ocspUrl?: string;
      /** x509: discover certificates whose subject or SAN names the entity. Default true. */
      discoverByName?: boolean;
      /** x509: the openssl binary. Default `openssl`. */
      opensslPath?: string;

      /** A command is given up after this many milliseconds. Default 20000. */
      commandTimeoutMs?: number;
      /** Calls in flight at once against this provider. */
      concurrency?: number;
    }>;
  };
}
