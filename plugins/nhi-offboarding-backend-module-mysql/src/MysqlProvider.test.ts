/*
 * Runs against a real MariaDB server, no mocks: a throwaway server started
 * for this file (or, when that is impossible, the shared server of
 * NHI_TEST_MYSQL_URL; the first line of output says which). Every claim
 * about logins is checked by logging in AS the target account with its
 * password through a separate mysql2 connection.
 */
import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';
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
import { MysqlProvider, mysqlProviderFactory } from './index';
import {
  startTestMariadb,
  type TestMariadb,
} from './testing/startTestMariadb';

jest.setTimeout(60_000);

const SUFFIX = randomBytes(3).toString('hex');
const name = (base: string) => `nhi_${base}_${SUFFIX}`;
const ENTITY = `component:default/payments-api-${SUFFIX}`;

/** Passwords in play, and everything the providers said: none may leak. */
const kit = createProviderTestKit({
  providerId: 'mysql-test',
  entityRef: ENTITY,
  kind: 'db-user',
});
const { logger, secrets, outputs, logLines, ctx, call, failure } = kit;
const anchorOf = (externalId: string, fingerprint?: string) =>
  kit.anchorOf(externalId, { fingerprint });
const newPassword = () => kit.newSecret();

let db: TestMariadb;
let admin: Connection;
let provider: MysqlProvider;
const providers: TrustAnchorProvider[] = [];
const createdAccounts: Array<[string, string]> = [];
const createdRoles: string[] = [];
const openConnections: Connection[] = [];

async function createAccount(user: string, host = '%'): Promise<string> {
  const pw = newPassword();
  await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, host, pw]);
  createdAccounts.push([user, host]);
  return pw;
}

async function createRole(role: string) {
  await admin.query(`CREATE ROLE ${admin.escapeId(role)}`);
  createdRoles.push(role);
}

type Login =
  | { ok: true; conn: Connection; currentUser: string }
  | { ok: false; errno?: number; code?: string; message: string };

/** Logs in AS the account with its password, through a separate connection. */
async function login(user: string, password: string): Promise<Login> {
  try {
    const conn = await createConnection({
      host: db.host,
      port: db.port,
      user,
      password,
      connectTimeout: 5000,
    });
    const [rows] = await conn.query('SELECT CURRENT_USER() AS u');
    openConnections.push(conn);
    return {
      ok: true,
      conn,
      currentUser: (rows as Array<{ u: string }>)[0].u,
    };
  } catch (err) {
    const e = err as { errno?: number; code?: string; message: string };
    return { ok: false, errno: e.errno, code: e.code, message: e.message };
  }
}

async function expectLoginWorks(user: string, password: string) {
  const result = await login(user, password);
  expect(result).toMatchObject({ ok: true });
  if (result.ok) await result.conn.end();
}

async function expectLoginFails(
  user: string,
  password: string,
  errnos: number[],
): Promise<Login> {
  const result = await login(user, password);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(errnos).toContain(result.errno);
  return result;
}

/** A connection held open as the account; collects the errors it receives. */
async function holdConnection(user: string, password: string) {
  const result = await login(user, password);
  if (!result.ok) throw new Error(`login failed: ${result.message}`);
  const errors: Array<{ errno?: number; code?: string }> = [];
  result.conn.on('error', err => errors.push(err as { errno?: number }));
  const [rows] = await result.conn.query('SELECT CONNECTION_ID() AS id');
  return {
    conn: result.conn,
    errors,
    id: (rows as Array<{ id: number }>)[0].id,
    currentUser: result.currentUser,
  };
}

/** True once the connection no longer answers. */
async function isDead(conn: Connection): Promise<boolean> {
  try {
    await conn.query('SELECT 1');
    return false;
  } catch {
    return true;
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise(r => setTimeout(r, 25));
  }
}

async function accountRow(user: string, host = '%') {
  const [rows] = await admin.query(
    "SELECT JSON_VALUE(Priv, '$.account_locked') AS locked FROM mysql.global_priv WHERE User = ? AND Host = ?",
    [user, host],
  );
  const row = (rows as Array<{ locked: string | null }>)[0];
  return row
    ? { locked: row.locked === '1' || row.locked === 'true' }
    : undefined;
}

async function rolesOf(user: string, host = '%'): Promise<string[]> {
  const [rows] = await admin.query(
    'SELECT Role AS role FROM mysql.roles_mapping WHERE User = ? AND Host = ? ORDER BY Role',
    [user, host],
  );
  return (rows as Array<{ role: string }>).map(r => r.role);
}

