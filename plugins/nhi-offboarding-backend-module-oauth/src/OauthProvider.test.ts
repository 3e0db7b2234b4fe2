/*
 * Runs against npm `oidc-provider` started in-process by this file, no
 * mocks. Every claim is checked through the server's own endpoints: a
 * client_credentials grant with the client's ORIGINAL credentials, and
 * RFC 7662 introspection of a token issued before the action.
 */
import { ConfigReader } from '@backstage/config';
import {
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { createProviderTestKit } from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';
import type { TrustAnchor } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { OauthProvider, oauthProviderFactory } from './index';
import { startTestOidc, type TestOidc } from './testing/startTestOidc';

jest.setTimeout(30_000);

const ENTITY = 'component:default/payments-api';

/** Secrets in play, and everything the providers said: none may leak. */
const kit = createProviderTestKit({
  providerId: 'oauth-test',
  entityRef: ENTITY,
  kind: 'oauth-client',
});
const { logger, secrets, outputs, ctx, call, failure } = kit;

let oidc: TestOidc;
const servers: TestOidc[] = [];

type Registered = Awaited<ReturnType<TestOidc['register']>>;

/** Registers a client; its secret and tokens join the list of secrets. */
async function register(
  metadata: Record<string, unknown> = {},
  target: TestOidc = oidc,
): Promise<Registered> {
  const client = await target.register({
    client_name: `payments client of ${ENTITY}`,
    ...metadata,
  });
  secrets.push(client.client_secret, client.registration_access_token);
  return client;
}

function providerFor(
  clients: Registered[],
  target: TestOidc = oidc,
  id = 'oauth-test',
): OauthProvider {
  return new OauthProvider({
    config: {
      id,
      type: 'oauth',
      issuer: target.issuer,
      clients: Object.fromEntries(
        clients.map(c => [
          c.client_id,
          { registrationAccessToken: c.registration_access_token },
        ]),
      ),
    },
    logger,
  });
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(
    `${encodeURIComponent(id)}:${encodeURIComponent(secret)}`,
  ).toString('base64')}`;

/** A client_credentials grant with the given credentials. */
async function grant(
  client: { client_id: string; client_secret: string },
  target: TestOidc = oidc,
): Promise<{ status: number; error?: string; token?: string }> {
  const res = await fetch(`${target.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: basic(client.client_id, client.client_secret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const body = (await res.json()) as { error?: string; access_token?: string };
  if (body.access_token) secrets.push(body.access_token);
  return { status: res.status, error: body.error, token: body.access_token };
}

async function introspect(
  token: string,
  target: TestOidc = oidc,
): Promise<boolean> {
  const res = await fetch(`${target.issuer}/token/introspection`, {
    method: 'POST',
    headers: {
      authorization: basic(
        target.introspection.clientId,
        target.introspection.clientSecret,
      ),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: `token=${encodeURIComponent(token)}`,
  });
  return ((await res.json()) as { active: boolean }).active;
}

async function anchorFor(
  provider: OauthProvider,
  clientId: string,
  sharedWith: string[] = [],
): Promise<TrustAnchor> {
  const [d] = await call(
    provider.discover({
      entity: {} as any,
      entityRef: ENTITY,
      linked: [{ externalId: clientId, source: 'annotation', sharedWith }],
    }),
  );
  return {
    id: `anchor-${clientId}`,
    entityRef: ENTITY,
    providerId: provider.id,
    kind: d.kind,
    externalId: clientId,
    displayName: d.displayName,
    fingerprint: d.fingerprint,
    scopes: d.scopes ?? [],
    sharedWith,
    manual: false,
    status: d.status,
    discoveredAt: new Date().toISOString(),
    discoveredBy: 'test',
  };
}

beforeAll(async () => {
  oidc = await startTestOidc();
  servers.push(oidc);
  secrets.push(oidc.introspection.clientSecret);
  // eslint-disable-next-line no-console
  console.log(`OAuth tests run against ${oidc.description}`);
});

afterAll(async () => {
  for (const s of servers) await s.stop();
});

describe('OauthProvider against oidc-provider', () => {
  it('discovers a linked client with a secret fingerprint, its grant types and whether its metadata names the entity', async () => {
    const client = await register();
    const provider = providerFor([client]);
    const anchor = await anchorFor(provider, client.client_id);
    expect(anchor).toMatchObject({
      kind: 'oauth-client',
      status: 'active',
      scopes: ['grant_type:client_credentials'],
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(anchor.displayName).toContain('its metadata names the entity');
    const verified = await call(provider.verify(anchor, ctx()));
    expect(verified.outcome).toBe('trusted');
  });

  it('disable removes the grant types: the original credentials get no token; enable restores; both idempotent', async () => {
    const client = await register();
    const provider = providerFor([client]);
    const anchor = await anchorFor(provider, client.client_id);
    const before = await grant(client);
    expect(before.status).toBe(200);

    const result = await call(provider.disable(anchor, ctx()));
    expect(result.changed).toBe(true);
    expect(result.observed).toMatchObject({
      grantTypes: [],
      previousGrantTypes: ['client_credentials'],
    });
    expect(result.detail).toContain('Tokens issued before stay valid');
    const refused = await grant(client);
    expect(refused.status).toBe(400);
    expect(refused.error).toBe('invalid_request');
    // What the detail says: a token issued before the disable still works.
    expect(await introspect(before.token!)).toBe(true);
    expect((await call(provider.disable(anchor, ctx()))).changed).toBe(false);
    expect((await call(provider.verify(anchor, ctx()))).outcome).toBe(
      'untrusted',
    );

    const sessions = await call(provider.terminateSessions(anchor, ctx()));
    expect(sessions).toMatchObject({
      changed: false,
      observed: { tokensRevoked: 0, canListTokens: false },
    });

    const enabled = await call(provider.enable(anchor, ctx()));
    expect(enabled.changed).toBe(true);
    expect((await grant(client)).status).toBe(200);
    expect((await call(provider.enable(anchor, ctx()))).changed).toBe(false);
    expect((await call(provider.verify(anchor, ctx()))).outcome).toBe(
      'trusted',
    );
  });

  it('revoke deletes the client: the original credentials fail with invalid_client and a token issued before is inactive; idempotent', async () => {
    const client = await register();
    const provider = providerFor([client]);
    const anchor = await anchorFor(provider, client.client_id);
    const issued = await grant(client);
    expect(await introspect(issued.token!)).toBe(true);

    const result = await call(provider.revoke(anchor, ctx()));
    expect(result).toMatchObject({
      changed: true,
      observed: { exists: false, deleteStatus: 204 },
    });
    expect(await grant(client)).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
    // This server's adapter drops a deleted client's tokens.
    expect(await introspect(issued.token!)).toBe(false);

    expect((await call(provider.revoke(anchor, ctx()))).changed).toBe(false);
    expect((await call(provider.disable(anchor, ctx()))).changed).toBe(false);
    const verified = await call(provider.verify(anchor, ctx()));
    expect(verified.outcome).toBe('untrusted');
    expect(verified.observed).toMatchObject({
      exists: false,
      registrationReadStatus: 401,
    });
    const enable = await failure(provider.enable(anchor, ctx()));
    expect(enable).toBeInstanceOf(PermanentProviderError);
    expect(enable.message).toContain('never registers');
  });

  it("with oidc-provider's usual memory storage a token issued before the delete stays active (reported, not hidden)", async () => {
    const keeping = await startTestOidc({ dropGrantsOnClientDelete: false });
    servers.push(keeping);
    secrets.push(keeping.introspection.clientSecret);
    const client = await register({}, keeping);
    const provider = providerFor([client], keeping, 'oauth-keeping');
    const anchor = await anchorFor(provider, client.client_id);
    const issued = await grant(client, keeping);
    const result = await call(provider.revoke(anchor, ctx()));
    expect(result.detail).toContain("the server's to invalidate");
    expect(await grant(client, keeping)).toMatchObject({
      error: 'invalid_client',
    });
    expect(await introspect(issued.token!, keeping)).toBe(true);
  });

  it('rotate: oidc-provider keeps the secret on an RFC 7592 update, so rotation is refused with what to do; the original still works', async () => {
    const client = await register();
    const provider = providerFor([client]);
    const anchor = await anchorFor(provider, client.client_id, [
      'component:default/billing',
    ]);
    const err = await failure(provider.rotate(anchor, ctx()));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toContain('cannot rotate');
    expect((await grant(client)).status).toBe(200);
    expect((await call(provider.verify(anchor, ctx()))).outcome).toBe(
      'trusted',
    );
  });

  it('an unknown client id is revoked at discovery; a wrong token is unknown at verify', async () => {
    const client = await register();
    const provider = new OauthProvider({
      config: {
        id: 'oauth-wrong',
        type: 'oauth',
        issuer: oidc.issuer,
        clients: { [client.client_id]: { registrationAccessToken: 'not-it' } },
      },
      logger,
    });
    const [d] = await call(
      provider.discover({
        entity: {} as any,
        entityRef: ENTITY,
        linked: [
          {
            externalId: client.client_id,
            source: 'annotation',
            sharedWith: [],
          },
        ],
      }),
    );
    expect(d.status).toBe('unknown');
    const verified = await call(
      provider.verify(
        {
          id: 'a',
          entityRef: ENTITY,
          providerId: 'oauth-wrong',
          kind: 'oauth-client',
          externalId: client.client_id,
          displayName: 'x',
          scopes: [],
          sharedWith: [],
          manual: false,
          status: 'active',
          discoveredAt: new Date().toISOString(),
          discoveredBy: 'test',
        },
        ctx(),
      ),
    );
    expect(verified.outcome).toBe('unknown');
    const noToken = await failure(
      providerFor([]).disable(
        { ...(await anchorFor(providerFor([client]), client.client_id)) },
        ctx(),
      ),
    );
    expect(noToken).toBeInstanceOf(PermanentProviderError);
    expect(noToken.message).toContain('registrationAccessToken');
  });

  it('an unreachable server: verify is unknown, actions throw TransientProviderError', async () => {
    const gone = await startTestOidc();
    const client = await register({}, gone);
    const provider = providerFor([client], gone, 'oauth-down');
    const anchor = await anchorFor(provider, client.client_id);
    await gone.stop();
    const verified = await call(provider.verify(anchor, ctx()));
    expect(verified.outcome).toBe('unknown');
    for (const attempt of [
      () => provider.disable(anchor, ctx()),
      () => provider.revoke(anchor, ctx()),
    ]) {
      const err = await failure(attempt());
      expect(err).toBeInstanceOf(TransientProviderError);
      expect(err.message).toMatch(/unreachable/);
    }
  });

  it('is built from app-config by the factory', async () => {
    const client = await register();
    const p = await oauthProviderFactory({
      id: 'oauth-config',
      logger,
      config: new ConfigReader({
        type: 'oauth',
        issuer: oidc.issuer,
        clients: [
          {
            clientId: client.client_id,
            registrationAccessToken: client.registration_access_token,
          },
        ],
      }),
    });
    expect(p.type).toBe('oauth');
    const [d] = await call(
      p.discover({
        entity: {} as any,
        entityRef: ENTITY,
        linked: [
          {
            externalId: client.client_id,
            source: 'annotation',
            sharedWith: [],
          },
        ],
      }),
    );
    expect(d.status).toBe('active');
  });

  it('never puts a secret or token in a result, an error or a log line', () => {
    expect(outputs.length).toBeGreaterThan(20);
    const everything = kit.transcript();
    for (const secret of secrets) {
      expect(everything).not.toContain(secret);
    }
  });
});
