/*
 * Runs against real redis-server processes, no mocks: throwaway servers
 * started for this file (or, when that is impossible, the shared server of
 * NHI_TEST_REDIS_URL; the first line of output says which). Every claim
 * about logins is checked by logging in AS the target user with its
 * password through a separate ioredis client.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import Redis from 'ioredis';
import { ConfigReader } from '@backstage/config';
import {
  PermanentProviderError,
  TransientProviderError,
  type TrustAnchorProvider,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import {
  createProviderTestKit,
  getFreePort,
} from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';
import { RedisProvider, redisProviderFactory } from './index';
import type { RedisProviderConfig } from './config';
import { startTestRedis, type TestRedis } from './testing/startTestRedis';

jest.setTimeout(30_000);

const SUFFIX = randomBytes(3).toString('hex');
const name = (base: string) => `nhi_${base}_${SUFFIX}`;
const ENTITY = `component:default/payments-api-${SUFFIX}`;

/** Secrets in play, and everything the providers said: none may leak. */
const kit = createProviderTestKit({
  providerId: 'redis-test',
  entityRef: ENTITY,
  kind: 'service-account',
});
const { logger, secrets, outputs, logLines, ctx, call, failure } = kit;
const anchorOf = (
  externalId: string,
  fingerprint?: string,
  sharedWith: string[] = [],
) => kit.anchorOf(externalId, { fingerprint, sharedWith });
const newPassword = () => kit.newSecret();

let server: TestRedis;
let admin: Redis;
let provider: RedisProvider;
const providers: TrustAnchorProvider[] = [];
const servers: TestRedis[] = [];
const createdUsers: string[] = [];
const openClients: Redis[] = [];

function clientOptions(target: TestRedis, user: string, password?: string) {
  return {
    host: target.host,
    port: target.port,
    username: user,
    password,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 3000,
  };
}

/** Connects, surfacing the server's refusal (ioredis hides it as "Connection is closed"). */
async function connectAs(
  user: string,
  password: string | undefined,
  target: TestRedis = server,
): Promise<{ ok: true; client: Redis } | { ok: false; message: string }> {
  const client = new Redis(clientOptions(target, user, password));
  let first: Error | undefined;
  client.on('error', err => {
    first ??= err;
  });
  try {
    await client.connect();
    expect(await client.call('ACL', 'WHOAMI')).toBe(user);
    openClients.push(client);
    return { ok: true, client };
  } catch (err) {
    client.disconnect();
    return { ok: false, message: (first ?? (err as Error)).message };
  }
}

async function createUser(
  user: string,
  options: { on?: boolean; target?: TestRedis } = {},
): Promise<string> {
  const pw = newPassword();
  const client = options.target ? await adminOf(options.target) : admin;
  await client.call(
    'ACL',
    'SETUSER',
    user,
    'reset',
    options.on === false ? 'off' : 'on',
    `>${pw}`,
    '~app:*',
    '&*',
    '+@read',
    '+@write',
    '+ping',
    '+info',
    '+acl|whoami',
  );
  createdUsers.push(user);
  if (options.target) client.disconnect();
  return pw;
}

async function adminOf(target: TestRedis): Promise<Redis> {
  const client = new Redis(clientOptions(target, target.user, target.password));
  await client.connect();
  return client;
}

async function expectLoginWorks(user: string, password: string) {
  const result = await connectAs(user, password);
  expect(result).toMatchObject({ ok: true });
  if (!result.ok) return;
  // Gone from the server too before the test goes on: a provider listing
  // the user's connections right after would otherwise still see it.
  const addr = `addr=127.0.0.1:${(result.client as any).stream.localPort} `;
  result.client.disconnect();
  await waitFor(async () => {
    const list = String(await admin.call('CLIENT', 'LIST'));
    return !list.includes(addr);
  });
}

