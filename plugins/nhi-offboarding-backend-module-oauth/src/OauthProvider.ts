import { createHash } from 'node:crypto';
import type { Config } from '@backstage/config';
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  PermanentProviderError,
  TransientProviderError,
  type ActionContext,
  type ActionResult,
  type DiscoverRequest,
  type DiscoveredAnchor,
  type ProviderLimits,
  type TrustAnchorProvider,
  type TrustAnchorProviderFactory,
  type VerifyResult,
  logActionResult,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import type { OauthProviderConfig } from './config';
import { httpError, makeRedactor, networkError } from './errors';
import {
  readOauthProviderConfig,
  resolveOauthConfig,
  type ResolvedOauthConfig,
} from './readConfig';

/** Options of {@link OauthProvider}. @public */
export interface OauthProviderOptions {
  config: OauthProviderConfig;
  logger: LoggerService;
}

/** Client metadata as RFC 7591 returns it. */
type ClientMetadata = Record<string, unknown> & {
  client_id: string;
  client_secret?: string;
  grant_types?: string[];
  response_types?: string[];
};

/** Fields a client must not send in an RFC 7592 update. */
const READ_ONLY_FIELDS = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
];

/** Marks the grant types recorded in an anchor's scopes, for `enable`. */
const GRANT_SCOPE = 'grant_type:';

/** `sha256:<hex>` of the client id and its secret: identifies it without revealing it. */
export function secretFingerprint(
  clientId: string,
  secret: string | undefined,
): string | undefined {
  if (!secret) return undefined;
  return `sha256:${createHash('sha256')
    .update(`${clientId}\n${secret}`)
    .digest('hex')}`;
}

function mentions(value: unknown, entityRef: string): boolean {
  return (
    typeof value === 'string' &&
    value.toLowerCase().includes(entityRef.toLowerCase())
  );
}

type ReadResult =
  | { state: 'present'; client: ClientMetadata }
  | { state: 'gone'; status: number; error?: string };

/**
 * OAuth 2.0 / OIDC clients as trust anchors (kind `oauth-client`), managed
 * through standard endpoints only: RFC 7592 read / update / delete on the
 * client's registration client URI with its registration access token.
 *
 * There is no standard "disable": `disable` updates the client to have no
 * grant types and no response types, so the token endpoint refuses every
 * grant while its secret and registration stay; `enable` restores the grant
 * types recorded at discovery. `revoke` deletes the client (RFC 7592).
 * `rotate` asks the server for a new secret with an update; RFC 7592 forbids
 * a client-chosen secret, so a server that keeps the secret on update
 * cannot rotate through standard endpoints and `rotate` says so.
 *
 * @public
 */
export class OauthProvider implements TrustAnchorProvider {
  readonly type = 'oauth';
  readonly id: string;
  readonly limits: ProviderLimits;

  private readonly options: ResolvedOauthConfig;
  private readonly logger: LoggerService;
  private readonly redact: (text: string) => string;
  private metadata?: Promise<Record<string, string | undefined>>;
  /** Registration access tokens the server rotated on update (memory only). */
  private readonly rotatedTokens = new Map<string, string>();

  /** Builds a provider from a `nhiOffboarding.providers` entry. */
  static fromConfig(
    config: Config,
    options: { id?: string; logger: LoggerService },
  ): OauthProvider {
    return new OauthProvider({
      config: readOauthProviderConfig(config, options.id),
      logger: options.logger,
    });
  }

  constructor(options: OauthProviderOptions) {
    this.options = resolveOauthConfig(options.config);
    this.id = this.options.id;
    this.redact = makeRedactor(this.options.secrets);
    this.logger = options.logger.child({
      provider: this.id,
      providerType: 'oauth',
    });
    this.limits = {
      concurrency: this.options.concurrency,
      propagationWindowMs: this.options.tokenLifetimeSeconds * 1000,
    };
  }

