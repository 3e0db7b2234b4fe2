/*
 * Configuration of an `x509` entry of `nhiOffboarding.providers`, as the
 * provider takes it in code. config.d.ts describes the same keys for
 * app-config.
 */

/**
 * A certificate authority run with `openssl ca` (or easy-rsa, which drives
 * `openssl ca`): its database (index.txt), issued certificates and CRL live
 * in files the backend can read and write.
 * @public
 */
export interface X509ProviderConfig {
  /** Instance id, unique among the providers of the backend. */
  id: string;
  /** Provider type. */
  type: 'x509';
  /** Folder of the CA. The other paths default to files in it. */
  caDir: string;
  /** The `openssl ca` configuration (`-config`). Default `<caDir>/openssl.cnf`. */
  opensslConfig?: string;
  /** The CA database. Default `<caDir>/index.txt`. */
  database?: string;
  /** Where issued certificates are kept as `<SERIAL>.pem`. Default `<caDir>/newcerts` (easy-rsa: `pki/certs_by_serial`). */
  certsDir?: string;
  /** The CA certificate (PEM). Default `<caDir>/ca.crt`. */
  caCert?: string;
  /** Where the CRL is published (PEM), the file relying parties load. Default `<caDir>/crl.pem`. */
  crlPath?: string;
  /** Passphrase of the CA private key, handed to openssl through its environment. Secret. */
  caKeyPassphrase?: string;
  /** Validity of each generated CRL in days (`-crldays`). Default 30. */
  crlDays?: number;
  /** CRL reason of `revoke`. Default `cessationOfOperation`. */
  revokeReason?: string;
  /** OCSP responder of the CA; when set, `verify` asks it too. */
  ocspUrl?: string;
  /** Discover certificates whose subject or subjectAltName names the entity. Default true. */
  discoverByName?: boolean;
  /** The openssl binary. Default `openssl` (from PATH). */
  opensslPath?: string;
  /** An openssl run is cut off after this many milliseconds. Default 20000. */
  commandTimeoutMs?: number;
}
