/*
 * Runs against a real PostgreSQL server, no mocks: a throwaway cluster with
 * SCRAM authentication started for this file (or, when that is impossible,
 * the shared server of NHI_TEST_PG_URL; the first line of output says which).
 * Every claim about logins is checked by logging in AS the target role with
 * its password through a separate `pg` client.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
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
import { PostgresProvider, postgresProviderFactory } from './index';
import {
  startTestPostgres,
  type TestPostgres,
} from './testing/startTestPostgres';

jest.setTimeout(30_000);

const SUFFIX = randomBytes(3).toString('hex');
const name = (base: string) => `nhi_${base}_${SUFFIX}`;
const ENTITY = `component:default/payments-api-${SUFFIX}`;

/** Secrets in play, and everything the providers said: none may leak. */
const kit = createProviderTestKit({
  providerId: 'pg-test',
  entityRef: ENTITY,
  kind: 'db-user',
});
const { logger, secrets, outputs, logLines, ctx, call, failure } = kit;
const anchorOf = (externalId: string, fingerprint?: string) =>
  kit.anchorOf(externalId, { fingerprint });
const newPassword = () => kit.newSecret();

let pg: TestPostgres;
let admin: Client;
let provider: PostgresProvider;
const providers: TrustAnchorProvider[] = [];
const createdRoles: string[] = [];
const createdDatabases: string[] = [];
const openClients: Client[] = [];

const q = (ident: string) => admin.escapeIdentifier(ident);
const lit = (text: string) => admin.escapeLiteral(text);

async function createRole(
  role: string,
  options: { login?: boolean; attrs?: string; comment?: string } = {},
): Promise<string> {
  const pw = newPassword();
  await admin.query(
    `CREATE ROLE ${q(role)} ${options.login === false ? 'NOLOGIN' : 'LOGIN'} ${
      options.attrs ?? ''
    } PASSWORD ${lit(pw)}`,
  );
  createdRoles.push(role);
  if (options.comment) {
    await admin.query(`COMMENT ON ROLE ${q(role)} IS ${lit(options.comment)}`);
  }
  return pw;
}

async function createGroup(group: string) {
  await admin.query(`CREATE ROLE ${q(group)} NOLOGIN`);
  createdRoles.push(group);
}

type Login =
  | { ok: true; client: Client }
  | { ok: false; code?: string; message: string };

/** Logs in AS the role with its password, through a separate client. */
async function login(role: string, password: string): Promise<Login> {
  const client = new Client({
    host: pg.host,
    port: pg.port,
    database: pg.database,
    user: role,
    password,
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
    const res = await client.query('SELECT current_user AS u');
    expect(res.rows[0].u).toBe(role);
    openClients.push(client);
    return { ok: true, client };
  } catch (err) {
    await client.end().catch(() => {});
    return {
      ok: false,
      code: (err as { code?: string }).code,
      message: (err as Error).message,
    };
  }
}

async function expectLoginWorks(role: string, password: string) {
  const result = await login(role, password);
  expect(result).toMatchObject({ ok: true });
  if (result.ok) await result.client.end();
}

async function expectLoginFails(
  role: string,
  password: string,
  codes: string[],
): Promise<string | undefined> {
  const result = await login(role, password);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(codes).toContain(result.code);
  return result.ok ? undefined : result.code;
}

/** A session held open as the role; collects the errors it receives. */
async function holdSession(role: string, password: string) {
  const result = await login(role, password);
  if (!result.ok) throw new Error(`login failed: ${result.message}`);
  const errors: Array<{ code?: string }> = [];
  result.client.on('error', err => errors.push(err as { code?: string }));
  const pid = (await result.client.query('SELECT pg_backend_pid() AS pid'))
    .rows[0].pid as number;
  return { client: result.client, errors, pid };
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 3000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise(r => setTimeout(r, 25));
  }
}

async function roleRow(role: string) {
  const res = await admin.query(
    'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1',
    [role],
  );
  return res.rows[0] as { rolcanlogin: boolean } | undefined;
}