function makeProvider(
  overrides: Partial<{
    user: string;
    password: string;
    port: number;
    dropUser: boolean;
    id: string;
  }> = {},
): MysqlProvider {
  const p = new MysqlProvider({
    config: {
      id: overrides.id ?? 'mysql-test',
      type: 'mysql',
      connection: {
        host: db.host,
        port: overrides.port ?? db.port,
        user: overrides.user ?? db.user,
        password: overrides.password ?? db.password,
      },
      dropUser: overrides.dropUser,
      connectTimeoutMs: 3000,
      killWaitMs: 5000,
    },
    logger,
  });
  providers.push(p);
  return p;
}

beforeAll(async () => {
  db = await startTestMariadb();
  // Says which server the tests ran against.
  // eslint-disable-next-line no-console
  console.info(`MysqlProvider tests run against: ${db.description}`);
  if (db.password) secrets.push(db.password);
  admin = await createConnection({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
  });
  provider = makeProvider();
});

afterAll(async () => {
  for (const c of openConnections) await c.end().catch(() => {});
  for (const p of providers) await p.close?.();
  if (admin && db?.mode === 'shared-server') {
    // Leave the shared server as we found it.
    for (const [user, host] of createdAccounts) {
      await admin
        .query('DROP USER IF EXISTS ?@?', [user, host])
        .catch(() => {});
    }
    for (const role of createdRoles) {
      await admin
        .query(`DROP ROLE IF EXISTS ${admin.escapeId(role)}`)
        .catch(() => {});
    }
  }
  await admin?.end().catch(() => {});
  await db?.stop();
});