  /** host[:port] of the authorization server, for people. */
  get server(): string {
    return this.options.server;
  }

  async close(): Promise<void> {
    // fetch keeps its keep-alive connections in node's global pool.
  }

  // ---------------------------------------------------------------- discover

  async discover(request: DiscoverRequest): Promise<DiscoveredAnchor[]> {
    const anchors: DiscoveredAnchor[] = [];
    const seen = new Set<string>();
    for (const link of request.linked) {
      if (seen.has(link.externalId)) continue;
      seen.add(link.externalId);
      const clientId = link.externalId;
      const read = await this.read(clientId, request.signal, 'discover');
      if (read.state === 'gone') {
        anchors.push({
          externalId: clientId,
          kind: 'oauth-client',
          displayName: `OAuth client ${clientId} on ${this.server} (${
            read.status === 404
              ? 'does not exist'
              : 'its registration access token is not accepted: deleted, or a wrong token'
          })`,
          sharedWith: link.sharedWith,
          status: read.status === 404 ? 'revoked' : 'unknown',
        });
        continue;
      }
      const c = read.client;
      const named = Object.entries(c).some(
        ([key, value]) =>
          !['client_secret', 'registration_access_token'].includes(key) &&
          mentions(value, request.entityRef),
      );
      const grants = c.grant_types ?? [];
      anchors.push({
        externalId: clientId,
        kind: 'oauth-client',
        displayName: `OAuth client ${
          typeof c.client_name === 'string' ? `"${c.client_name}" ` : ''
        }(${clientId}) on ${this.server}${
          named ? ' (its metadata names the entity)' : ''
        }`,
        fingerprint: secretFingerprint(clientId, c.client_secret),
        scopes: [
          ...grants.map(g => `${GRANT_SCOPE}${g}`),
          ...(typeof c.scope === 'string' ? [`scope:${c.scope}`] : []),
        ],
        sharedWith: link.sharedWith,
        createdAt:
          typeof c.client_id_issued_at === 'number'
            ? new Date(c.client_id_issued_at * 1000).toISOString()
            : undefined,
        expiresAt:
          typeof c.client_secret_expires_at === 'number' &&
          c.client_secret_expires_at > 0
            ? new Date(c.client_secret_expires_at * 1000).toISOString()
            : undefined,
        status: grants.length === 0 ? 'disabled' : 'active',
      });
    }
    return anchors;
  }

  // ----------------------------------------------------------------- actions

  async disable(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const clientId = anchor.externalId;
    const read = await this.read(clientId, ctx.signal, 'disable');
    if (read.state === 'gone')
      return this.goneResult(ctx, 'disable', read, clientId);
    const before = read.client.grant_types ?? [];
    const responseTypes = read.client.response_types ?? [];
    if (before.length === 0 && responseTypes.length === 0) {
      return this.done(ctx, 'disable', {
        changed: false,
        detail: `OAuth client ${clientId} on ${this.server} already has no grant types: the token endpoint refuses it every grant.`,
        observed: this.base(anchor, read.client, { grantTypes: [] }),
      });
    }
    const after = await this.update(
      clientId,
      read.client,
      { grant_types: [], response_types: [] },
      ctx.signal,
      'disable',
    );
    return this.done(ctx, 'disable', {
      changed: true,
      detail: `Disabled OAuth client ${clientId} on ${
        this.server
      } by an RFC 7592 update that removed its grant types (${before.join(
        ', ',
      )}) and response types: the token endpoint refuses it new tokens; its secret and registration are kept for enable. Tokens issued before stay valid until they expire (no standard endpoint lists them).`,
      observed: this.base(anchor, after, {
        grantTypes: after.grant_types ?? [],
        previousGrantTypes: before,
        previousResponseTypes: responseTypes,
      }),
    });
  }

