/*
 * Runs against a real OpenLDAP slapd 2.5 that this file starts (mdb,
 * ppolicy with lockout, lastbind, the lock ACL), no mocks. Every claim about
 * binds is checked by binding AS the service account with its password
 * through a separate ldapts client.
 */
import { randomBytes } from 'node:crypto';
import { Attribute, Change, Client } from 'ldapts';
import { ConfigReader } from '@backstage/config';
import {
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import {
  createProviderTestKit,
  getFreePort,
} from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';
import { LdapProvider, ldapProviderFactory } from './index';
import type { LdapProviderConfig } from './config';
import {
  startTestSlapd,
  type TestSlapd,
} from './testing/startTestSlapd';

jest.setTimeout(30_000);

const ENTITY = 'component:default/payments-api';

/** Secrets in play, and everything the providers said: none may leak. */
const kit = createProviderTestKit({
  providerId: 'ldap-test',
  entityRef: ENTITY,
  kind: 'service-account',
});
const { logger, secrets, outputs, ctx, call, failure } = kit;
const anchorOf = (
  externalId: string,
  fingerprint?: string,
  sharedWith: string[] = [],
) => kit.anchorOf(externalId, { fingerprint, sharedWith });

let slapd: TestSlapd;
let root: Client;
let provider: LdapProvider;
const providers: LdapProvider[] = [];
const held: Client[] = [];

function makeProvider(
  overrides: Partial<LdapProviderConfig> = {},
): LdapProvider {
  const p = new LdapProvider({
    config: {
      id: 'ldap-test',
      type: 'ldap',
      url: slapd.url,
      bindDN: slapd.adminDN,
      bindPassword: slapd.adminPassword,
      baseDN: slapd.servicesDN,
      groupBaseDN: slapd.groupsDN,
      lockAclInstalled: true,
      seeAlsoTemplate: `cn={entityRef},ou=backstage,${slapd.suffix}`,
      ...overrides,
    },
    logger,
  });
  providers.push(p);
  return p;
}

const dnOf = (uid: string) => `uid=${uid},${slapd.servicesDN}`;

/** Creates a service account with a random password and returns it. */
async function createAccount(
  uid: string,
  extra: Record<string, string[]> = {},
): Promise<string> {
  const password = `pw-${randomBytes(10).toString('hex')}`;
  secrets.push(password);
  await root.add(dnOf(uid), {
    objectClass: ['account', 'simpleSecurityObject'],
    uid,
    userPassword: password,
    ...extra,
  });
  return password;
}

async function addGroup(
  cn: string,
  kind: 'groupOfNames' | 'groupOfUniqueNames' | 'posixGroup',
  members: string[],
) {
  const dn = `cn=${cn},${slapd.groupsDN}`;
  const attrs: Record<string, string | string[]> = { objectClass: kind, cn };
  if (kind === 'groupOfNames') attrs.member = members;
  if (kind === 'groupOfUniqueNames') attrs.uniqueMember = members;
  if (kind === 'posixGroup') {
    attrs.gidNumber = String(1000 + Math.floor(Math.random() * 50000));
    attrs.memberUid = members;
  }
  await root.add(dn, attrs);
  return dn;
}

async function groupValues(dn: string, name: string): Promise<string[]> {
  const { searchEntries } = await root.search(dn, {
    scope: 'base',
    attributes: [name],
  });
  const v = searchEntries[0]?.[name];
  return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String);
}

/** Binds as the account; returns the LDAP result code (0 = success). */
async function bindAs(dn: string, password: string): Promise<number> {
  const client = new Client({ url: slapd.url, timeout: 5000 });
  try {
    await client.bind(dn, password);
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  } finally {
    await client.unbind().catch(() => {});
  }
}

/** A connection bound as the account and kept open. */
async function holdBound(dn: string, password: string): Promise<Client> {
  const client = new Client({ url: slapd.url, timeout: 5000 });
  await client.bind(dn, password);
  held.push(client);
  return client;
}

/** What a held connection gets when it reads its own entry. */
async function readOwnEntry(client: Client, dn: string) {
  try {
    const r = await client.search(dn, { scope: 'base' });
    return { ok: true, entries: r.searchEntries.length };
  } catch (err) {
    return { ok: false, code: (err as { code?: number }).code };
  }
}