async function membershipsOf(role: string): Promise<string[]> {
  const res = await admin.query(
    `SELECT g.rolname FROM pg_auth_members m
       JOIN pg_roles g ON g.oid = m.roleid
       JOIN pg_roles r ON r.oid = m.member
      WHERE r.rolname = $1 ORDER BY 1`,
    [role],
  );
  return res.rows.map(r => r.rolname);
}

function makeProvider(
  overrides: Partial<{
    user: string;
    password: string;
    port: number;
    dropRole: boolean;
    id: string;
  }> = {},
): PostgresProvider {
  const p = new PostgresProvider({
    config: {
      id: overrides.id ?? 'pg-test',
      type: 'postgres',
      connection: {
        host: pg.host,
        port: overrides.port ?? pg.port,
        user: overrides.user ?? pg.user,
        password: overrides.password ?? pg.password,
        database: pg.database,
      },
      dropRole: overrides.dropRole,
      connectTimeoutMs: 3000,
    },
    logger,
  });
  providers.push(p);
  return p;
}

beforeAll(async () => {
  pg = await startTestPostgres();
  // Says which server the tests ran against.
  // eslint-disable-next-line no-console
  console.info(`PostgresProvider tests run against: ${pg.description}`);
  if (pg.password) secrets.push(pg.password);
  admin = new Client({
    host: pg.host,
    port: pg.port,
    user: pg.user,
    password: pg.password,
    database: pg.database,
  });
  await admin.connect();
  provider = makeProvider();
});

afterAll(async () => {
  for (const c of openClients) await c.end().catch(() => {});
  for (const p of providers) await p.close?.();
  if (admin && pg?.mode === 'shared-server') {
    // Leave the shared server as we found it.
    for (const db of createdDatabases) {
      await admin.query(`DROP DATABASE IF EXISTS ${q(db)} WITH (FORCE)`);
    }
    for (const role of [...createdRoles].reverse()) {
      const exists = await roleRow(role);
      if (!exists) continue;
      await admin.query(`DROP OWNED BY ${q(role)}`).catch(() => {});
      await admin.query(`DROP ROLE IF EXISTS ${q(role)}`).catch(() => {});
    }
  }
  await admin?.end().catch(() => {});
  await pg?.stop();
});