  async enable(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const clientId = anchor.externalId;
    const read = await this.read(clientId, ctx.signal, 'enable');
    if (read.state === 'gone') {
      throw new PermanentProviderError(
        `OAuth client ${clientId} on ${this.server} cannot be read (HTTP ${read.status}): enable restores an existing client and never registers one (was it deleted by a revoke?).`,
      );
    }
    const recorded = anchor.scopes
      .filter(s => s.startsWith(GRANT_SCOPE))
      .map(s => s.slice(GRANT_SCOPE.length));
    const current = read.client.grant_types ?? [];
    if (recorded.length === 0) {
      throw new PermanentProviderError(
        `OAuth client ${clientId} on ${this.server}: the anchor records no grant types to restore (it was discovered without any); set them by hand with an RFC 7592 update.`,
      );
    }
    if (recorded.every(g => current.includes(g))) {
      return this.done(ctx, 'enable', {
        changed: false,
        detail: `OAuth client ${clientId} on ${
          this.server
        } already has its grant types (${current.join(', ')}).`,
        observed: this.base(anchor, read.client, { grantTypes: current }),
      });
    }
    const after = await this.update(
      clientId,
      read.client,
      { grant_types: [...new Set([...current, ...recorded])] },
      ctx.signal,
      'enable',
    );
    return this.done(ctx, 'enable', {
      changed: true,
      detail: `Enabled OAuth client ${clientId} on ${
        this.server
      }: restored its grant types (${recorded.join(
        ', ',
      )}) with an RFC 7592 update.`,
      observed: this.base(anchor, after, {
        grantTypes: after.grant_types ?? [],
      }),
    });
  }

  /**
   * RFC 7009 revokes one token whose value the caller holds; no standard
   * endpoint lists a client's tokens, and the provider never holds them.
   * This reports that, and the client's state, without changing anything.
   */
  async terminateSessions(
    anchor: TrustAnchor,
    ctx: ActionContext,
  ): Promise<ActionResult> {
    const clientId = anchor.externalId;
    const read = await this.read(clientId, ctx.signal, 'end the tokens of');
    return this.done(ctx, 'terminate-sessions', {
      changed: false,
      detail: `Revoked no token of OAuth client ${clientId} on ${
        this.server
      }: RFC 7009 revocation needs each token's value and no standard endpoint lists a client's tokens. ${
        read.state === 'gone'
          ? 'The client is deleted; whether its earlier tokens still introspect active depends on the server.'
          : 'Tokens issued before stay valid until they expire'
      }${
        this.options.tokenLifetimeSeconds
          ? ` (at most ${this.options.tokenLifetimeSeconds} s, tokenLifetimeSeconds)`
          : ''
      }.`,
      observed: {
        server: this.server,
        clientId,
        exists: read.state === 'present',
        tokensRevoked: 0,
        canListTokens: false,
        tokenLifetimeSeconds: this.options.tokenLifetimeSeconds || null,
      },
    });
  }

  async revoke(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const clientId = anchor.externalId;
    const read = await this.read(clientId, ctx.signal, 'revoke');
    if (read.state === 'gone')
      return this.goneResult(ctx, 'revoke', read, clientId);
    const what = `delete OAuth client ${clientId}`;
    const res = await this.request(
      this.clientUri(
        clientId,
        await this.registrationEndpoint(ctx.signal, what),
      ),
      { method: 'DELETE', headers: this.authHeader(clientId) },
      ctx.signal,
      what,
    );
    if (res.status !== 204 && res.status !== 200) {
      throw await this.fail(res, what);
    }
    this.rotatedTokens.delete(clientId);
    return this.done(ctx, 'revoke', {
      changed: true,
      detail: `Deleted OAuth client ${clientId} on ${this.server} (RFC 7592 DELETE, HTTP ${res.status}): its secret and registration access token no longer work. Tokens issued before it was deleted are the server's to invalidate; no standard endpoint lists them for RFC 7009 revocation.`,
      observed: {
        ...this.base(anchor, read.client, {}),
        exists: false,
        deleteStatus: res.status,
      },
    });
  }