async function expectLoginFails(user: string, password: string) {
  const result = await connectAs(user, password);
  expect(result).toMatchObject({
    ok: false,
    message: expect.stringMatching(/^WRONGPASS/),
  });
}

/** A connection held open as the user; records when the server closes it. */
async function holdConnection(user: string, password: string) {
  const result = await connectAs(user, password);
  if (!result.ok) throw new Error(`login failed: ${result.message}`);
  const state = { closed: false };
  result.client.on('end', () => {
    state.closed = true;
  });
  expect(await result.client.ping()).toBe('PONG');
  return { client: result.client, state };
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 3000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise(r => setTimeout(r, 20));
  }
}

async function aclUser(user: string, client: Redis = admin) {
  const reply = (await client.call('ACL', 'GETUSER', user)) as unknown[] | null;
  if (!reply) return undefined;
  const flags = reply[reply.indexOf('flags') + 1] as string[];
  const passwords = reply[reply.indexOf('passwords') + 1] as string[];
  return { on: flags.includes('on'), passwords };
}

function makeProvider(
  overrides: Partial<{
    user: string;
    password: string;
    port: number;
    id: string;
    target: TestRedis;
    persistAcl: RedisProviderConfig['persistAcl'];
    rotateEndsConnections: boolean;
  }> = {},
): RedisProvider {
  const target = overrides.target ?? server;
  const p = new RedisProvider({
    config: {
      id: overrides.id ?? 'redis-test',
      type: 'redis',
      connection: {
        host: target.host,
        port: overrides.port ?? target.port,
        user: overrides.user ?? target.user,
        password: overrides.password ?? target.password,
      },
      // Never rewrite the config file of a shared server.
      persistAcl:
        overrides.persistAcl ??
        (target.mode === 'shared-server' ? 'none' : 'auto'),
      rotateEndsConnections: overrides.rotateEndsConnections,
      connectTimeoutMs: 2000,
      killWaitMs: 3000,
    },
    logger,
  });
  providers.push(p);
  return p;
}

beforeAll(async () => {
  server = await startTestRedis();
  servers.push(server);
  // Says which server the tests ran against.
  // eslint-disable-next-line no-console
  console.info(`RedisProvider tests run against: ${server.description}`);
  if (server.password) secrets.push(server.password);
  admin = await adminOf(server);
  provider = makeProvider();
});

afterAll(async () => {
  for (const c of openClients) c.disconnect();
  for (const p of providers) await p.close?.();
  if (admin && server?.mode === 'shared-server') {
    for (const user of createdUsers) {
      await admin.call('ACL', 'DELUSER', user).catch(() => {});
    }
  }
  admin?.disconnect();
  for (const s of servers) await s.stop();
});