describe('PostgresProvider', () => {
  it('is built by the factory from config with a connection string', async () => {
    const p = await postgresProviderFactory({
      id: 'pg-from-config',
      config: new ConfigReader({
        id: 'pg-from-config',
        type: 'postgres',
        connection: pg.connectionString,
        concurrency: 2,
      }),
      logger,
    });
    providers.push(p);
    expect(p.id).toBe('pg-from-config');
    expect(p.type).toBe('postgres');
    expect(p.limits).toEqual({ concurrency: 2, propagationWindowMs: 0 });
    expect(provider.limits).toEqual({ concurrency: 4, propagationWindowMs: 0 });
    const anchors = await call(
      p.discover({
        entity: {} as any,
        entityRef: ENTITY,
        linked: [{ externalId: pg.user, source: 'annotation', sharedWith: [] }],
      }),
    );
    expect(anchors).toEqual([
      expect.objectContaining({ externalId: pg.user, status: 'active' }),
    ]);

    // The object form, as app-config gives it (port may come as a string).
    const fromObject = await postgresProviderFactory({
      id: 'pg-from-object',
      config: new ConfigReader({
        id: 'pg-from-object',
        type: 'postgres',
        connection: {
          host: pg.host,
          port: String(pg.port),
          user: pg.user,
          ...(pg.password ? { password: pg.password } : {}),
          database: pg.database,
        },
      }),
      logger,
    });
    providers.push(fromObject);
    const viaObject = await call(
      fromObject.verify!(anchorOf(name('nobody')), ctx()),
    );
    expect(viaObject.outcome).toBe('untrusted');
  });

  describe('discover', () => {
    it('reads linked roles (annotation ids): login, expiry, memberships, sessions, absence', async () => {
      const app = name('disc_app');
      const group = name('disc_grp');
      const nologin = name('disc_nologin');
      const missing = name('disc_missing');
      const pw = await createRole(app, {
        attrs: "VALID UNTIL '2099-01-01 00:00:00+00'",
      });
      await createGroup(group);
      await admin.query(`GRANT ${q(group)} TO ${q(app)}`);
      await createRole(nologin, { login: false });
      const held = await holdSession(app, pw);

      const request = {
        entity: {} as any,
        entityRef: ENTITY,
        linked: [
          {
            externalId: app,
            source: 'annotation' as const,
            sharedWith: ['component:default/other'],
          },
          {
            externalId: nologin,
            source: 'annotation' as const,
            sharedWith: [],
          },
          {
            externalId: missing,
            source: 'catalog-resource' as const,
            sharedWith: [],
          },
        ],
      };
      const anchors = await call(provider.discover(request));
      expect(anchors).toHaveLength(3);
      const [a, n, m] = anchors;
      expect(a).toMatchObject({
        externalId: app,
        kind: 'db-user',
        status: 'active',
        expiresAt: '2099-01-01T00:00:00.000Z',
        sharedWith: ['component:default/other'],
        scopes: [`member of ${group}`],
      });
      expect(a.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(a.lastUsedAt).toBeDefined();
      expect(Date.parse(a.lastUsedAt!)).toBeLessThanOrEqual(Date.now());
      expect(n).toMatchObject({ externalId: nologin, status: 'disabled' });
      expect(m).toMatchObject({ externalId: missing, status: 'revoked' });
      expect(m.fingerprint).toBeUndefined();

      // Stable across calls; a role dropped and created again is a new anchor.
      const again = await call(provider.discover(request));
      expect(again[0].fingerprint).toBe(a.fingerprint);
      await held.client.end();
      await admin.query(`DROP ROLE ${q(app)}`);
      await createRole(app);
      const recreated = await call(provider.discover(request));
      expect(recreated[0].fingerprint).toMatch(/^sha256:/);
      expect(recreated[0].fingerprint).not.toBe(a.fingerprint);
      expect(recreated[0].lastUsedAt).toBeUndefined();
    });

    it('finds roles whose COMMENT ON ROLE mentions the entity ref', async () => {
      const byFullRef = name('cmt_full');
      const byShortRef = name('cmt_short');
      const otherEntity = name('cmt_v2');
      await createRole(byFullRef, { comment: `backstage:${ENTITY}` });
      await createRole(byShortRef, {
        login: false,
        comment: `Used by Component:payments-api-${SUFFIX}.`,
      });
      await createRole(otherEntity, { comment: `backstage:${ENTITY}-v2` });

      const anchors = await call(
        provider.discover({ entity: {} as any, entityRef: ENTITY, linked: [] }),
      );
      const names = anchors.map(x => x.externalId).sort();
      expect(names).toEqual([byFullRef, byShortRef].sort());
      const full = anchors.find(x => x.externalId === byFullRef)!;
      expect(full).toMatchObject({ status: 'active', kind: 'db-user' });
      expect(full.displayName).toContain('role comment');
      expect(anchors.find(x => x.externalId === byShortRef)!.status).toBe(
        'disabled',
      );
    });
  });

  describe('disable, enable, terminateSessions', () => {
    it('disable stops new logins (28000) and ends held sessions (57P01); enable restores login', async () => {
      const role = name('dis_app');
      const pw = await createRole(role);
      await expectLoginWorks(role, pw);

      const idle = await holdSession(role, pw);
      const busy = await holdSession(role, pw);
      const sleeping = busy.client.query('SELECT pg_sleep(30)').then(
        () => undefined,
        (err: { code?: string }) => err,
      );
      await waitFor(async () => {
        const res = await admin.query(
          'SELECT state FROM pg_stat_activity WHERE pid = $1',
          [busy.pid],
        );
        return res.rows[0]?.state === 'active';
      });

      const disabled = await call(provider.disable(anchorOf(role), ctx()));
      expect(disabled.changed).toBe(true);
      expect(disabled.observed).toMatchObject({
        canLogin: false,
        wasLogin: true,
        sessionsTerminated: 2,
        sessionsRemaining: 0,
      });
      expect((await sleeping)?.code).toBe('57P01');
      await waitFor(() => idle.errors.length > 0);
      expect(idle.errors[0].code).toBe('57P01');
      await expectLoginFails(role, pw, ['28000']);
      expect((await roleRow(role))?.rolcanlogin).toBe(false);

      const again = await call(provider.disable(anchorOf(role), ctx()));
      expect(again.changed).toBe(false);
      const verified = await call(provider.verify(anchorOf(role), ctx()));
      expect(verified.outcome).toBe('untrusted');
      expect(verified.observed).toMatchObject({
        exists: true,
        canLogin: false,
        liveSessions: 0,
      });

      const enabled = await call(provider.enable(anchorOf(role), ctx()));
      expect(enabled.changed).toBe(true);
      await expectLoginWorks(role, pw);
      expect((await call(provider.enable(anchorOf(role), ctx()))).changed).toBe(
        false,
      );
      expect((await call(provider.verify(anchorOf(role), ctx()))).outcome).toBe(
        'trusted',
      );
    });

    it('terminateSessions ends sessions but leaves login; verify follows the sessions', async () => {
      const role = name('term_app');
      const pw = await createRole(role);
      const held = await holdSession(role, pw);

      const ended = await call(
        provider.terminateSessions(anchorOf(role), ctx()),
      );
      expect(ended.changed).toBe(true);
      expect(ended.observed).toMatchObject({ sessionsTerminated: 1 });
      await waitFor(() => held.errors.length > 0);
      expect(held.errors[0].code).toBe('57P01');
      await expectLoginWorks(role, pw);
      const none = await call(
        provider.terminateSessions(anchorOf(role), ctx()),
      );
      expect(none.changed).toBe(false);

      // NOLOGIN set behind the provider's back, a session still open: trusted.
      const held2 = await holdSession(role, pw);
      await admin.query(`ALTER ROLE ${q(role)} NOLOGIN`);
      const stillOpen = await call(provider.verify(anchorOf(role), ctx()));
      expect(stillOpen.outcome).toBe('trusted');
      expect(stillOpen.observed).toMatchObject({
        canLogin: false,
        liveSessions: 1,
      });
      expect(stillOpen.detail).toContain('1 live session');
      await call(provider.terminateSessions(anchorOf(role), ctx()));
      await waitFor(() => held2.errors.length > 0);
      expect((await call(provider.verify(anchorOf(role), ctx()))).outcome).toBe(
        'untrusted',
      );
    });

    it('verify: an expired password does not make a LOGIN role untrusted', async () => {
      const role = name('expired');
      await createRole(role, { attrs: "VALID UNTIL '2001-01-01 00:00:00+00'" });
      const result = await call(provider.verify(anchorOf(role), ctx()));
      expect(result.outcome).toBe('trusted');
      expect(result.observed).toMatchObject({
        canLogin: true,
        validUntilPast: true,
        validUntil: '2001-01-01T00:00:00.000Z',
      });
    });
  });

  describe('removeMemberships', () => {
    it('revokes every membership, reports which, and is idempotent', async () => {
      const role = name('mem_app');
      const g1 = name('mem_grp_a');
      const g2 = name('mem_grp_b');
      await createRole(role);
      await createGroup(g1);
      await createGroup(g2);
      await admin.query(`GRANT ${q(g1)}, ${q(g2)} TO ${q(role)}`);

      const result = await call(
        provider.removeMemberships(anchorOf(role), ctx()),
      );
      expect(result.changed).toBe(true);
      expect(result.observed?.removedMemberships).toEqual([g1, g2]);
      expect(result.detail).toContain(g1);
      expect(await membershipsOf(role)).toEqual([]);
      expect((await roleRow(role))?.rolcanlogin).toBe(true);
      const again = await call(
        provider.removeMemberships(anchorOf(role), ctx()),
      );
      expect(again.changed).toBe(false);
    });
  });

  describe('revoke', () => {
    it('by default keeps the role: NOLOGIN, sessions ended, memberships gone; idempotent', async () => {
      const role = name('rev_keep');
      const group = name('rev_keep_grp');
      const pw = await createRole(role);
      await createGroup(group);
      await admin.query(`GRANT ${q(group)} TO ${q(role)}`);
      const held = await holdSession(role, pw);

      const result = await call(provider.revoke(anchorOf(role), ctx()));
      expect(result.changed).toBe(true);
      expect(result.detail).toContain('kept');
      expect(result.observed).toMatchObject({
        removedMemberships: [group],
        sessionsTerminated: 1,
        exists: true,
        canLogin: false,
      });
      await waitFor(() => held.errors.length > 0);
      expect(held.errors[0].code).toBe('57P01');
      // The kept role has no password any more: SCRAM refuses the password
      // (28P01) before the NOLOGIN check (28000); TRUST checks no password.
      await expectLoginFails(
        role,
        pw,
        pg.passwordsEnforced ? ['28P01'] : ['28000'],
      );
      expect(await membershipsOf(role)).toEqual([]);
      expect(await roleRow(role)).toEqual({ rolcanlogin: false });

      const again = await call(provider.revoke(anchorOf(role), ctx()));
      expect(again.changed).toBe(false);
      expect((await call(provider.verify(anchorOf(role), ctx()))).outcome).toBe(
        'untrusted',
      );
    });

    it('by default also removes the password: LOGIN set again by an admin does not revive the old one', async () => {
      const role = name('rev_nopw');
      const pw = await createRole(role);
      await expectLoginWorks(role, pw);

      const result = await call(provider.revoke(anchorOf(role), ctx()));
      expect(result.changed).toBe(true);
      expect(result.detail).toContain('removed its password');
      expect(result.observed).toMatchObject({
        exists: true,
        canLogin: false,
        passwordCleared: true,
        // The test admin is a superuser, so pg_authid shows it.
        hadPassword: true,
      });
      const stored = await admin.query(
        'SELECT rolpassword IS NULL AS cleared FROM pg_authid WHERE rolname = $1',
        [role],
      );
      expect(stored.rows[0].cleared).toBe(true);

      // An admin sets LOGIN again: the old password does not work.
      await admin.query(`ALTER ROLE ${q(role)} LOGIN`);
      if (pg.passwordsEnforced) {
        await expectLoginFails(role, pw, ['28P01']);
      }
      await admin.query(`ALTER ROLE ${q(role)} NOLOGIN`);

      // Nothing observable is left to change: a repeat says so.
      const again = await call(provider.revoke(anchorOf(role), ctx()));
      expect(again.changed).toBe(false);
      expect(again.observed).toMatchObject({ hadPassword: false });
    });

    it('with dropRole reassigns its objects, drops the role, and login fails', async () => {
      const dropper = await postgresProviderFactory({
        id: 'pg-drop',
        config: new ConfigReader({
          id: 'pg-drop',
          type: 'postgres',
          connection: pg.connectionString,
          dropRole: true,
        }),
        logger,
      });
      providers.push(dropper);
      const role = name('rev_drop');
      const group = name('rev_drop_grp');
      const table = name('rev_drop_tbl');
      const pw = await createRole(role);
      await createGroup(group);
      await admin.query(`GRANT ${q(group)} TO ${q(role)}`);
      await admin.query(`CREATE TABLE ${q(table)} (id int)`);
      await admin.query(`ALTER TABLE ${q(table)} OWNER TO ${q(role)}`);
      await expectLoginWorks(role, pw);
      const held = await holdSession(role, pw);

      const [discovered] = await call(
        dropper.discover({
          entity: {} as any,
          entityRef: ENTITY,
          linked: [{ externalId: role, source: 'annotation', sharedWith: [] }],
        }),
      );
      const anchor = anchorOf(role, discovered.fingerprint);
      const result = await call(dropper.revoke!(anchor, ctx()));
      expect(result.changed).toBe(true);
      expect(result.detail).toContain(`database "${pg.database}" only`);
      expect(result.detail).toContain('dropped the role');
      expect(result.observed).toMatchObject({
        exists: false,
        removedMemberships: [group],
        reassignedTo: pg.user,
        database: pg.database,
        fingerprintMatches: true,
      });
      await waitFor(() => held.errors.length > 0);
      expect(held.errors[0].code).toBe('57P01');
      expect(await roleRow(role)).toBeUndefined();
      expect(await membershipsOf(role)).toEqual([]);
      const owner = await admin.query(
        'SELECT tableowner FROM pg_tables WHERE tablename = $1',
        [table],
      );
      expect(owner.rows[0].tableowner).toBe(pg.user);
      // SCRAM answers 28P01 for a missing role; TRUST says 28000.
      await expectLoginFails(
        role,
        pw,
        pg.passwordsEnforced ? ['28P01'] : ['28000'],
      );

      const again = await call(dropper.revoke!(anchor, ctx()));
      expect(again.changed).toBe(false);
      const verified = await call(dropper.verify!(anchor, ctx()));
      expect(verified.outcome).toBe('untrusted');
      expect(verified.observed).toMatchObject({ exists: false });
      await admin.query(`DROP TABLE ${q(table)}`);
    });

    it('with dropRole refuses cleanly when the role owns objects in another database', async () => {
      const dropper = makeProvider({ dropRole: true, id: 'pg-drop-2' });
      const role = name('rev_otherdb');
      const db = name('otherdb');
      const table = name('otherdb_tbl');
      await createRole(role);
      await admin.query(`CREATE DATABASE ${q(db)}`);
      createdDatabases.push(db);
      const other = new Client({
        host: pg.host,
        port: pg.port,
        user: pg.user,
        password: pg.password,
        database: db,
      });
      await other.connect();
      await other.query(`CREATE TABLE ${q(table)} (id int)`);
      await other.query(`ALTER TABLE ${q(table)} OWNER TO ${q(role)}`);
      await other.end();

      const err = await failure(dropper.revoke(anchorOf(role), ctx()));
      expect(err).toBeInstanceOf(PermanentProviderError);
      expect(err.message).toContain('2BP01');
      expect(err.message).toContain(db);
      // Everything before the drop happened and stays done.
      expect(await roleRow(role)).toEqual({ rolcanlogin: false });
      await admin.query(`DROP DATABASE ${q(db)}`);
      const retried = await call(dropper.revoke(anchorOf(role), ctx()));
      expect(retried.changed).toBe(true);
      expect(await roleRow(role)).toBeUndefined();
    });

    it('quotes any role name safely (quotes, dots, question marks, backslashes)', async () => {
      const dropper = makeProvider({ dropRole: true, id: 'pg-drop-3' });
      const role = `nhi we?ird "na.me" \\? ${SUFFIX}`;
      const pw = await createRole(role);
      await expectLoginWorks(role, pw);
      expect((await call(dropper.disable(anchorOf(role), ctx()))).changed).toBe(
        true,
      );
      await expectLoginFails(role, pw, ['28000']);
      expect((await call(dropper.enable(anchorOf(role), ctx()))).changed).toBe(
        true,
      );
      await expectLoginWorks(role, pw);
      expect((await call(dropper.revoke(anchorOf(role), ctx()))).changed).toBe(
        true,
      );
      expect(await roleRow(role)).toBeUndefined();
    });
  });

  describe('errors and refusals', () => {
    it('an unreachable server: verify is unknown, actions throw TransientProviderError naming host:port', async () => {
      const port = await getFreePort();
      const password = newPassword();
      const down = makeProvider({ port, password, id: 'pg-down' });
      const role = name('unreachable');

      const verified = await call(down.verify(anchorOf(role), ctx()));
      expect(verified.outcome).toBe('unknown');
      expect(verified.detail).toContain(`127.0.0.1:${port}`);
      expect(verified.observed.error).toBeDefined();

      for (const attempt of [
        down.disable(anchorOf(role), ctx()),
        down.revoke(anchorOf(role), ctx()),
        down.discover({ entity: {} as any, entityRef: ENTITY, linked: [] }),
      ]) {
        const err = await failure(attempt);
        expect(err).toBeInstanceOf(TransientProviderError);
        expect(err.message).toContain(`127.0.0.1:${port}`);
        expect(err.message).toMatch(/unreachable/);
      }
    });

    it('an admin without CREATEROLE gets an error naming the privilege', async () => {
      const limited = name('lim_admin');
      const limitedPw = await createRole(limited);
      const target = name('lim_target');
      const group = name('lim_grp');
      await createRole(target);
      await createGroup(group);
      await admin.query(`GRANT ${q(group)} TO ${q(target)}`);
      const weak = makeProvider({
        user: limited,
        password: limitedPw,
        id: 'pg-weak',
      });

      const disable = await failure(weak.disable(anchorOf(target), ctx()));
      expect(disable).toBeInstanceOf(PermanentProviderError);
      expect(disable.message).toContain('42501');
      expect(disable.message).toContain('CREATEROLE');

      const revoke = await failure(
        weak.removeMemberships(anchorOf(target), ctx()),
      );
      expect(revoke).toBeInstanceOf(PermanentProviderError);
      expect(revoke.message).toContain('ADMIN OPTION');

      // Reading needs no privilege: verify still answers.
      expect((await call(weak.verify(anchorOf(target), ctx()))).outcome).toBe(
        'trusted',
      );
    });

    it('a CREATEROLE admin cannot touch a superuser: the error names SUPERUSER', async () => {
      const limited = name('cr_admin');
      const limitedPw = await createRole(limited, { attrs: 'CREATEROLE' });
      await admin.query(`GRANT pg_signal_backend TO ${q(limited)}`);
      const su = name('su_target');
      const suPw = await createRole(su, { attrs: 'SUPERUSER' });
      const held = await holdSession(su, suPw);
      const weak = makeProvider({
        user: limited,
        password: limitedPw,
        id: 'pg-cr',
      });

      const terminate = await failure(
        weak.terminateSessions(anchorOf(su), ctx()),
      );
      expect(terminate).toBeInstanceOf(PermanentProviderError);
      expect(terminate.message).toContain('SUPERUSER');
      expect(terminate.message).toContain('pg_signal_backend');
      const disable = await failure(weak.disable(anchorOf(su), ctx()));
      expect(disable).toBeInstanceOf(PermanentProviderError);
      expect(disable.message).toContain('SUPERUSER');
      await held.client.end();
    });

    it('a wrong admin password is a permanent error that does not repeat the password', async () => {
      const wrong = newPassword();
      const bad = makeProvider({ password: wrong, id: 'pg-badpw' });
      const attempt = bad.disable(anchorOf(name('whatever')), ctx());
      if (!pg.passwordsEnforced) {
        // The shared server trusts local logins: no password is checked.
        await call(attempt);
        return;
      }
      const err = await failure(attempt);
      expect(err).toBeInstanceOf(PermanentProviderError);
      expect(err.message).toContain('28P01');
      expect(err.message).not.toContain(wrong);
    });

    it('refuses its own admin role and names PostgreSQL cannot match; enable never creates', async () => {
      const self = await failure(provider.disable(anchorOf(pg.user), ctx()));
      expect(self).toBeInstanceOf(PermanentProviderError);
      expect(self.message).toContain('admin account');

      const long = 'x'.repeat(64);
      const tooLong = await failure(provider.revoke(anchorOf(long), ctx()));
      expect(tooLong).toBeInstanceOf(PermanentProviderError);
      expect(tooLong.message).toContain('63 bytes');
      expect((await call(provider.verify(anchorOf(long), ctx()))).outcome).toBe(
        'unknown',
      );

      const missing = name('never_created');
      const enable = await failure(provider.enable(anchorOf(missing), ctx()));
      expect(enable).toBeInstanceOf(PermanentProviderError);
      expect(enable.message).toContain('never creates');
      expect(await roleRow(missing)).toBeUndefined();
      // Acting on a missing role is idempotent, not an error.
      for (const action of [
        provider.disable(anchorOf(missing), ctx()),
        provider.terminateSessions(anchorOf(missing), ctx()),
        provider.removeMemberships(anchorOf(missing), ctx()),
        provider.revoke(anchorOf(missing), ctx()),
      ]) {
        expect((await call(action)).changed).toBe(false);
      }
      expect(await roleRow(missing)).toBeUndefined();
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