  /**
   * Asks the server for a new secret with an RFC 7592 update. RFC 7592 §2.2
   * forbids a client to choose its own secret, so the provider sends the
   * metadata unchanged and checks whether the server issued a new one. The
   * new secret is never kept, logged or returned: only its fingerprint.
   */
  async rotate(anchor: TrustAnchor, ctx: ActionContext): Promise<ActionResult> {
    const clientId = anchor.externalId;
    const read = await this.read(clientId, ctx.signal, 'rotate');
    if (read.state === 'gone')
      return this.goneResult(ctx, 'rotate', read, clientId);
    const before = secretFingerprint(clientId, read.client.client_secret);
    const after = await this.update(
      clientId,
      read.client,
      {},
      ctx.signal,
      'rotate',
    );
    const now = secretFingerprint(clientId, after.client_secret);
    if (!before || !now || before === now) {
      throw new PermanentProviderError(
        `OAuth server ${this.server} kept the secret of client ${clientId} on an RFC 7592 update, and RFC 7592 forbids a client-chosen secret: this server cannot rotate a secret through standard endpoints. Rotate it in the server's admin console, hand the new secret to the other users, and attest.`,
      );
    }
    return this.done(ctx, 'rotate', {
      changed: true,
      detail: `Rotated the secret of OAuth client ${clientId} on ${this.server}: the server issued a new one on an RFC 7592 update (not kept by the provider; its other users read it with their registration access token).`,
      newFingerprint: now,
      observed: this.base(anchor, after, {
        previousFingerprint: before,
        newFingerprint: now,
      }),
    });
  }

  // ------------------------------------------------------------------ verify

  async verify(anchor: TrustAnchor, ctx: ActionContext): Promise<VerifyResult> {
    const clientId = anchor.externalId;
    try {
      const read = await this.read(clientId, ctx.signal, 'verify');
      const checkedAt = new Date().toISOString();
      if (read.state === 'gone') {
        const observed = {
          server: this.server,
          clientId,
          exists: false,
          registrationReadStatus: read.status,
          error: read.error ?? null,
          checkedAt,
        };
        if (read.status === 404 || anchor.fingerprint) {
          return {
            outcome: 'untrusted',
            detail:
              read.status === 404
                ? `OAuth client ${clientId} does not exist on ${this.server}.`
                : `OAuth server ${this.server} no longer accepts the registration access token of client ${clientId}, which it accepted at discovery: RFC 7592 §2.3 invalidates it when the client is deleted.`,
            observed,
          };
        }
        return {
          outcome: 'unknown',
          detail: `OAuth server ${this.server} refused the registration access token of client ${clientId} (HTTP ${read.status}); it was never read with it, so a deleted client and a wrong token look the same.`,
          observed,
        };
      }
      const c = read.client;
      const grants = c.grant_types ?? [];
      const fingerprint = secretFingerprint(clientId, c.client_secret);
      const secretReplaced =
        anchor.fingerprint && fingerprint
          ? anchor.fingerprint !== fingerprint
          : undefined;
      const observed = this.base(anchor, c, {
        exists: true,
        grantTypes: grants,
        knownSecretReplaced: secretReplaced ?? null,
        checkedAt,
      });
      if (grants.length === 0) {
        return {
          outcome: 'untrusted',
          detail: `OAuth client ${clientId} on ${this.server} has no grant types: the token endpoint refuses it every grant.`,
          observed,
        };
      }
      if (secretReplaced) {
        return {
          outcome: 'untrusted',
          detail: `OAuth client ${clientId} on ${this.server} no longer has the secret it had at discovery.`,
          observed,
        };
      }
      return {
        outcome: 'trusted',
        detail: `OAuth server ${
          this.server
        } still trusts client ${clientId}: it exists with grant types ${grants.join(
          ', ',
        )}${
          secretReplaced === false ? ' and the secret it had at discovery' : ''
        }.`,
        observed,
      };
    } catch (err) {
      const error =
        err instanceof Error ? err : new Error(this.redact(String(err)));
      return {
        outcome: 'unknown',
        detail: `Could not verify OAuth client ${clientId}: ${this.redact(
          error.message,
        )}`,
        observed: {
          server: this.server,
          clientId,
          error: this.redact(error.message),
          errorType: error.name,
        },
      };
    }
  }