describe('MysqlProvider', () => {
  it('is built by the factory from config with a mysql:// URL', async () => {
    const p = await mysqlProviderFactory({
      id: 'mysql-from-config',
      config: new ConfigReader({
        id: 'mysql-from-config',
        type: 'mysql',
        connection: db.url,
        concurrency: 2,
      }),
      logger,
    });
    providers.push(p);
    expect(p.id).toBe('mysql-from-config');
    expect(p.type).toBe('mysql');
    expect(p.limits).toEqual({ concurrency: 2, propagationWindowMs: 0 });
    expect(provider.limits).toEqual({ concurrency: 4, propagationWindowMs: 0 });
    const user = name('cfg');
    await createAccount(user);
    const anchors = await call(
      p.discover({
        entity: {} as any,
        entityRef: ENTITY,
        linked: [
          { externalId: `${user}@%`, source: 'annotation', sharedWith: [] },
        ],
      }),
    );
    expect(anchors).toEqual([
      expect.objectContaining({ externalId: `${user}@%`, status: 'active' }),
    ]);

    // The object form, as app-config gives it (port may come as a string).
    const fromObject = await mysqlProviderFactory({
      id: 'mysql-from-object',
      config: new ConfigReader({
        id: 'mysql-from-object',
        type: 'mysql',
        connection: {
          host: db.host,
          port: String(db.port),
          user: db.user,
          ...(db.password ? { password: db.password } : {}),
        },
        dropUser: false,
      }),
      logger,
    });
    providers.push(fromObject);
    const verified = await call(
      fromObject.verify!(anchorOf(`${name('nobody')}@%`), ctx()),
    );
    expect(verified.outcome).toBe('untrusted');
    expect(() =>
      MysqlProvider.fromConfig(
        new ConfigReader({
          id: 'x',
          type: 'mysql',
          connection: 'postgres://a@b',
        }),
        { logger },
      ),
    ).toThrow(/mysql:\/\//);
  });

  describe('discover', () => {
    it('reads linked accounts (annotation ids): lock state, roles, privileges, connections, absence', async () => {
      const app = name('disc_app');
      const reporting = name('disc_rep');
      const locked = name('disc_locked');
      const missing = name('disc_missing');
      const role = name('disc_role');
      const pw = await createAccount(app);
      await createAccount(reporting, '10.0.0.%');
      await createAccount(locked);
      await admin.query(`ALTER USER ?@'%' ACCOUNT LOCK`, [locked]);
      await createRole(role);
      await admin.query(`GRANT ${admin.escapeId(role)} TO ?@'%'`, [app]);
      await admin.query(`GRANT PROCESS ON *.* TO ?@'%'`, [app]);
      const held = await holdConnection(app, pw);

      const request = {
        entity: {} as any,
        entityRef: ENTITY,
        linked: [
          {
            externalId: `${app}@%`,
            source: 'annotation' as const,
            sharedWith: ['component:default/other'],
          },
          {
            externalId: `'${reporting}'@'10.0.0.%'`,
            source: 'annotation' as const,
            sharedWith: [],
          },
          { externalId: locked, source: 'annotation' as const, sharedWith: [] },
          {
            externalId: `${missing}@%`,
            source: 'catalog-resource' as const,
            sharedWith: [],
          },
          { externalId: '@%', source: 'annotation' as const, sharedWith: [] },
        ],
      };
      const anchors = await call(provider.discover(request));
      expect(anchors).toHaveLength(5);
      const [a, r, l, m, bad] = anchors;
      expect(a).toMatchObject({
        externalId: `${app}@%`,
        kind: 'db-user',
        status: 'active',
        sharedWith: ['component:default/other'],
      });
      expect(a.scopes).toEqual(
        expect.arrayContaining([`role ${role}`, 'privileges PROCESS on *.*']),
      );
      expect(a.displayName).toContain(`'${app}'@'%'`);
      expect(a.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(a.lastUsedAt).toBeDefined();
      expect(Date.parse(a.lastUsedAt!)).toBeLessThanOrEqual(Date.now());
      expect(r).toMatchObject({ status: 'active' });
      expect(r.displayName).toContain(`'${reporting}'@'10.0.0.%'`);
      expect(r.lastUsedAt).toBeUndefined();
      expect(l).toMatchObject({ externalId: locked, status: 'disabled' });
      expect(m).toMatchObject({ status: 'revoked' });
      expect(m.fingerprint).toBeUndefined();
      expect(bad).toMatchObject({ status: 'unknown' });
      expect(bad.displayName).toContain('user name is empty');

      // Stable across calls; recreated account = new fingerprint (new password time).
      const again = await call(provider.discover(request));
      expect(again[0].fingerprint).toBe(a.fingerprint);
      await held.conn.end();
      await admin.query(`DROP USER ?@'%'`, [app]);
      await new Promise(res => setTimeout(res, 1100));
      await admin.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [
        app,
        newPassword(),
      ]);
      const recreated = await call(provider.discover(request));
      expect(recreated[0].fingerprint).toMatch(/^sha256:/);
      expect(recreated[0].fingerprint).not.toBe(a.fingerprint);
      expect(recreated[0].scopes).toEqual([]);
    });

    it('finds nothing without links: MariaDB keeps no comment on an account', async () => {
      const anchors = await call(
        provider.discover({ entity: {} as any, entityRef: ENTITY, linked: [] }),
      );
      expect(anchors).toEqual([]);
    });
  });

  describe('disable, enable, terminateSessions', () => {
    it('disable refuses new logins (errno 4151) and kills held connections; enable restores login', async () => {
      const user = name('dis_app');
      const pw = await createAccount(user);
      await expectLoginWorks(user, pw);

      const idle = await holdConnection(user, pw);
      const busy = await holdConnection(user, pw);
      const sleeping = busy.conn.query('SELECT SLEEP(30)').then(
        () => undefined,
        (err: { errno?: number; code?: string }) => err,
      );
      await waitFor(async () => {
        const [rows] = await admin.query(
          'SELECT COMMAND AS c FROM information_schema.PROCESSLIST WHERE ID = ?',
          [busy.id],
        );
        return (rows as Array<{ c: string }>)[0]?.c === 'Query';
      });

      const disabled = await call(
        provider.disable(anchorOf(`${user}@%`), ctx()),
      );
      expect(disabled.changed).toBe(true);
      expect(disabled.observed).toMatchObject({
        locked: true,
        wasLocked: false,
        sessionsKilled: 2,
        sessionsRemaining: 0,
      });
      expect(await sleeping).toBeDefined();
      expect(await isDead(idle.conn)).toBe(true);
      expect(await isDead(busy.conn)).toBe(true);
      const refused = await expectLoginFails(user, pw, [4151]);
      expect(refused).toMatchObject({
        message: expect.stringMatching(/account is locked/i),
      });
      expect(await accountRow(user)).toEqual({ locked: true });

      const again = await call(provider.disable(anchorOf(`${user}@%`), ctx()));
      expect(again.changed).toBe(false);
      const verified = await call(
        provider.verify(anchorOf(`${user}@%`), ctx()),
      );
      expect(verified.outcome).toBe('untrusted');
      expect(verified.observed).toMatchObject({
        locked: true,
        liveSessions: 0,
      });

      const enabled = await call(provider.enable(anchorOf(`${user}@%`), ctx()));
      expect(enabled.changed).toBe(true);
      await expectLoginWorks(user, pw);
      expect(
        (await call(provider.enable(anchorOf(`${user}@%`), ctx()))).changed,
      ).toBe(false);
      expect(
        (await call(provider.verify(anchorOf(`${user}@%`), ctx()))).outcome,
      ).toBe('trusted');
    });

    it('terminateSessions kills connections but leaves the account able to log in', async () => {
      const user = name('term_app');
      const pw = await createAccount(user);
      const held = await holdConnection(user, pw);
      const result = await call(
        provider.terminateSessions(anchorOf(`${user}@%`), ctx()),
      );
      expect(result.changed).toBe(true);
      expect(result.observed).toMatchObject({
        sessionsKilled: 1,
        locked: false,
      });
      expect(await isDead(held.conn)).toBe(true);
      await expectLoginWorks(user, pw);
      const verified = await call(
        provider.verify(anchorOf(`${user}@%`), ctx()),
      );
      expect(verified.outcome).toBe('trusted');
      expect(verified.detail).toContain('not locked');
      expect(
        (await call(provider.terminateSessions(anchorOf(`${user}@%`), ctx())))
          .changed,
      ).toBe(false);
    });

    it('kills only the connections of the account, not of another account with the same user name', async () => {
      // From 127.0.0.1 the server picks 'x'@'127.0.0.1' (a literal host) over
      // 'x'@'%', whether or not it resolves the address to localhost.
      const user = name('multi');
      const pwLoopback = await createAccount(user, '127.0.0.1');
      await createAccount(user, '%');
      const held = await holdConnection(user, pwLoopback);
      expect(held.currentUser).toBe(`${user}@127.0.0.1`);

      const wide = await call(provider.disable(anchorOf(`${user}@%`), ctx()));
      expect(wide.observed).toMatchObject({ sessionsKilled: 0 });
      expect(await isDead(held.conn)).toBe(false);
      const narrow = await call(
        provider.disable(anchorOf(`${user}@127.0.0.1`), ctx()),
      );
      expect(narrow.observed).toMatchObject({ sessionsKilled: 1 });
      expect(await isDead(held.conn)).toBe(true);
    });
  });

  describe('removeMemberships', () => {
    it('revokes every granted role, reports which, and is idempotent', async () => {
      const user = name('mem_app');
      const r1 = name('mem_role_a');
      const r2 = name('mem_role_b');
      await createAccount(user);
      await createRole(r1);
      await createRole(r2);
      for (const r of [r1, r2]) {
        await admin.query(`GRANT ${admin.escapeId(r)} TO ?@'%'`, [user]);
      }
      const result = await call(
        provider.removeMemberships(anchorOf(`${user}@%`), ctx()),
      );
      expect(result.changed).toBe(true);
      expect(result.observed?.removedRoles).toEqual([r1, r2]);
      expect(await rolesOf(user)).toEqual([]);
      expect(await accountRow(user)).toEqual({ locked: false });
      expect(
        (await call(provider.removeMemberships(anchorOf(`${user}@%`), ctx())))
          .changed,
      ).toBe(false);
    });
  });

  describe('revoke', () => {
    it('by default locks, kills, revokes roles and drops the account; login fails with 1045; idempotent', async () => {
      const user = name('rev_drop');
      const role = name('rev_drop_role');
      const pw = await createAccount(user);
      await createRole(role);
      await admin.query(`GRANT ${admin.escapeId(role)} TO ?@'%'`, [user]);
      await expectLoginWorks(user, pw);
      const held = await holdConnection(user, pw);
      const [discovered] = await call(
        provider.discover({
          entity: {} as any,
          entityRef: ENTITY,
          linked: [
            { externalId: `${user}@%`, source: 'annotation', sharedWith: [] },
          ],
        }),
      );
      const anchor = anchorOf(`${user}@%`, discovered.fingerprint);

      const result = await call(provider.revoke(anchor, ctx()));
      expect(result.changed).toBe(true);
      expect(result.detail).toContain('dropped it');
      expect(result.observed).toMatchObject({
        exists: false,
        sessionsKilled: 1,
        removedRoles: [role],
        fingerprintMatches: true,
        dropUser: true,
      });
      expect(await isDead(held.conn)).toBe(true);
      expect(await accountRow(user)).toBeUndefined();
      await expectLoginFails(user, pw, [1045]);

      const again = await call(provider.revoke(anchor, ctx()));
      expect(again.changed).toBe(false);
      const verified = await call(provider.verify(anchor, ctx()));
      expect(verified.outcome).toBe('untrusted');
      expect(verified.observed).toMatchObject({
        exists: false,
        liveSessions: 0,
      });
    });

    it('with dropUser false keeps the account locked and replaces its password, so unlocking it does not revive the old one', async () => {
      const keeper = makeProvider({ dropUser: false, id: 'mysql-keep' });
      const user = name('rev_keep');
      const pw = await createAccount(user);
      const held = await holdConnection(user, pw);
      const result = await call(keeper.revoke(anchorOf(`${user}@%`), ctx()));
      expect(result.changed).toBe(true);
      expect(result.detail).toContain('kept');
      expect(result.observed).toMatchObject({
        exists: true,
        locked: true,
        passwordReplaced: true,
        sessionsKilled: 1,
      });
      expect(await isDead(held.conn)).toBe(true);
      expect(await accountRow(user)).toEqual({ locked: true });
      // The server checks the password before the lock: the old one is
      // already wrong (1045), not merely locked (4151).
      await expectLoginFails(user, pw, [1045]);
      // An admin unlocks it: the old password still does not work.
      await admin.query(`ALTER USER ?@'%' ACCOUNT UNLOCK`, [user]);
      await expectLoginFails(user, pw, [1045]);
      await admin.query(`ALTER USER ?@'%' ACCOUNT LOCK`, [user]);
      const again = await call(keeper.revoke(anchorOf(`${user}@%`), ctx()));
      expect(again.changed).toBe(false);
      expect(
        (await call(keeper.verify(anchorOf(`${user}@%`), ctx()))).outcome,
      ).toBe('untrusted');
    });

    it('quotes any account name safely (quotes, backticks, question marks, backslashes, @)', async () => {
      const user = `nhi we'ird"na\`me?\\@x ${SUFFIX}`;
      const pw = await createAccount(user);
      await expectLoginWorks(user, pw);
      const id = `\`${user.replace(/`/g, '``')}\`@\`%\``;
      expect((await call(provider.disable(anchorOf(id), ctx()))).changed).toBe(
        true,
      );
      await expectLoginFails(user, pw, [4151]);
      expect((await call(provider.enable(anchorOf(id), ctx()))).changed).toBe(
        true,
      );
      await expectLoginWorks(user, pw);
      expect((await call(provider.revoke(anchorOf(id), ctx()))).changed).toBe(
        true,
      );
      expect(await accountRow(user)).toBeUndefined();
    });
  });

  describe('errors and refusals', () => {
    it('an unreachable server: verify is unknown, actions throw TransientProviderError naming host:port', async () => {
      const port = await getFreePort();
      const password = newPassword();
      const down = makeProvider({ port, password, id: 'mysql-down' });
      const id = `${name('unreachable')}@%`;

      const verified = await call(down.verify(anchorOf(id), ctx()));
      expect(verified.outcome).toBe('unknown');
      expect(verified.detail).toContain(`127.0.0.1:${port}`);
      expect(verified.observed.error).toBeDefined();

      for (const attempt of [
        down.disable(anchorOf(id), ctx()),
        down.revoke(anchorOf(id), ctx()),
        down.discover({ entity: {} as any, entityRef: ENTITY, linked: [] }),
      ]) {
        const err = await failure(attempt);
        expect(err).toBeInstanceOf(TransientProviderError);
        expect(err.message).toContain(`127.0.0.1:${port}`);
        expect(err.message).toMatch(/unreachable/);
      }
    });

    it('an admin without a privilege gets an error naming it', async () => {
      const limited = name('lim_admin');
      const limitedPw = await createAccount(limited);
      await admin.query(`GRANT SELECT ON mysql.* TO ?@'%'`, [limited]);
      await admin.query(`GRANT PROCESS ON *.* TO ?@'%'`, [limited]);
      const target = name('lim_target');
      const targetPw = await createAccount(target);
      const role = name('lim_role');
      await createRole(role);
      await admin.query(`GRANT ${admin.escapeId(role)} TO ?@'%'`, [target]);
      const weak = makeProvider({
        user: limited,
        password: limitedPw,
        id: 'mysql-weak',
      });

      const disable = await failure(
        weak.disable(anchorOf(`${target}@%`), ctx()),
      );
      expect(disable).toBeInstanceOf(PermanentProviderError);
      expect(disable.message).toContain('1227');
      expect(disable.message).toContain('CREATE USER');

      const roles = await failure(
        weak.removeMemberships(anchorOf(`${target}@%`), ctx()),
      );
      expect(roles).toBeInstanceOf(PermanentProviderError);
      expect(roles.message).toContain('ADMIN OPTION');

      const held = await holdConnection(target, targetPw);
      const kill = await failure(
        weak.terminateSessions(anchorOf(`${target}@%`), ctx()),
      );
      expect(kill).toBeInstanceOf(PermanentProviderError);
      expect(kill.message).toContain('1095');
      expect(kill.message).toContain('CONNECTION ADMIN');
      expect(await isDead(held.conn)).toBe(false);

      // Reading needs no more than SELECT and PROCESS: verify still answers.
      expect(
        (await call(weak.verify(anchorOf(`${target}@%`), ctx()))).outcome,
      ).toBe('trusted');

      // Without PROCESS the processlist hides other accounts: no false "untrusted".
      await admin.query(`REVOKE PROCESS ON *.* FROM ?@'%'`, [limited]);
      const blind = makeProvider({
        user: limited,
        password: limitedPw,
        id: 'mysql-blind',
      });
      await admin.query(`ALTER USER ?@'%' ACCOUNT LOCK`, [target]);
      const unseen = await call(blind.verify(anchorOf(`${target}@%`), ctx()));
      expect(unseen.outcome).toBe('unknown');
      expect(unseen.detail).toContain('PROCESS');
      const blindKill = await failure(
        blind.terminateSessions(anchorOf(`${target}@%`), ctx()),
      );
      expect(blindKill).toBeInstanceOf(PermanentProviderError);
      expect(blindKill.message).toContain('PROCESS');
      await held.conn.end();
    });

    it('a wrong admin password is a permanent error that does not repeat the password', async () => {
      const wrong = newPassword();
      const bad = makeProvider({ password: wrong, id: 'mysql-badpw' });
      const attempt = bad.disable(anchorOf(`${name('whatever')}@%`), ctx());
      if (!db.passwordsEnforced) {
        // The shared server's admin has no password; a wrong one still fails.
        await failure(attempt);
        return;
      }
      const err = await failure(attempt);
      expect(err).toBeInstanceOf(PermanentProviderError);
      expect(err.message).toContain('1045');
      expect(err.message).toContain('could not log in');
      expect(err.message).not.toContain(wrong);
    });

    it('refuses its own admin account, built-in accounts and roles; enable never creates', async () => {
      const [me] = (
        await admin.query('SELECT CURRENT_USER() AS u')
      )[0] as Array<{
        u: string;
      }>;
      const self = await failure(provider.disable(anchorOf(me.u), ctx()));
      expect(self).toBeInstanceOf(PermanentProviderError);
      expect(self.message).toContain('admin account');

      const root = await failure(provider.revoke(anchorOf('root@%'), ctx()));
      expect(root).toBeInstanceOf(PermanentProviderError);
      expect(root.message).toContain('built-in');

      const role = name('ref_role');
      await createRole(role);
      const asRole = await failure(
        provider.disable(anchorOf(`${role}@`), ctx()),
      );
      expect(asRole).toBeInstanceOf(PermanentProviderError);
      expect(asRole.message).toContain('role');

      const invalid = await failure(
        provider.revoke(anchorOf("'unclosed@%"), ctx()),
      );
      expect(invalid).toBeInstanceOf(PermanentProviderError);
      expect(
        (await call(provider.verify(anchorOf("'unclosed@%"), ctx()))).outcome,
      ).toBe('unknown');

      const missing = `${name('never_created')}@%`;
      const enable = await failure(provider.enable(anchorOf(missing), ctx()));
      expect(enable).toBeInstanceOf(PermanentProviderError);
      expect(enable.message).toContain('never creates');
      // Acting on a missing account is idempotent, not an error.
      for (const action of [
        provider.disable(anchorOf(missing), ctx()),
        provider.terminateSessions(anchorOf(missing), ctx()),
        provider.removeMemberships(anchorOf(missing), ctx()),
        provider.revoke(anchorOf(missing), ctx()),
      ]) {
        expect((await call(action)).changed).toBe(false);
      }
    });
  });

  it('never puts a password in a result, an error or a log line', () => {
    expect(outputs.length).toBeGreaterThan(40);
    expect(logLines.length).toBeGreaterThan(10);
    const everything = kit.transcript();
    for (const secret of secrets) {
      expect(everything).not.toContain(secret);
    }
    // Nor a password hash of the server.
    expect(everything).not.toMatch(/\*[0-9A-F]{40}/);
  });
});