describe('RedisProvider', () => {
  it('is built by the factory from config with a redis:// URL', async () => {
    const p = await redisProviderFactory({
      id: 'redis-from-config',
      config: new ConfigReader({
        id: 'redis-from-config',
        type: 'redis',
        connection: server.url,
        concurrency: 2,
        persistAcl: 'none',
      }),
      logger,
    });
    providers.push(p);
    expect(p.id).toBe('redis-from-config');
    expect(p.type).toBe('redis');
    expect(p.limits).toEqual({ concurrency: 2, propagationWindowMs: 0 });
    expect(provider.limits).toEqual({ concurrency: 4, propagationWindowMs: 0 });
    const user = name('cfg');
    await createUser(user);
    const anchors = await call(
      p.discover({
        entity: {} as any,
        entityRef: ENTITY,
        linked: [{ externalId: user, source: 'annotation', sharedWith: [] }],
      }),
    );
    expect(anchors).toEqual([
      expect.objectContaining({ externalId: user, status: 'active' }),
    ]);

    const fromObject = await redisProviderFactory({
      id: 'redis-from-object',
      config: new ConfigReader({
        id: 'redis-from-object',
        type: 'redis',
        connection: {
          host: server.host,
          port: String(server.port),
          user: server.user,
          ...(server.password ? { password: server.password } : {}),
        },
        persistAcl: 'none',
      }),
      logger,
    });
    providers.push(fromObject);
    expect(
      (await call(fromObject.verify!(anchorOf(name('nobody')), ctx()))).outcome,
    ).toBe('untrusted');
    expect(() =>
      RedisProvider.fromConfig(
        new ConfigReader({ id: 'x', type: 'redis', connection: 'http://x' }),
        { logger },
      ),
    ).toThrow(/redis:\/\//);
    expect(() =>
      RedisProvider.fromConfig(
        new ConfigReader({
          id: 'x',
          type: 'redis',
          connection: server.url,
          persistAcl: 'sometimes',
        }),
        { logger },
      ),
    ).toThrow(/persistAcl/);
  });

  describe('discover', () => {
    it('reads linked users: on/off, scopes, connections, absence; the fingerprint follows the password', async () => {
      const app = name('disc_app');
      const off = name('disc_off');
      const missing = name('disc_missing');
      const pw = await createUser(app);
      await createUser(off, { on: false });
      const held = await holdConnection(app, pw);

      const request = {
        entity: {} as any,
        entityRef: ENTITY,
        linked: [
          {
            externalId: app,
            source: 'annotation' as const,
            sharedWith: ['component:default/other'],
          },
          { externalId: off, source: 'annotation' as const, sharedWith: [] },
          {
            externalId: missing,
            source: 'catalog-resource' as const,
            sharedWith: [],
          },
          {
            externalId: 'two words',
            source: 'annotation' as const,
            sharedWith: [],
          },
        ],
      };
      const anchors = await call(provider.discover(request));
      expect(anchors).toHaveLength(4);
      const [a, o, m, bad] = anchors;
      expect(a).toMatchObject({
        externalId: app,
        kind: 'service-account',
        status: 'active',
        sharedWith: ['component:default/other'],
      });
      expect(a.scopes).toEqual(
        expect.arrayContaining(['keys ~app:*', 'channels &*']),
      );
      expect(a.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(a.lastUsedAt).toBeDefined();
      expect(o).toMatchObject({ externalId: off, status: 'disabled' });
      expect(o.lastUsedAt).toBeUndefined();
      expect(m).toMatchObject({ externalId: missing, status: 'revoked' });
      expect(m.fingerprint).toBeUndefined();
      expect(bad).toMatchObject({ status: 'unknown' });

      // The fingerprint is not the hash Redis stores, and it changes with the password.
      const stored = (await aclUser(app))!.passwords[0];
      expect(a.fingerprint).not.toContain(stored);
      const again = await call(provider.discover(request));
      expect(again[0].fingerprint).toBe(a.fingerprint);
      await admin.call('ACL', 'SETUSER', app, `>${newPassword()}`);
      const twoPasswords = await call(provider.discover(request));
      expect(twoPasswords[0].fingerprint).toContain(a.fingerprint);
      expect(twoPasswords[0].fingerprint!.split(',')).toHaveLength(2);
      held.client.disconnect();
    });

    it('finds nothing without links: Redis keeps no comment on an ACL user', async () => {
      expect(
        await call(
          provider.discover({
            entity: {} as any,
            entityRef: ENTITY,
            linked: [],
          }),
        ),
      ).toEqual([]);
    });
  });

  describe('disable, enable, terminateSessions', () => {
    it('`off` alone leaves an authenticated connection working; disable closes it and new logins get WRONGPASS', async () => {
      const user = name('dis_app');
      const pw = await createUser(user);
      await expectLoginWorks(user, pw);
      const held = await holdConnection(user, pw);

      // What Redis does by itself: the held connection survives `off`.
      await admin.call('ACL', 'SETUSER', user, 'off');
      expect(await held.client.ping()).toBe('PONG');
      await admin.call('ACL', 'SETUSER', user, 'on');

      const disabled = await call(provider.disable(anchorOf(user), ctx()));
      expect(disabled.changed).toBe(true);
      expect(disabled.observed).toMatchObject({
        on: false,
        wasOn: true,
        connectionsClosed: 1,
        connectionsRemaining: 0,
      });
      await waitFor(() => held.state.closed);
      await expect(held.client.ping()).rejects.toThrow();
      await expectLoginFails(user, pw);
      expect(await aclUser(user)).toMatchObject({ on: false });

      const again = await call(provider.disable(anchorOf(user), ctx()));
      expect(again.changed).toBe(false);
      const verified = await call(provider.verify(anchorOf(user), ctx()));
      expect(verified.outcome).toBe('untrusted');
      expect(verified.observed).toMatchObject({
        on: false,
        liveConnections: 0,
      });

      const enabled = await call(provider.enable(anchorOf(user), ctx()));
      expect(enabled.changed).toBe(true);
      await expectLoginWorks(user, pw);
      expect((await call(provider.enable(anchorOf(user), ctx()))).changed).toBe(
        false,
      );
      expect((await call(provider.verify(anchorOf(user), ctx()))).outcome).toBe(
        'trusted',
      );
    });

    it('terminateSessions closes connections and leaves the user able to log in', async () => {
      const user = name('term_app');
      const pw = await createUser(user);
      const h1 = await holdConnection(user, pw);
      const h2 = await holdConnection(user, pw);
      const result = await call(
        provider.terminateSessions(anchorOf(user), ctx()),
      );
      expect(result.changed).toBe(true);
      expect(result.observed).toMatchObject({ connectionsClosed: 2, on: true });
      await waitFor(() => h1.state.closed && h2.state.closed);
      await expectLoginWorks(user, pw);
      expect(
        (await call(provider.terminateSessions(anchorOf(user), ctx()))).changed,
      ).toBe(false);
    });
  });

  describe('revoke', () => {
    it('deletes the user, which closes its connections; login fails with WRONGPASS; idempotent', async () => {
      const user = name('rev_app');
      const pw = await createUser(user);
      const held = await holdConnection(user, pw);
      const [discovered] = await call(
        provider.discover({
          entity: {} as any,
          entityRef: ENTITY,
          linked: [{ externalId: user, source: 'annotation', sharedWith: [] }],
        }),
      );
      const anchor = anchorOf(user, discovered.fingerprint);
      const result = await call(provider.revoke(anchor, ctx()));
      expect(result.changed).toBe(true);
      expect(result.observed).toMatchObject({
        exists: false,
        connectionsClosed: 1,
        fingerprintMatches: true,
        aclPersisted: server.mode === 'own-server' ? 'not-needed' : 'skipped',
      });
      await waitFor(() => held.state.closed);
      await expectLoginFails(user, pw);
      expect(await aclUser(user)).toBeUndefined();

      const again = await call(provider.revoke(anchor, ctx()));
      expect(again.changed).toBe(false);
      const verified = await call(provider.verify(anchor, ctx()));
      expect(verified.outcome).toBe('untrusted');
      expect(verified.observed).toMatchObject({
        exists: false,
        liveConnections: 0,
      });
    });
  });

  describe('rotate (a user shared with other entities)', () => {
    it('replaces every password with one nobody knows, closes old connections, keeps the user on', async () => {
      const user = name('rot_shared');
      const pw = await createUser(user);
      const other = newPassword();
      await admin.call('ACL', 'SETUSER', user, `>${other}`);
      const held = await holdConnection(user, pw);
      const [discovered] = await call(
        provider.discover({
          entity: {} as any,
          entityRef: ENTITY,
          linked: [
            {
              externalId: user,
              source: 'annotation',
              sharedWith: ['component:default/billing'],
            },
          ],
        }),
      );
      const anchor = anchorOf(user, discovered.fingerprint, [
        'component:default/billing',
      ]);
      const before = await aclUser(user);

      const result = await call(provider.rotate(anchor, ctx()));
      expect(result.changed).toBe(true);
      expect(result.newFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(result.newFingerprint).not.toBe(discovered.fingerprint);
      expect(result.observed).toMatchObject({
        previousFingerprint: discovered.fingerprint,
        passwordsReplaced: 2,
        connectionsClosed: 1,
        on: true,
      });
      expect(result.detail).toContain('out of band');
      await waitFor(() => held.state.closed);
      // Both old passwords fail; the user still exists and is on.
      await expectLoginFails(user, pw);
      await expectLoginFails(user, other);
      const after = await aclUser(user);
      expect(after).toMatchObject({ on: true });
      expect(after!.passwords).toHaveLength(1);
      expect(before!.passwords).not.toContain(after!.passwords[0]);
      // The new stored hash appears nowhere in what the provider said.
      expect(JSON.stringify(result)).not.toContain(after!.passwords[0]);

      // What the retiring entity knew is no longer accepted.
      const verified = await call(provider.verify(anchor, ctx()));
      expect(verified.outcome).toBe('untrusted');
      expect(verified.observed).toMatchObject({
        on: true,
        knownPasswordsAccepted: false,
        liveConnections: 0,
      });
      // An anchor fingerprinted after the rotation is still trusted: the user is on.
      const fresh = await call(
        provider.verify(anchorOf(user, result.newFingerprint), ctx()),
      );
      expect(fresh.outcome).toBe('trusted');

      // The owner sets a new password out of band; the other users log in again.
      // Their connections make verify fail closed: Redis cannot tell which
      // password a connection used.
      const next = newPassword();
      await admin.call('ACL', 'SETUSER', user, `>${next}`);
      const consumer = await holdConnection(user, next);
      const withConsumer = await call(provider.verify(anchor, ctx()));
      expect(withConsumer.outcome).toBe('trusted');
      expect(withConsumer.detail).toContain('cannot tell');
      consumer.client.disconnect();
      await waitFor(
        async () =>
          (await call(provider.verify(anchor, ctx()))).outcome === 'untrusted',
      );

      // Repeating it rotates again (there is no way to see "already rotated").
      const again = await call(provider.rotate(anchor, ctx()));
      expect(again.changed).toBe(true);
      expect(again.newFingerprint).not.toBe(result.newFingerprint);
      await expectLoginFails(user, next);
    });

    it('with rotateEndsConnections off leaves open connections open; nopass is removed', async () => {
      const keeper = makeProvider({
        id: 'redis-keep',
        rotateEndsConnections: false,
      });
      const user = name('rot_keep');
      const pw = await createUser(user);
      const held = await holdConnection(user, pw);
      await admin.call('ACL', 'SETUSER', user, 'nopass');
      const [discovered] = await call(
        keeper.discover({
          entity: {} as any,
          entityRef: ENTITY,
          linked: [{ externalId: user, source: 'annotation', sharedWith: [] }],
        }),
      );
      expect(discovered.scopes).toContain('nopass: any password is accepted');
      const result = await call(
        keeper.rotate(anchorOf(user, discovered.fingerprint), ctx()),
      );
      expect(result.observed).toMatchObject({
        connectionsClosed: 0,
        nopassRemoved: true,
      });
      expect(await held.client.ping()).toBe('PONG');
      await expectLoginFails(user, pw);
      await expectLoginFails(user, 'anything-at-all');
      expect(
        (
          await call(
            keeper.verify(anchorOf(user, discovered.fingerprint), ctx()),
          )
        ).outcome,
      ).toBe('trusted');
      held.client.disconnect();
    });
  });

  describe('persistence', () => {
    it('with an aclfile, the changes survive ACL LOAD (the file is what a restart reads)', async () => {
      const target = await startTestRedis({ acl: 'aclfile' });
      servers.push(target);
      if (target.mode !== 'own-server') {
        // Only acceptable when no own server could be started at all.
        if (server.mode === 'own-server') throw new Error(target.description);
        return;
      }
      if (target.password) secrets.push(target.password);
      const p = makeProvider({ target, id: 'redis-aclfile' });
      const offUser = name('file_off');
      const goneUser = name('file_gone');
      await createUser(offUser, { target });
      const pwGone = await createUser(goneUser, { target });
      const targetAdmin = await adminOf(target);
      // Written to the file before the provider acts, as a real server would be.
      await targetAdmin.call('ACL', 'SAVE');

      const disabled = await call(p.disable(anchorOf(offUser), ctx()));
      expect(disabled.observed).toMatchObject({ aclPersisted: 'acl-save' });
      const revoked = await call(p.revoke(anchorOf(goneUser), ctx()));
      expect(revoked.observed).toMatchObject({ aclPersisted: 'acl-save' });
      await targetAdmin.call('ACL', 'LOAD');
      expect(await aclUser(offUser, targetAdmin)).toMatchObject({ on: false });
      expect(await aclUser(goneUser, targetAdmin)).toBeUndefined();
      const file = await readFile(target.file!, 'utf8');
      expect(file).toContain(`user ${offUser} off`);
      expect(file).not.toContain(goneUser);
      expect(await connectAs(goneUser, pwGone, target)).toMatchObject({
        ok: false,
        message: expect.stringMatching(/^WRONGPASS/),
      });
      targetAdmin.disconnect();
    });

    it('with a config file, the changes are written there (CONFIG REWRITE)', async () => {
      const target = await startTestRedis({ acl: 'config-file' });
      servers.push(target);
      if (target.mode !== 'own-server') {
        // Only acceptable when no own server could be started at all.
        if (server.mode === 'own-server') throw new Error(target.description);
        return;
      }
      if (target.password) secrets.push(target.password);
      const p = makeProvider({ target, id: 'redis-conf' });
      const user = name('conf_off');
      await createUser(user, { target });
      const disabled = await call(p.disable(anchorOf(user), ctx()));
      expect(disabled.observed).toMatchObject({
        aclPersisted: 'config-rewrite',
      });
      expect(await readFile(target.file!, 'utf8')).toMatch(
        new RegExp(`^user ${user} off`, 'm'),
      );
    });

    it('refuses to leave a change that a restart could undo when it cannot tell how ACLs are kept', async () => {
      const limited = name('noconfig_admin');
      const pw = newPassword();
      await admin.call(
        'ACL',
        'SETUSER',
        limited,
        'on',
        `>${pw}`,
        '+acl',
        '+client',
        '+info',
        '+ping',
      );
      createdUsers.push(limited);
      const p = makeProvider({
        user: limited,
        password: pw,
        id: 'redis-noconfig',
        persistAcl: 'auto',
      });
      const user = name('noconfig_target');
      await createUser(user);
      const err = await failure(p.disable(anchorOf(user), ctx()));
      expect(err).toBeInstanceOf(PermanentProviderError);
      expect(err.message).toContain('persistAcl');
      expect(err.message).toContain('NOPERM');
      const explicit = makeProvider({
        user: limited,
        password: pw,
        id: 'redis-noconfig-none',
        persistAcl: 'none',
      });
      const result = await call(explicit.disable(anchorOf(user), ctx()));
      expect(result.observed).toMatchObject({ aclPersisted: 'skipped' });
    });
  });

  describe('errors and refusals', () => {
    it('an unreachable server: verify is unknown, actions throw TransientProviderError naming host:port', async () => {
      const port = await getFreePort();
      const password = newPassword();
      const down = makeProvider({ port, password, id: 'redis-down' });
      const user = name('unreachable');
      const verified = await call(down.verify(anchorOf(user), ctx()));
      expect(verified.outcome).toBe('unknown');
      expect(verified.detail).toContain(`127.0.0.1:${port}`);
      for (const attempt of [
        down.disable(anchorOf(user), ctx()),
        down.revoke(anchorOf(user), ctx()),
        down.rotate(anchorOf(user), ctx()),
        down.discover({
          entity: {} as any,
          entityRef: ENTITY,
          linked: [{ externalId: user, source: 'annotation', sharedWith: [] }],
        }),
      ]) {
        const err = await failure(attempt);
        expect(err).toBeInstanceOf(TransientProviderError);
        expect(err.message).toContain(`127.0.0.1:${port}`);
        expect(err.message).toMatch(/unreachable/);
      }
    });

    it('a wrong admin password is a permanent error (WRONGPASS) that does not repeat the password', async () => {
      // An admin user of its own: the shared server's `default` may be nopass.
      const adminUser = name('pw_admin');
      await createUser(adminUser);
      const wrong = newPassword();
      const bad = makeProvider({
        user: adminUser,
        password: wrong,
        id: 'redis-badpw',
      });
      const err = await failure(bad.disable(anchorOf(name('whatever')), ctx()));
      expect(err).toBeInstanceOf(PermanentProviderError);
      expect(err.message).toContain('WRONGPASS');
      expect(err.message).not.toContain(wrong);
      expect(
        (await call(bad.verify(anchorOf(name('whatever')), ctx()))).outcome,
      ).toBe('unknown');
    });

    it('an admin without a permission gets an error naming what it needs', async () => {
      const limited = name('readonly_admin');
      const pw = newPassword();
      await admin.call(
        'ACL',
        'SETUSER',
        limited,
        'on',
        `>${pw}`,
        '+acl|getuser',
        '+acl|whoami',
        '+client|list',
        '+info',
        '+ping',
      );
      createdUsers.push(limited);
      const weak = makeProvider({
        user: limited,
        password: pw,
        id: 'redis-weak',
      });
      const user = name('weak_target');
      const userPw = await createUser(user);
      const err = await failure(weak.disable(anchorOf(user), ctx()));
      expect(err).toBeInstanceOf(PermanentProviderError);
      expect(err.message).toContain('NOPERM');
      expect(err.message).toContain('+acl');
      await expectLoginWorks(user, userPw);
      // Reading is enough to verify.
      expect((await call(weak.verify(anchorOf(user), ctx()))).outcome).toBe(
        'trusted',
      );
    });

    it('refuses its own admin user and names Redis cannot have; enable never creates', async () => {
      const self = await failure(
        provider.disable(anchorOf(server.user), ctx()),
      );
      expect(self).toBeInstanceOf(PermanentProviderError);
      expect(self.message).toContain('admin user');
      const spaced = await failure(provider.revoke(anchorOf('a b'), ctx()));
      expect(spaced).toBeInstanceOf(PermanentProviderError);
      expect(
        (await call(provider.verify(anchorOf('a b'), ctx()))).outcome,
      ).toBe('unknown');
      const missing = name('never_created');
      const enable = await failure(provider.enable(anchorOf(missing), ctx()));
      expect(enable).toBeInstanceOf(PermanentProviderError);
      expect(enable.message).toContain('never creates');
      for (const action of [
        provider.disable(anchorOf(missing), ctx()),
        provider.terminateSessions(anchorOf(missing), ctx()),
        provider.revoke(anchorOf(missing), ctx()),
        provider.rotate(anchorOf(missing), ctx()),
      ]) {
        expect((await call(action)).changed).toBe(false);
      }
      expect(await aclUser(missing)).toBeUndefined();
    });
  });

  it('never puts a password in a result, an error or a log line', () => {
    expect(outputs.length).toBeGreaterThan(40);
    expect(logLines.length).toBeGreaterThan(10);
    const everything = kit.transcript();
    for (const secret of secrets) {
      expect(everything).not.toContain(secret);
    }
  });
});
