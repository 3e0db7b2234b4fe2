/*
 * Test helper: npm `oidc-provider` (v9) in-process on a free loopback port,
 * with client_credentials, dynamic registration (RFC 7591) and its
 * management (RFC 7592, registration access tokens not rotated),
 * revocation (RFC 7009) and introspection (RFC 7662). One client,
 * `introspector`, may introspect every token.
 *
 * Its storage is an in-memory adapter of this file. With
 * `dropGrantsOnClientDelete` (default true) deleting a client also deletes
 * every token issued to it; oidc-provider's own memory adapter does not, so
 * a token issued before a client delete still introspects `active: true`
 * there (`dropGrantsOnClientDelete: false` reproduces that).
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
// Test-only helper: oidc-provider is a devDependency.
// eslint-disable-next-line @backstage/no-undeclared-imports
import Provider from 'oidc-provider';

export interface TestOidc {
  description: string;
  issuer: string;
  port: number;
  introspection: { clientId: string; clientSecret: string };
  /** Registers a client through RFC 7591; returns the whole response. */
  register(metadata: Record<string, unknown>): Promise<{
    client_id: string;
    client_secret: string;
    registration_access_token: string;
    registration_client_uri: string;
  }>;
  stop(): Promise<void>;
}

type Stored = { payload: Record<string, unknown>; expiresAt?: number };

function makeAdapter(dropGrantsOnClientDelete: boolean) {
  const store = new Map<string, Stored>();
  return class TestAdapter {
    constructor(readonly name: string) {}
    private key(id: string) {
      return `${this.name}:${id}`;
    }
    async upsert(
      id: string,
      payload: Record<string, unknown>,
      expiresIn?: number,
    ) {
      store.set(this.key(id), {
        payload,
        expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
      });
    }
    async find(id: string) {
      const entry = store.get(this.key(id));
      if (!entry) return undefined;
      if (entry.expiresAt && entry.expiresAt < Date.now()) {
        store.delete(this.key(id));
        return undefined;
      }
      return entry.payload;
    }
    async findByUid(uid: string) {
      for (const [k, v] of store) {
        if (k.startsWith(`${this.name}:`) && v.payload.uid === uid)
          return v.payload;
      }
      return undefined;
    }
    async findByUserCode(code: string) {
      for (const [k, v] of store) {
        if (k.startsWith(`${this.name}:`) && v.payload.userCode === code) {
          return v.payload;
        }
      }
      return undefined;
    }
    async consume(id: string) {
      const entry = store.get(this.key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
      if (this.name === 'Client' && dropGrantsOnClientDelete) {
        for (const [k, v] of store) {
          if (v.payload.clientId === id) store.delete(k);
        }
      }
    }
    async revokeByGrantId(grantId: string) {
      for (const [k, v] of store) {
        if (v.payload.grantId === grantId) store.delete(k);
      }
    }
  };
}

export async function startTestOidc(
  options: { dropGrantsOnClientDelete?: boolean } = {},
): Promise<TestOidc> {
  const drop = options.dropGrantsOnClientDelete ?? true;
  const introspection = {
    clientId: 'introspector',
    clientSecret: randomBytes(16).toString('hex'),
  };
  // Listen first to learn the port; the issuer must contain it.
  let handler: (req: any, res: any) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    adapter: makeAdapter(drop) as any,
    clients: [
      {
        client_id: introspection.clientId,
        client_secret: introspection.clientSecret,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      registration: { enabled: true },
      registrationManagement: {
        enabled: true,
        rotateRegistrationAccessToken: false,
      },
      revocation: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
    },
    ttl: { ClientCredentials: 600 },
  } as any);
  handler = provider.callback();
  return {
    description: `oidc-provider in-process at ${issuer} (${
      drop
        ? "adapter drops a deleted client's tokens"
        : 'memory adapter keeps tokens of deleted clients'
    })`,
    issuer,
    port,
    introspection,
    async register(metadata) {
      const res = await fetch(`${issuer}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
          ...metadata,
        }),
      });
      if (res.status !== 201) {
        throw new Error(
          `registration failed: ${res.status} ${await res.text()}`,
        );
      }
      return (await res.json()) as any;
    },
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
