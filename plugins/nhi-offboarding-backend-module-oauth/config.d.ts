export interface Config {
  nhiOffboarding?: {
    /**
     * Credential systems. This module adds the type `oauth`: clients of an
     * OAuth 2.0 / OIDC authorization server, managed through RFC 7592,
     * linked with the annotation `nhi-offboarding/<id>: <client_id>, ...`.
     */
    providers?: Array<{
      /** Unique id: lower-case letters, digits, '.', '_' or '-'. Used in annotations. */
      id: string;
      /** Provider type: `oauth` for this module. */
      type: string;
      /** oauth: the issuer URL; endpoints come from its discovery document. */
      issuer?: string;
      /** oauth: endpoint overrides for servers without a discovery document. */
      endpoints?: {
        registration?: string;
        token?: string;
        revocation?: string;
        introspection?: string;
      };
      /**
       * oauth: per-client RFC 7592 credentials. A list rather than a map keyed
       * by client_id, because config keys cannot hold every client id.
       */
      clients?: Array<{
        /** The client's client_id. */
        clientId: string;
        /**
         * The client's registration access token.
         * @visibility secret
         */
        registrationAccessToken?: string;
        /** Its registration client URI; default `<registration_endpoint>/<client_id>`. */
        registrationClientUri?: string;
      }>;
      /**
       * oauth: a bearer token used on registration client URIs of clients
       * without their own token (servers that accept an admin token there).
       * @visibility secret
       */
      adminToken?: string;
      /** oauth: a request is given up after this many milliseconds. Default 10000. */
      timeoutMs?: number;
      /** oauth: the server's access token lifetime in seconds (propagation window). Default 0. */
      tokenLifetimeSeconds?: number;
      /** Calls in flight at once against this provider. Default 4. */
      concurrency?: number;
    }>;
  };
}
