/*
 * Runs against a real throwaway OpenSSL CA built for this file (openssl req
 * -x509, openssl ca, index.txt) and a real Node TLS server that trusts the
 * CA and loads its CRL: every claim about trust is checked by a TLS
 * handshake with the client certificate and its key. No mocks.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigReader } from '@backstage/config';
import {
  PermanentProviderError,
  TransientProviderError,
} from '@nhi-offboarding/plugin-nhi-offboarding-node';
import { createProviderTestKit } from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';
import { X509Provider, x509ProviderFactory } from './index';
import {
  handshake,
  startTestCa,
  startTlsServer,
  type IssuedCert,
  type TestCa,
} from './testing/startTestCa';

jest.setTimeout(60_000);

const SUFFIX = randomBytes(3).toString('hex');
const ENTITY = `component:default/payments-api-${SUFFIX}`;

/** Secrets in play, and everything the providers said: none may leak. */
const kit = createProviderTestKit({
  providerId: 'ca-test',
  entityRef: ENTITY,
  kind: 'certificate',
});
const { logger, outputs, ctx, call, failure } = kit;
const anchorOf = (externalId: string, fingerprint?: string) =>
  kit.anchorOf(externalId, { fingerprint });

let ca: TestCa;
let tls: Awaited<ReturnType<typeof startTlsServer>>;
let provider: X509Provider;
let caPem: string;

function makeProvider(extra: Record<string, unknown> = {}) {
  return new X509Provider({
    config: {
      id: 'ca-test',
      type: 'x509',
      caDir: ca.dir,
      crlPath: ca.crlPath,
      caKeyPassphrase: ca.caKeyPassphrase,
      ...extra,
    },
    logger,
  });
}

/** A handshake as the certificate, after the server loaded the current CRL. */
async function tryHandshake(cert: IssuedCert): Promise<string> {
  await tls.reloadCrl();
  const { answer, socket } = await handshake(tls.port, cert, caPem);
  socket.destroy();
  return answer;
}

beforeAll(async () => {
  ca = await startTestCa();
  caPem = await readFile(ca.caCert, 'utf8');
  tls = await startTlsServer(ca);
  provider = makeProvider();
  // eslint-disable-next-line no-console
  console.log(
    `throwaway OpenSSL CA in ${ca.dir}; TLS server on 127.0.0.1:${tls.port}`,
  );
});

afterAll(async () => {
  await tls?.stop();
  await ca?.stop();
});

