/*
 * Runs against a real OpenSSH sshd started for this file on loopback (its
 * own config, host key, AuthorizedKeysFile and log in a temp folder). Every
 * claim about logins is checked by logging in with the private key through
 * a separate ssh2 client. No mocks.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { Client } from 'ssh2';
import { ConfigReader } from '@backstage/config';
import {
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import {
  createProviderTestKit,
  getFreePort,
} from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';
import { SshProvider, sshProviderFactory, DISABLED_PREFIX } from './index';
import {
  startTestSshd,
  type TestKey,
  type TestSshd,
} from './testing/startTestSshd';

jest.setTimeout(60_000);

const SUFFIX = randomBytes(3).toString('hex');
const ENTITY = `component:default/deployer-${SUFFIX}`;

/** Secrets in play, and everything the providers said: none may leak. */
const kit = createProviderTestKit({
  providerId: 'hosts',
  entityRef: ENTITY,
  kind: 'ssh-key',
});
const { logger, ctx, call, failure } = kit;
const anchorOf = (externalId: string) => kit.anchorOf(externalId);

let sshd: TestSshd;
let admin: TestKey;
let provider: SshProvider;
const clients: Client[] = [];
const privateKeys: string[] = [];

function makeProvider(extra: Record<string, unknown> = {}, port = sshd.port) {
  return new SshProvider({
    config: {
      id: 'hosts',
      type: 'ssh',
      hosts: [
        {
          host: '127.0.0.1',
          port,
          hostKeyFingerprint: sshd.hostKeyFingerprint,
          accounts: ['root'],
        },
      ],
      username: 'root',
      privateKey: admin.privateKey,
      authorizedKeysFile: sshd.authorizedKeysTemplate,
      sshdLogFile: sshd.logFile,
      connectTimeoutMs: 3000,
      ...extra,
    },
    logger,
  });
}

/** Logs in as root with the key; resolves with the open client or the error message. */
function login(
  key: TestKey,
): Promise<{ ok: true; client: Client } | { ok: false; message: string }> {
  return new Promise(resolve => {
    const client = new Client();
    client.once('ready', () => {
      clients.push(client);
      resolve({ ok: true, client });
    });
    client.once('error', err => resolve({ ok: false, message: err.message }));
    client.connect({
      host: '127.0.0.1',
      port: sshd.port,
      username: 'root',
      privateKey: key.privateKey,
      readyTimeout: 5000,
    });
  });
}

/** Opens a session that keeps running (`sleep 60`); resolves once it runs. */
function holdSession(client: Client): Promise<{ closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    client.exec('echo started; sleep 60', (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      const closed = new Promise<void>(r => client.once('close', () => r()));
      stream.once('data', () => resolve({ closed }));
    });
  });
}

async function newKey(comment: string) {
  const k = await sshd.newKey(comment);
  privateKeys.push(k.privateKey);
  return k;
}

beforeAll(async () => {
  sshd = await startTestSshd();
  admin = await newKey('nhi-offboarding-admin');
  await writeFile(sshd.keysFileOf('root'), `${admin.publicLine}\n`, {
    mode: 0o600,
  });
  provider = makeProvider();
  // eslint-disable-next-line no-console
  console.log(
    `own throwaway sshd on 127.0.0.1:${sshd.port}, pid ${sshd.pid}, folder ${sshd.dir}`,
  );
});

afterAll(async () => {
  for (const c of clients) c.end();
  await sshd?.stop();
});