async function attribute(dn: string, name: string): Promise<string[]> {
  try {
    const { searchEntries } = await root.search(dn, {
      scope: 'base',
      attributes: [name],
    });
    const v = searchEntries[0]?.[name];
    return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String);
  } catch (err) {
    if ((err as { code?: number }).code === 32) return ['<no entry>'];
    throw err;
  }
}

beforeAll(async () => {
  slapd = await startTestSlapd();
  // eslint-disable-next-line no-console
  console.log(`LDAP tests run against ${slapd.description}`);
  secrets.push(slapd.rootPassword, slapd.adminPassword, slapd.readerPassword);
  root = new Client({ url: slapd.url, timeout: 5000 });
  await root.bind(slapd.rootDN, slapd.rootPassword);
  provider = makeProvider();
});

afterAll(async () => {
  for (const c of held) await c.unbind().catch(() => {});
  for (const p of providers) await p.close();
  await root?.unbind().catch(() => {});
  await slapd?.stop();
});

describe('LdapProvider against slapd', () => {
  it('discovers linked accounts and accounts whose description or seeAlso names the entity', async () => {
    const pw = await createAccount('disc-linked');
    await createAccount('disc-desc', {
      description: [`Service account of ${ENTITY} (payments)`],
    });
    await createAccount('disc-seealso', {
      seeAlso: [`cn=${ENTITY},ou=backstage,${slapd.suffix}`],
    });
    await createAccount('disc-other', {
      description: ['Service account of component:default/payments-api-v2'],
    });
    const group = await addGroup('disc-readers', 'groupOfNames', [
      dnOf('disc-linked'),
    ]);
    // lastbind records the bind as pwdLastSuccess.
    expect(await bindAs(dnOf('disc-linked'), pw)).toBe(0);

    const anchors = await call(
      provider.discover({
        entity: {} as any,
        entityRef: ENTITY,
        linked: [
          { externalId: 'disc-linked', source: 'annotation', sharedWith: [] },
          { externalId: 'disc-missing', source: 'annotation', sharedWith: [] },
        ],
      }),
    );
    const byId = Object.fromEntries(anchors.map(a => [a.externalId, a]));
    expect(Object.keys(byId).sort()).toEqual([
      'disc-desc',
      'disc-linked',
      'disc-missing',
      'disc-seealso',
    ]);
    expect(byId['disc-linked']).toMatchObject({
      kind: 'service-account',
      status: 'active',
      scopes: [`member of ${group}`],
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      lastUsedAt: expect.any(String),
      createdAt: expect.any(String),
    });
    expect(
      Date.now() - Date.parse(byId['disc-linked'].lastUsedAt!),
    ).toBeLessThan(60_000);
    expect(byId['disc-missing'].status).toBe('revoked');
    expect(byId['disc-desc'].displayName).toContain('found by its description');
    expect(byId['disc-seealso'].displayName).toContain('found by its seeAlso');
  });

  it('disable locks (ppolicy), binds fail, a held connection is refused by the lock ACL; enable restores; both idempotent', async () => {
    const pw = await createAccount('svc-disable');
    const dn = dnOf('svc-disable');
    const connection = await holdBound(dn, pw);
    expect(await readOwnEntry(connection, dn)).toEqual({
      ok: true,
      entries: 1,
    });
    const anchor = anchorOf('svc-disable');
    expect((await call(provider.verify(anchor, ctx()))).outcome).toBe(
      'trusted',
    );

    const result = await call(provider.disable(anchor, ctx()));
    expect(result.changed).toBe(true);
    expect(result.observed).toMatchObject({
      account: dn,
      pwdAccountLockedTime: '000001010000Z',
    });
    expect(await attribute(dn, 'pwdAccountLockedTime')).toEqual([
      '000001010000Z',
    ]);
    expect(await bindAs(dn, pw)).toBe(49);
    // slapd did not close it, but its next operation is refused.
    expect(connection.isConnected).toBe(true);
    expect(await readOwnEntry(connection, dn)).toEqual({ ok: false, code: 32 });

    expect((await call(provider.disable(anchor, ctx()))).changed).toBe(false);
    const verified = await call(provider.verify(anchor, ctx()));
    expect(verified.outcome).toBe('untrusted');
    expect(verified.observed).toMatchObject({ exists: true, locked: true });

    const sessions = await call(provider.terminateSessions(anchor, ctx()));
    expect(sessions.changed).toBe(false);
    expect(sessions.detail).toContain('cannot close');
    expect(sessions.observed).toMatchObject({
      connectionsClosed: 0,
      canCloseConnections: false,
      locked: true,
      lockAclInstalled: true,
      heldConnectionsRefused: true,
    });

    const enabled = await call(provider.enable(anchor, ctx()));
    expect(enabled.changed).toBe(true);
    expect(await bindAs(dn, pw)).toBe(0);
    expect(await readOwnEntry(connection, dn)).toEqual({
      ok: true,
      entries: 1,
    });
    expect((await call(provider.enable(anchor, ctx()))).changed).toBe(false);
    expect((await call(provider.verify(anchor, ctx()))).outcome).toBe(
      'trusted',
    );
  });

  it('terminateSessions says honestly that it closed nothing when the account is not locked', async () => {
    const noAcl = makeProvider({ id: 'ldap-noacl', lockAclInstalled: false });
    await createAccount('svc-sessions');
    const result = await call(
      noAcl.terminateSessions(anchorOf('svc-sessions'), ctx()),
    );
    expect(result).toMatchObject({
      changed: false,
      observed: {
        connectionsClosed: 0,
        canCloseConnections: false,
        locked: false,
        heldConnectionsRefused: 'not known',
      },
    });
    expect(result.detail).toContain('not locked');
    const disabled = await call(noAcl.disable(anchorOf('svc-sessions'), ctx()));
    expect(disabled.detail).toContain('lockAclInstalled');
  });

  it('removeMemberships removes member, uniqueMember and memberUid; idempotent', async () => {
    await createAccount('svc-groups');
    const dn = dnOf('svc-groups');
    const other = `uid=someone-else,${slapd.servicesDN}`;
    const names = await addGroup('g-names', 'groupOfNames', [dn, other]);
    const unique = await addGroup('g-unique', 'groupOfUniqueNames', [
      other,
      dn,
    ]);
    const posix = await addGroup('g-posix', 'posixGroup', [
      'svc-groups',
      'other',
    ]);
    const untouched = await addGroup('g-untouched', 'groupOfNames', [other]);

    const result = await call(
      provider.removeMemberships(anchorOf('svc-groups'), ctx()),
    );
    expect(result.changed).toBe(true);
    expect(
      (result.observed!.groupsRemovedFrom as Array<{ group: string }>)
        .map(g => g.group)
        .sort(),
    ).toEqual([names, posix, unique].sort());
    expect(await groupValues(names, 'member')).toEqual([other]);
    expect(await groupValues(unique, 'uniqueMember')).toEqual([other]);
    expect(await groupValues(posix, 'memberUid')).toEqual(['other']);
    expect(await groupValues(untouched, 'member')).toEqual([other]);

    const again = await call(
      provider.removeMemberships(anchorOf('svc-groups'), ctx()),
    );
    expect(again.changed).toBe(false);
    expect(
      (await call(provider.verify(anchorOf('svc-groups'), ctx()))).observed
        .groups,
    ).toEqual([]);
  });

  it('a group whose last member is the account is reported, not silently kept', async () => {
    await createAccount('svc-lastmember');
    const only = await addGroup('g-only', 'groupOfNames', [
      dnOf('svc-lastmember'),
    ]);
    const err = await failure(
      provider.removeMemberships(anchorOf('svc-lastmember'), ctx()),
    );
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toContain(only);
    expect(err.message).toContain('at least one member');
  });

  it('revoke deletes the entry after removing it from its groups; idempotent; verify untrusted', async () => {
    const pw = await createAccount('svc-revoke');
    const dn = dnOf('svc-revoke');
    const other = `uid=keeper,${slapd.servicesDN}`;
    const group = await addGroup('g-revoke', 'groupOfNames', [dn, other]);
    const connection = await holdBound(dn, pw);

    const result = await call(provider.revoke(anchorOf('svc-revoke'), ctx()));
    expect(result.changed).toBe(true);
    expect(result.observed).toMatchObject({ exists: false, deleted: true });
    expect(await attribute(dn, 'uid')).toEqual(['<no entry>']);
    expect(await groupValues(group, 'member')).toEqual([other]);
    expect(await bindAs(dn, pw)).toBe(49);
    expect((await readOwnEntry(connection, dn)).ok).toBe(false);

    expect(
      (await call(provider.revoke(anchorOf('svc-revoke'), ctx()))).changed,
    ).toBe(false);
    const verified = await call(provider.verify(anchorOf('svc-revoke'), ctx()));
    expect(verified.outcome).toBe('untrusted');
    expect(verified.observed).toMatchObject({ exists: false });
  });

  it('with deleteEntry false, revoke locks and scrambles the password (unlocking does not bring it back)', async () => {
    const keep = makeProvider({ id: 'ldap-keep', deleteEntry: false });
    const pw = await createAccount('svc-keep');
    const dn = dnOf('svc-keep');
    const [discovered] = await call(
      keep.discover({
        entity: {} as any,
        entityRef: 'component:default/other',
        linked: [
          { externalId: 'svc-keep', source: 'annotation', sharedWith: [] },
        ],
      }),
    );
    const result = await call(
      keep.revoke(anchorOf('svc-keep', discovered.fingerprint), ctx()),
    );
    expect(result.changed).toBe(true);
    expect(result.observed).toMatchObject({
      exists: true,
      deleted: false,
      passwordScrambled: true,
    });
    expect(result.newFingerprint).not.toBe(discovered.fingerprint);
    expect(await bindAs(dn, pw)).toBe(49);
    // Even an admin unlock leaves the old password useless.
    await root.modify(
      dn,
      new Change({
        operation: 'delete',
        modification: new Attribute({ type: 'pwdAccountLockedTime' }),
      }),
    );
    expect(await bindAs(dn, pw)).toBe(49);
    const verified = await call(
      keep.verify(anchorOf('svc-keep', discovered.fingerprint), ctx()),
    );
    expect(verified.outcome).toBe('untrusted');
    expect(verified.observed).toMatchObject({ knownPasswordReplaced: true });
    // The stored value is a salted hash, not a cleartext password.
    expect((await attribute(dn, 'userPassword'))[0]).toMatch(/^\{SSHA\}/);
  });

  it('rotate replaces the password of a shared account with one nobody knows, keeps it unlocked', async () => {
    const pw = await createAccount('svc-shared');
    const dn = dnOf('svc-shared');
    const [discovered] = await call(
      provider.discover({
        entity: {} as any,
        entityRef: ENTITY,
        linked: [
          {
            externalId: 'svc-shared',
            source: 'annotation',
            sharedWith: ['component:default/billing'],
          },
        ],
      }),
    );
    expect(discovered.sharedWith).toEqual(['component:default/billing']);
    const anchor = anchorOf('svc-shared', discovered.fingerprint, [
      'component:default/billing',
    ]);
    const result = await call(provider.rotate(anchor, ctx()));
    expect(result.changed).toBe(true);
    expect(result.newFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.newFingerprint).not.toBe(discovered.fingerprint);
    expect(result.detail).toContain('out of band');
    expect(await bindAs(dn, pw)).toBe(49);
    expect(await attribute(dn, 'pwdAccountLockedTime')).toEqual([]);
    const stored = (await attribute(dn, 'userPassword'))[0];
    expect(JSON.stringify(result)).not.toContain(stored);

    const verified = await call(provider.verify(anchor, ctx()));
    expect(verified.outcome).toBe('untrusted');
    expect(verified.observed).toMatchObject({
      locked: false,
      knownPasswordReplaced: true,
    });
    // The owner sets a new password out of band: it works, and an anchor
    // fingerprinted now is trusted again.
    const next = `pw-${randomBytes(10).toString('hex')}`;
    secrets.push(next);
    await root.modify(
      dn,
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'userPassword', values: [next] }),
      }),
    );
    expect(await bindAs(dn, next)).toBe(0);
    expect(
      (await call(provider.verify(anchorOf('svc-shared'), ctx()))).outcome,
    ).toBe('trusted');
  });

  it('an unreachable directory: verify is unknown, actions throw TransientProviderError', async () => {
    const port = await getFreePort();
    const down = makeProvider({
      id: 'ldap-down',
      url: `ldap://127.0.0.1:${port}`,
      connectTimeoutMs: 2000,
    });
    const verified = await call(down.verify(anchorOf('svc-any'), ctx()));
    expect(verified.outcome).toBe('unknown');
    expect(verified.detail).toContain(`127.0.0.1:${port}`);
    for (const attempt of [
      () => down.disable(anchorOf('svc-any'), ctx()),
      () => down.revoke(anchorOf('svc-any'), ctx()),
      () =>
        down.discover({
          entity: {} as any,
          entityRef: ENTITY,
          linked: [
            { externalId: 'svc-any', source: 'annotation', sharedWith: [] },
          ],
        }),
    ]) {
      const err = await failure(attempt());
      expect(err).toBeInstanceOf(TransientProviderError);
      expect(err.message).toMatch(/unreachable/);
    }
  });

  it('a wrong admin password and a read-only admin are permanent errors naming what to fix', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    secrets.push(wrong);
    const bad = makeProvider({ id: 'ldap-badpw', bindPassword: wrong });
    const err = await failure(bad.disable(anchorOf('svc-any'), ctx()));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toContain('bindPassword');
    expect((await call(bad.verify(anchorOf('svc-any'), ctx()))).outcome).toBe(
      'unknown',
    );

    const pw = await createAccount('svc-readonly');
    const reader = makeProvider({
      id: 'ldap-reader',
      bindDN: slapd.readerDN,
      bindPassword: slapd.readerPassword,
    });
    const denied = await failure(
      reader.disable(anchorOf('svc-readonly'), ctx()),
    );
    expect(denied).toBeInstanceOf(PermanentProviderError);
    expect(denied.message).toContain('LDAP result 50');
    expect(denied.message).toContain('write access');
    expect(denied.message).toContain('pwdAccountLockedTime');
    expect(await bindAs(dnOf('svc-readonly'), pw)).toBe(0);
    // Reading is enough to verify.
    expect(
      (await call(reader.verify(anchorOf('svc-readonly'), ctx()))).outcome,
    ).toBe('trusted');
  });

  it('refuses its own admin DN; enable never creates; actions on a missing account are no-ops', async () => {
    const self = makeProvider({
      id: 'ldap-self',
      baseDN: slapd.suffix,
      accountAttribute: 'cn',
    });
    const err = await failure(self.disable(anchorOf('nhi-offboarding'), ctx()));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toContain('admin DN');
    const enable = await failure(provider.enable(anchorOf('nobody'), ctx()));
    expect(enable).toBeInstanceOf(PermanentProviderError);
    expect(enable.message).toContain('never creates');
    for (const action of [
      () => provider.disable(anchorOf('nobody'), ctx()),
      () => provider.terminateSessions(anchorOf('nobody'), ctx()),
      () => provider.removeMemberships(anchorOf('nobody'), ctx()),
      () => provider.revoke(anchorOf('nobody'), ctx()),
      () => provider.rotate(anchorOf('nobody'), ctx()),
    ]) {
      expect((await call(action())).changed).toBe(false);
    }
    // A filter metacharacter in an id is escaped, not interpreted.
    expect(
      (await call(provider.verify(anchorOf('svc-*'), ctx()))).observed,
    ).toMatchObject({ exists: false });
  });

  it('is built from app-config by the factory', async () => {
    const p = await ldapProviderFactory({
      id: 'ldap-config',
      logger,
      config: new ConfigReader({
        type: 'ldap',
        url: slapd.url,
        bindDN: slapd.adminDN,
        bindPassword: slapd.adminPassword,
        baseDN: slapd.servicesDN,
      }),
    });
    providers.push(p as LdapProvider);
    expect(p.type).toBe('ldap');
    expect(p.id).toBe('ldap-config');
    expect(
      (await call(p.verify!(anchorOf('does-not-exist'), ctx()))).outcome,
    ).toBe('untrusted');
  });

  it('never puts a password in a result, an error or a log line', () => {
    expect(outputs.length).toBeGreaterThan(30);
    const everything = kit.transcript();
    for (const secret of secrets) {
      expect(everything).not.toContain(secret);
    }
  });
});