  // ----------------------------------------------------------------- helpers

  private base(
    anchor: TrustAnchor,
    client: ClientMetadata,
    extra: Record<string, unknown>,
  ): Record<string, unknown> {
    const fingerprint = secretFingerprint(
      client.client_id,
      client.client_secret,
    );
    return {
      server: this.server,
      clientId: client.client_id,
      clientName:
        typeof client.client_name === 'string' ? client.client_name : null,
      fingerprint: fingerprint ?? null,
      fingerprintMatches:
        anchor.fingerprint && fingerprint
          ? anchor.fingerprint === fingerprint
          : undefined,
      ...extra,
    };
  }

  private goneResult(
    ctx: ActionContext,
    action: string,
    read: Extract<ReadResult, { state: 'gone' }>,
    clientId: string,
  ): ActionResult {
    return this.done(ctx, action, {
      changed: false,
      detail: `OAuth client ${clientId} on ${this.server} ${
        read.status === 404
          ? 'does not exist'
          : 'cannot be read with its registration access token (deleted: RFC 7592 invalidates the token with the client)'
      }; nothing to ${action}.`,
      observed: {
        server: this.server,
        clientId,
        exists: false,
        registrationReadStatus: read.status,
      },
    });
  }

  private done(
    ctx: ActionContext,
    action: string,
    result: ActionResult,
  ): ActionResult {
    return logActionResult(
      {
        providerType: 'oauth',
        providerId: this.id,
        logger: this.logger,
        redact: this.redact,
      },
      ctx,
      action,
      result,
    );
  }

  private hint(clientId?: string): string {
    return clientId
      ? `The provider needs the registration access token of client ${clientId} (clients.${clientId}.registrationAccessToken) or an adminToken the server accepts on registration client URIs.`
      : 'Check the issuer and endpoints configuration.';
  }

  private authHeader(clientId: string): Record<string, string> {
    const token =
      this.rotatedTokens.get(clientId) ??
      this.options.clients[clientId]?.registrationAccessToken ??
      this.options.adminToken;
    if (!token) {
      throw new PermanentProviderError(
        `The oauth provider ${
          this.id
        } has no registration access token for client ${clientId}. ${this.hint(
          clientId,
        )}`,
      );
    }
    return { authorization: `Bearer ${token}` };
  }