describe('SshProvider', () => {
  it('is built by the factory from config', async () => {
    const p = await sshProviderFactory({
      id: 'from-config',
      config: new ConfigReader({
        type: 'ssh',
        hosts: [{ host: '127.0.0.1', port: sshd.port, accounts: ['root'] }],
        privateKey: admin.privateKey,
      }),
      logger,
    });
    expect(p).toBeInstanceOf(SshProvider);
    expect(p.id).toBe('from-config');
    expect(p.type).toBe('ssh');
  });

  it('discovers linked fingerprints and keys whose comment names the entity', async () => {
    const linked = await newKey('ci-runner');
    const named = await newKey(`backstage:${ENTITY}`);
    const unrelated = await newKey(`${ENTITY}-v2`);
    const file = sshd.keysFileOf('root');
    await writeFile(
      file,
      `${await readFile(file, 'utf8')}${linked.publicLine}\n${
        named.publicLine
      }\n${unrelated.publicLine}\n`,
    );
    const anchors = await call(
      provider.discover({
        entity: {
          apiVersion: 'v1',
          kind: 'Component',
          metadata: { name: 'x' },
        },
        entityRef: ENTITY,
        linked: [
          {
            externalId: linked.fingerprint,
            source: 'annotation',
            sharedWith: [],
          },
          { externalId: 'nonsense', source: 'annotation', sharedWith: [] },
        ],
      }),
    );
    const fps = anchors.map(a => a.fingerprint);
    expect(fps).toEqual(
      expect.arrayContaining([linked.fingerprint, named.fingerprint]),
    );
    expect(fps).not.toContain(unrelated.fingerprint);
    const a = anchors.find(x => x.fingerprint === named.fingerprint)!;
    expect(a.kind).toBe('ssh-key');
    expect(a.status).toBe('active');
    expect(a.externalId).toMatch(/^ssh-ed25519 AAAA/);
    expect(a.scopes).toEqual([`root@127.0.0.1:${sshd.port}`]);
    expect(anchors.find(x => x.externalId === 'nonsense')!.status).toBe(
      'unknown',
    );
  });

  it('revoke: login works before; afterwards the key is refused, its open session is ended, other keys work; idempotent', async () => {
    const target = await newKey(`deploy ${ENTITY}`);
    const other = await newKey('someone-else');
    const file = sshd.keysFileOf('root');
    const weird = `from="127.0.0.1",command="echo \\"a b\\"" ${other.publicLine}\r\n# a comment kept as is\n\n`;
    await writeFile(
      file,
      `${await readFile(file, 'utf8')}${target.publicLine}\n${weird}`,
    );
    const beforeText = await readFile(file, 'utf8');

    const l1 = await login(target);
    expect(l1.ok).toBe(true);
    const session = await holdSession((l1 as { client: Client }).client);
    const anchor = anchorOf(target.fingerprint);
    expect((await call(provider.verify(anchor, ctx()))).outcome).toBe(
      'trusted',
    );

    const r1 = await call(provider.revoke(anchor, ctx()));
    expect(r1.changed).toBe(true);
    expect(await readFile(file, 'utf8')).toBe(
      beforeText.replace(`${target.publicLine}\n`, ''),
    );
    const l2 = await login(target);
    expect(l2).toMatchObject({
      ok: false,
      message: 'All configured authentication methods failed',
    });
    expect((await login(admin)).ok).toBe(true);

    const t1 = await call(provider.terminateSessions(anchor, ctx()));
    expect(t1.changed).toBe(true);
    await session.closed; // the held session was ended
    const t2 = await call(provider.terminateSessions(anchor, ctx()));
    expect(t2.changed).toBe(false);

    const r2 = await call(provider.revoke(anchor, ctx()));
    expect(r2.changed).toBe(false);
    const v = await call(provider.verify(anchor, ctx()));
    expect(v.outcome).toBe('untrusted');
    expect(v.observed.loginProbes).toEqual([
      expect.objectContaining({ accepted: false }),
    ]);
  });

  it('disable comments the line out (login refused), enable restores it exactly', async () => {
    const key = await newKey('quarantined');
    const file = sshd.keysFileOf('root');
    await writeFile(
      file,
      `${await readFile(file, 'utf8')}no-pty ${key.publicLine}\n`,
    );
    const before = await readFile(file, 'utf8');
    const anchor = anchorOf(key.fingerprint);
    expect((await login(key)).ok).toBe(true);
    const d = await call(provider.disable(anchor, ctx()));
    expect(d.changed).toBe(true);
    expect(await readFile(file, 'utf8')).toContain(
      `${DISABLED_PREFIX}no-pty ${key.publicLine}`,
    );
    expect((await login(key)).ok).toBe(false);
    expect((await call(provider.verify(anchor, ctx()))).outcome).toBe(
      'untrusted',
    );
    expect((await call(provider.disable(anchor, ctx()))).changed).toBe(false);
    const e = await call(provider.enable(anchor, ctx()));
    expect(e.changed).toBe(true);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await login(key)).ok).toBe(true);
    expect((await call(provider.enable(anchor, ctx()))).changed).toBe(false);
  });

  it('refuses to act on its own admin key', async () => {
    const e = await failure(
      provider.revoke(anchorOf(admin.fingerprint), ctx()),
    );
    expect(e).toBeInstanceOf(PermanentProviderError);
  });

  it('an unreachable host: verify is unknown, actions throw TransientProviderError', async () => {
    const down = makeProvider({}, await getFreePort());
    const key = await newKey('x');
    expect(
      (await call(down.verify(anchorOf(key.fingerprint), ctx()))).outcome,
    ).toBe('unknown');
    expect(
      await failure(down.revoke(anchorOf(key.fingerprint), ctx())),
    ).toBeInstanceOf(TransientProviderError);
    const wrongHost = makeProvider({
      hosts: [
        {
          host: '127.0.0.1',
          port: sshd.port,
          hostKeyFingerprint:
            'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
          accounts: ['root'],
        },
      ],
    });
    const e = await failure(wrongHost.revoke(anchorOf(key.fingerprint), ctx()));
    expect(e).toBeInstanceOf(PermanentProviderError);
    expect(e.message).toMatch(/host key/);
  });

  it('never puts a private key in a result, an error or a log line', () => {
    const text = kit.transcript();
    expect(text).not.toMatch(/PRIVATE KEY/);
    for (const k of privateKeys) expect(text).not.toContain(k.split('\n')[1]);
  });
});