describe('X509Provider', () => {
  it('is built by the factory from config', async () => {
    const p = await x509ProviderFactory({
      id: 'from-config',
      config: new ConfigReader({
        id: 'ignored',
        type: 'x509',
        caDir: ca.dir,
        caKeyPassphrase: 'whatever',
      }),
      logger,
    });
    expect(p).toBeInstanceOf(X509Provider);
    expect(p.id).toBe('from-config');
    expect(p.type).toBe('x509');
    expect(() =>
      X509Provider.fromConfig(
        new ConfigReader({
          type: 'x509',
          caDir: '/x',
          revokeReason: 'certificateHold',
        }),
        { id: 'x', logger },
      ),
    ).toThrow(/revokeReason/);
  });

  it('discovers linked serials and certificates whose subject or SAN names the entity', async () => {
    const linked = await ca.issue('orders-client');
    const bySubject = await ca.issue(ENTITY);
    const bySan = await ca.issue('svc-42', { san: `URI:backstage:${ENTITY}` });
    const other = await ca.issue(`${ENTITY}-v2`);
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
            externalId: linked.serial.toLowerCase(),
            source: 'annotation',
            sharedWith: [],
          },
          { externalId: 'not-a-serial', source: 'annotation', sharedWith: [] },
          { externalId: 'ABCDEF99', source: 'annotation', sharedWith: [] },
        ],
      }),
    );
    const ids = anchors.map(a => a.externalId);
    expect(ids).toEqual(
      expect.arrayContaining([
        linked.serial.toLowerCase(),
        bySubject.serial,
        bySan.serial,
        'not-a-serial',
        'ABCDEF99',
      ]),
    );
    expect(ids).not.toContain(other.serial);
    const a = anchors.find(x => x.externalId === bySan.serial)!;
    expect(a.kind).toBe('certificate');
    expect(a.status).toBe('active');
    expect(a.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a.displayName).toMatch(/subjectAltName/);
    expect(a.expiresAt).toBeDefined();
    expect(anchors.find(x => x.externalId === 'ABCDEF99')!.status).toBe(
      'unknown',
    );
    expect(JSON.stringify(anchors)).not.toMatch(/PRIVATE KEY/);
  });

  it('disable puts the certificate on hold (CERT_REVOKED), enable lifts it (handshake works again)', async () => {
    const cert = await ca.issue(`hold-${SUFFIX}`);
    const [discovered] = await provider.discover({
      entity: { apiVersion: 'v1', kind: 'Component', metadata: { name: 'x' } },
      entityRef: ENTITY,
      linked: [
        { externalId: cert.serial, source: 'annotation', sharedWith: [] },
      ],
    });
    const anchor = anchorOf(cert.serial, discovered.fingerprint);
    expect(await tryHandshake(cert)).toBe('OK');
    expect((await call(provider.verify(anchor, ctx()))).outcome).toBe(
      'trusted',
    );

    const d1 = await call(provider.disable(anchor, ctx()));
    expect(d1.changed).toBe(true);
    expect(d1.observed).toMatchObject({
      reason: 'certificateHold',
      crlPublished: true,
    });
    expect(await tryHandshake(cert)).toBe('CERT_REVOKED');
    const v = await call(provider.verify(anchor, ctx()));
    expect(v.outcome).toBe('untrusted');
    expect(v.detail).toMatch(/on hold/);
    expect((await call(provider.disable(anchor, ctx()))).changed).toBe(false);

    const e1 = await call(provider.enable(anchor, ctx()));
    expect(e1.changed).toBe(true);
    expect(await tryHandshake(cert)).toBe('OK');
    expect((await call(provider.verify(anchor, ctx()))).outcome).toBe(
      'trusted',
    );
    expect((await call(provider.enable(anchor, ctx()))).changed).toBe(false);
    const index = await readFile(join(ca.dir, 'index.txt'), 'utf8');
    expect(index).toMatch(new RegExp(`^V\\t\\d+Z\\t\\t${cert.serial}\\t`, 'm'));
  });

  it('revoke: handshake before works, after revoke + CRL it is CERT_REVOKED; idempotent; established connections stay', async () => {
    const cert = await ca.issue(`revoke-${SUFFIX}`);
    const anchor = anchorOf(cert.serial);
    expect(await tryHandshake(cert)).toBe('OK');
    const held = await handshake(tls.port, cert, caPem); // established before

    const r1 = await call(provider.revoke(anchor, ctx()));
    expect(r1.changed).toBe(true);
    expect(r1.observed).toMatchObject({
      reason: 'cessationOfOperation',
      crlPublished: true,
      establishedConnectionsRechecked: false,
    });
    expect(r1.detail).toMatch(/not re-checked/);
    expect(await tryHandshake(cert)).toBe('CERT_REVOKED');
    // A TLS connection made before the revocation is not re-checked.
    expect(held.socket.destroyed).toBe(false);
    held.socket.destroy();

    const r2 = await call(provider.revoke(anchor, ctx()));
    expect(r2.changed).toBe(false);
    expect(r2.detail).toMatch(/already revoked/);
    const v = await call(provider.verify(anchor, ctx()));
    expect(v.outcome).toBe('untrusted');
    expect(v.observed).toMatchObject({
      indexStatus: 'R',
      crlListsCertificate: true,
      crlSignatureValid: true,
      relyingPartyCheck: 'rejected: error 23 certificate revoked',
    });
    const e = await failure(provider.enable(anchor, ctx()));
    expect(e).toBeInstanceOf(PermanentProviderError);
    expect(e.message).toMatch(/revoked for good/);
  });

  it('revoke of a held certificate makes the hold final', async () => {
    const cert = await ca.issue(`held-then-revoked-${SUFFIX}`);
    const anchor = anchorOf(cert.serial);
    await call(provider.disable(anchor, ctx()));
    const r = await call(provider.revoke(anchor, ctx()));
    expect(r.changed).toBe(true);
    expect(r.observed).toMatchObject({
      wasOnHold: true,
      reason: 'cessationOfOperation',
    });
    expect(await tryHandshake(cert)).toBe('CERT_REVOKED');
    expect(await failure(provider.enable(anchor, ctx()))).toBeInstanceOf(
      PermanentProviderError,
    );
  });

  it('verify is trusted while the CRL has not been published after a revocation by hand', async () => {
    const cert = await ca.issue(`stale-crl-${SUFFIX}`);
    // Revoke outside the provider without publishing a CRL.
    execFileSync(
      'openssl',
      [
        'ca',
        '-config',
        ca.opensslConfig,
        '-passin',
        'env:P',
        '-revoke',
        cert.certFile,
      ],
      {
        env: { PATH: process.env.PATH, P: ca.caKeyPassphrase },
        stdio: 'ignore',
      },
    );
    const v = await call(provider.verify(anchorOf(cert.serial), ctx()));
    expect(v.outcome).toBe('trusted');
    expect(v.detail).toMatch(/CRL does not list it/);
    expect(await tryHandshake(cert)).toBe('OK');
    // revoke publishes it even though the database already says R.
    const r = await call(provider.revoke(anchorOf(cert.serial), ctx()));
    expect(r.changed).toBe(true);
    expect(r.observed).toMatchObject({ crlPublished: true });
    expect(await tryHandshake(cert)).toBe('CERT_REVOKED');
  });

  it('asks the OCSP responder when ocspUrl is set; unknown when it does not answer', async () => {
    const good = await ca.issue(`ocsp-good-${SUFFIX}`);
    const bad = await ca.issue(`ocsp-bad-${SUFFIX}`);
    await call(provider.revoke(anchorOf(bad.serial), ctx()));
    // openssl ocsp reads index.txt when it starts.
    const ocsp = await ca.startOcsp();
    try {
      const p = makeProvider({ ocspUrl: ocsp.url });
      const vb = await call(p.verify(anchorOf(bad.serial), ctx()));
      expect(vb.outcome).toBe('untrusted');
      expect(vb.observed.ocspStatus).toBe('revoked');
      const vg = await call(p.verify(anchorOf(good.serial), ctx()));
      expect(vg.outcome).toBe('trusted');
      expect(vg.observed.ocspStatus).toBe('good');
    } finally {
      await ocsp.stop();
    }
    const down = makeProvider({ ocspUrl: ocsp.url, commandTimeoutMs: 4000 });
    const vd = await call(down.verify(anchorOf(bad.serial), ctx()));
    expect(vd.outcome).toBe('unknown');
  });

  it('unreachable CA: verify is unknown, actions throw TransientProviderError; a wrong passphrase is permanent', async () => {
    const gone = makeProvider({ caDir: join(ca.dir, 'missing') });
    const v = await call(gone.verify(anchorOf('1000'), ctx()));
    expect(v.outcome).toBe('unknown');
    expect(await failure(gone.revoke(anchorOf('1000'), ctx()))).toBeInstanceOf(
      TransientProviderError,
    );
    const wrongPass = `wrong-${randomBytes(8).toString('hex')}`;
    const cert = await ca.issue(`wrong-pass-${SUFFIX}`);
    const bad = makeProvider({ caKeyPassphrase: wrongPass });
    const e = await failure(bad.revoke(anchorOf(cert.serial), ctx()));
    expect(e).toBeInstanceOf(PermanentProviderError);
    expect(e.message).toMatch(/caKeyPassphrase/);
    expect(e.message).not.toContain(wrongPass);
    // Nothing changed.
    expect(await tryHandshake(cert)).toBe('OK');
    const other = await failure(
      provider.revoke(anchorOf(cert.serial, 'sha256:00'), ctx()),
    );
    expect(other.message).toMatch(/refusing/);
  });

  it('never puts the CA passphrase or a private key in a result, an error or a log line', () => {
    const text = kit.transcript();
    expect(outputs.length).toBeGreaterThan(10);
    expect(text).not.toContain(ca.caKeyPassphrase);
    expect(text).not.toMatch(/PRIVATE KEY/);
  });
});