  private async request(
    url: string,
    init: RequestInit,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<Response> {
    if (signal?.aborted) {
      throw new TransientProviderError(
        `Aborted before trying to ${what} on ${this.server}.`,
      );
    }
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await fetch(url, {
        ...init,
        headers: { accept: 'application/json', ...init.headers },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw networkError(err, {
        server: this.server,
        what,
        redact: this.redact,
      });
    }
  }

  private async fail(res: Response, what: string, clientId?: string) {
    let body: { error?: unknown; error_description?: unknown } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      // not JSON
    }
    return httpError({
      server: this.server,
      what,
      status: res.status,
      error: typeof body.error === 'string' ? body.error : undefined,
      description:
        typeof body.error_description === 'string'
          ? this.redact(body.error_description)
          : undefined,
      retryAfter: res.headers.get('retry-after'),
      hint: this.hint(clientId),
    });
  }

  /** The server's metadata (RFC 8414 / OIDC discovery), read once. */
  private async serverMetadata(
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<Record<string, string | undefined>> {
    if (!this.metadata) {
      this.metadata = (async () => {
        for (const path of [
          '/.well-known/openid-configuration',
          '/.well-known/oauth-authorization-server',
        ]) {
          const res = await this.request(
            `${this.options.issuer}${path}`,
            {},
            signal,
            `${what} (read ${path})`,
          );
          if (res.ok) return (await res.json()) as Record<string, string>;
          if (res.status >= 500) throw await this.fail(res, what);
        }
        return {};
      })();
      this.metadata.catch(() => {
        this.metadata = undefined;
      });
    }
    return this.metadata;
  }

  private async registrationEndpoint(
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<string> {
    const endpoint =
      this.options.endpoints.registration ??
      (await this.serverMetadata(signal, what)).registration_endpoint;
    if (!endpoint) {
      throw new PermanentProviderError(
        `OAuth server ${this.server} advertises no registration_endpoint (RFC 7591) and none is configured (endpoints.registration); the provider manages clients through RFC 7592 only.`,
      );
    }
    return endpoint;
  }

  private clientUri(clientId: string, registrationEndpoint: string): string {
    return (
      this.options.clients[clientId]?.registrationClientUri ??
      `${registrationEndpoint.replace(/\/$/, '')}/${encodeURIComponent(
        clientId,
      )}`
    );
  }

  /** RFC 7592 read. 401/404 mean the client (or its token) is gone. */
  private async read(
    clientId: string,
    signal: AbortSignal | undefined,
    action: string,
  ): Promise<ReadResult> {
    const what = `${action} OAuth client ${clientId} (RFC 7592 read)`;
    const endpoint = await this.registrationEndpoint(signal, what);
    const res = await this.request(
      this.clientUri(clientId, endpoint),
      { headers: this.authHeader(clientId) },
      signal,
      what,
    );
    if (res.ok) {
      const client = (await res.json()) as ClientMetadata;
      this.noteRotatedToken(clientId, client);
      return { state: 'present', client };
    }
    if (res.status === 404 || res.status === 401) {
      let error: string | undefined;
      try {
        error = String(((await res.json()) as { error?: unknown }).error);
      } catch {
        // not JSON
      }
      return { state: 'gone', status: res.status, error };
    }
    throw await this.fail(res, what, clientId);
  }

  /** RFC 7592 update with the current metadata and the given changes. */
  private async update(
    clientId: string,
    current: ClientMetadata,
    changes: Record<string, unknown>,
    signal: AbortSignal | undefined,
    action: string,
  ): Promise<ClientMetadata> {
    const what = `${action} OAuth client ${clientId} (RFC 7592 update)`;
    const body: Record<string, unknown> = { ...current, ...changes };
    for (const field of READ_ONLY_FIELDS) delete body[field];
    const endpoint = await this.registrationEndpoint(signal, what);
    const res = await this.request(
      this.clientUri(clientId, endpoint),
      {
        method: 'PUT',
        headers: {
          ...this.authHeader(clientId),
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      },
      signal,
      what,
    );
    if (!res.ok) throw await this.fail(res, what, clientId);
    const client = (await res.json()) as ClientMetadata;
    this.noteRotatedToken(clientId, client);
    return client;
  }

  private noteRotatedToken(clientId: string, client: ClientMetadata) {
    const token = client.registration_access_token;
    const configured = this.options.clients[clientId]?.registrationAccessToken;
    if (typeof token === 'string' && configured && token !== configured) {
      // The server rotated the registration access token: kept in memory
      // only, so a restart loses it; see the README.
      this.rotatedTokens.set(clientId, token);
      this.logger.warn(
        `oauth provider ${this.id}: the server rotated the registration access token of client ${clientId}; it is kept in memory only — turn rotation off or update the configuration`,
      );
    }
  }
}

/**
 * Builds an {@link OauthProvider} from a `nhiOffboarding.providers` entry of
 * type `oauth`.
 * @public
 */
export const oauthProviderFactory: TrustAnchorProviderFactory = ({
  id,
  config,
  logger,
}) => OauthProvider.fromConfig(config, { id, logger });
