/*
 * Configuration of an `oauth` entry of `nhiOffboarding.providers`, as the
 * provider takes it in code. config.d.ts describes the same keys for
 * app-config.
 */

/** How the provider manages one client (RFC 7592). @public */
export interface OauthClientCredentials {
  /** The client's registration access token (RFC 7591 §3.2.1). */
  registrationAccessToken?: string;
  /** Its registration client URI; default `<registration_endpoint>/<client_id>`. */
  registrationClientUri?: string;
}

/**
 * An OAuth 2.0 / OIDC authorization server whose clients are trust anchors
 * (kind `oauth-client`), managed through standard endpoints only.
 * @public
 */
export interface OauthProviderConfig {
  /** Instance id, unique among the providers of the backend. */
  id: string;
  /** Provider type. */
  type: 'oauth';
  /** The issuer URL; endpoints are read from its discovery document. */
  issuer: string;
  /** Endpoint overrides, for servers without a discovery document. */
  endpoints?: {
    registration?: string;
    token?: string;
    revocation?: string;
    introspection?: string;
  };
  /** Per-client registration access tokens, keyed by client_id. */
  clients?: { [clientId: string]: OauthClientCredentials };
  /**
   * A bearer token used on the registration client URI of clients without a
   * token of their own (servers that accept an admin token there).
   */
  adminToken?: string;
  /** Calls in flight at once against this server. Default 4. */
  concurrency?: number;
  /** Give up on a request after this many milliseconds. Default 10000. */
  timeoutMs?: number;
  /**
   * How long tokens issued before a change stay valid (the server's access
   * token lifetime), in seconds; the engine waits this long before verify.
   * Default 0.
   */
  tokenLifetimeSeconds?: number;
}
