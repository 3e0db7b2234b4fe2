/*
 * Security end to end, on the REAL backend process with the REAL permission
 * policy (packages/backend, started through its test entry point, which adds
 * a header sign-in provider so several users can call one process):
 *
 * 1. The authorization matrix (e2e/lib/authzMatrix.mjs): every operation of
 *    openapi.yaml × anonymous, a user of another team, the owner, a platform
 *    admin and a static service token, with the expected 401/403/2xx.
 * 2. Secrets: known secret strings are seeded (provider admin and role
 *    passwords of a real PostgreSQL with SCRAM auth, a wrong password, the
 *    service token, a bogus bearer token, the users' Backstage tokens); after
 *    discovery, retirements, failures, bad requests and evidence exports,
 *    the backend's log, every API response, the SQLite files and the demo
 *    state files are searched for each secret in several encodings.
 *
 *   node --test e2e/security.test.mjs
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ENTRY,
  requireFromRoot,
  root,
  signInAs,
  startBackend,
  waitFor,
} from './lib/backendProcess.mjs';
import {
  createFixtures,
  formatMatrix,
  IDENTITIES,
  IDENTITY_LABELS,
  matrixCatalog,
  openApiOperations,
  ROWS,
  runMatrix,
} from './lib/authzMatrix.mjs';
import { startTestPostgres } from './lib/testPostgres.mjs';
import { secretForms, scanForSecrets } from './lib/secretScan.mjs';

const API = '/api/nhi-offboarding';
const FIXTURES = 60;
const BROKEN = 4; // the matrix uses at most 2: the last one is for the secret scan
const USERS = {
  otherTeam: 'dmitri.volkov',
  owner: 'alice',
  platform: 'priya.sharma',
};

const rand = () => randomBytes(9).toString('base64url');
// Characters that URL and base64 encodings change, so every form differs.
const SEEDS = {
  'postgres provider admin password': `NhiSeed+PgAdmin/${rand()}=`,
  'postgres login role password': `NhiSeed+PgRole/${rand()}=`,
  'wrong postgres password (failing provider)': `NhiSeed+PgWrong/${rand()}=`,
  'static service token': `nhiseed-service-${rand()}`,
  'static token restricted to reading anchors': `nhiseed-reader-${rand()}`,
  'bogus bearer token': `nhiseed-bogus-${rand()}`,
};
const suffix = `${process.pid}_${Date.now().toString(36)}`;
const ADMIN_ROLE = `nhi_authz_admin_${suffix}`;
const APP_ROLE = `nhi_authz_app_${suffix}`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-security-'));
/** Every response the tests received, for the secret scan. */
const transcript = [];
let backend;
let pg;
let appSession;
const tokens = {};
const started = Date.now();

async function call(identity, method, urlPath, body, extraHeaders = {}) {
  const token =
    identity === 'anonymous'
      ? undefined
      : identity === 'service'
      ? SEEDS['static service token']
      : tokens[identity];
  const res = await backend.request(method, `${API}${urlPath}`, {
    token,
    body,
    headers: extraHeaders,
  });
  transcript.push(
    `${method} ${urlPath} -> ${res.status}\n${JSON.stringify(res.headers)}\n${
      res.text
    }`,
  );
  return res;
}

function pgCatalog() {
  const component = (name, annotations) => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, annotations },
    spec: {
      type: 'service',
      lifecycle: 'production',
      owner: 'group:default/payments-team',
    },
  });
  return [
    component('authz-pg', { 'nhi-offboarding/pg': APP_ROLE }),
    component('authz-pg-bad', { 'nhi-offboarding/pg-bad': APP_ROLE }),
  ]
    .map(d => JSON.stringify(d))
    .join('\n---\n');
}

before(async () => {
  // A real PostgreSQL for the postgres provider: an admin role and the
  // login role to retire, each with a seeded password.
  pg = await startTestPostgres();
  const { Client } = requireFromRoot('pg');
  const su = new Client({ connectionString: pg.connectionString });
  await su.connect();
  const lit = s => `'${s.replace(/'/g, "''")}'`;
  await su.query(
    `CREATE ROLE ${ADMIN_ROLE} LOGIN SUPERUSER PASSWORD ${lit(
      SEEDS['postgres provider admin password'],
    )}`,
  );
  await su.query(
    `CREATE ROLE ${APP_ROLE} LOGIN PASSWORD ${lit(
      SEEDS['postgres login role password'],
    )}`,
  );
  await su.end();
  if (pg.password)
    SEEDS['postgres superuser password (test cluster)'] = pg.password;
  // A live session of the role, which the retirement must end.
  appSession = new Client({
    host: pg.host,
    port: pg.port,
    database: pg.database,
    user: APP_ROLE,
    password: SEEDS['postgres login role password'],
  });
  appSession.on('error', () => {}); // terminated by the retirement
  await appSession.connect();

  const catalogFile = path.join(dir, 'matrix-catalog.yaml');
  fs.writeFileSync(
    catalogFile,
    `${matrixCatalog({
      count: FIXTURES,
      broken: BROKEN,
      // The provider refuses, for good, to disable its own admin account.
      brokenAnnotations: { 'nhi-offboarding/pg': ADMIN_ROLE },
    })}\n---\n${pgCatalog()}\n`,
  );
  backend = await startBackend({
    dir,
    entry: ENTRY.testSignIn,
    overlay: {
      auth: { providers: { 'nhi-test': {} } },
      backend: {
        auth: {
          externalAccess: [
            {
              type: 'static',
              options: {
                token: SEEDS['static service token'],
                subject: 'matrix-ci',
              },
            },
            {
              type: 'static',
              options: {
                token: SEEDS['static token restricted to reading anchors'],
                subject: 'anchor-reader',
              },
              accessRestrictions: [
                {
                  plugin: 'nhi-offboarding',
                  permission: ['nhi-offboarding.anchors.read'],
                },
              ],
            },
          ],
        },
      },
      catalog: {
        locations: [
          { type: 'file', target: path.join(root, 'examples/org.yaml') },
          { type: 'file', target: catalogFile },
        ],
      },
      nhiOffboarding: {
        engine: {
          pollIntervalMs: 100,
          maxAttempts: 2,
          retryBaseDelayMs: 50,
          retryMaxDelayMs: 100,
        },
        providers: [
          {
            id: 'demo',
            type: 'demo',
            stateFile: path.join(dir, 'demo-state.json'),
          },
          {
            id: 'pg',
            type: 'postgres',
            connection: {
              host: pg.host,
              port: pg.port,
              user: ADMIN_ROLE,
              password: SEEDS['postgres provider admin password'],
              database: pg.database,
            },
            connectTimeoutMs: 3000,
          },
          {
            id: 'pg-bad',
            type: 'postgres',
            // The connection-string form, with a wrong password.
            connection: `postgresql://${ADMIN_ROLE}:${encodeURIComponent(
              SEEDS['wrong postgres password (failing provider)'],
            )}@${pg.host}:${pg.port}/${pg.database}`,
            connectTimeoutMs: 3000,
          },
        ],
      },
    },
  });
  // The catalog must hold the users (sign-in) and the fixture entities.
  for (const ref of [
    'user/default/priya.sharma',
    'user/default/dmitri.volkov',
    'user/default/alice',
    `component/default/authz-${FIXTURES}`,
    `component/default/authz-broken-${BROKEN}`,
    'component/default/authz-pg-bad',
  ]) {
    await waitFor(
      `${ref} in the catalog`,
      async () =>
        (
          await backend.request('GET', `/api/catalog/entities/by-name/${ref}`, {
            token: SEEDS['static service token'],
          })
        ).ok,
      180_000,
      500,
    );
  }
  for (const [identity, user] of Object.entries(USERS)) {
    const { token, identity: who } = await signInAs(backend, user);
    tokens[identity] = token;
    transcript.push(JSON.stringify(who));
  }
  console.log(
    `backend and catalog ready in ${((Date.now() - started) / 1000).toFixed(
      1,
    )} s (${dir})`,
  );
});

after(async () => {
  await appSession?.end().catch(() => {});
  await backend?.stop();
  await pg?.stop();
  if (process.env.NHI_KEEP_TEST_DIR !== '1') {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'authorization matrix: every operation × every kind of caller',
  { timeout: 600_000 },
  async () => {
    const t0 = Date.now();
    // Every operation of the OpenAPI description has rows, and every row is
    // an operation: a new route cannot skip the matrix.
    const operations = openApiOperations();
    const covered = new Set(ROWS.map(r => r.route));
    assert.deepEqual(
      operations.filter(op => !covered.has(op)),
      [],
      'operations of openapi.yaml without rows in e2e/lib/authzMatrix.mjs',
    );
    assert.deepEqual(
      [...covered].filter(r => !operations.includes(r)),
      [],
      'matrix rows for routes that openapi.yaml does not have',
    );
    for (const row of ROWS) {
      assert.deepEqual(
        Object.keys(row.expect).sort(),
        [...IDENTITIES].sort(),
        row.name,
      );
    }

    const fixtures = createFixtures({ call, count: FIXTURES, broken: BROKEN });
    const shared = await fixtures.exceptionByOwner();
    const cells = await runMatrix({ call, fixtures, shared });
    const bad = cells.filter(c => !c.ok);
    console.log(
      `\nAuthorization matrix: ${ROWS.length} rows (${
        operations.length
      } operations) × ${IDENTITIES.length} identities = ${
        cells.length
      } cells, ${bad.length} mismatches, ${((Date.now() - t0) / 1000).toFixed(
        1,
      )} s\n` +
        `${IDENTITIES.map(i => `  ${i}: ${IDENTITY_LABELS[i]}`).join(
          '\n',
        )}\n\n${formatMatrix(cells)}\n`,
    );
    assert.deepEqual(
      bad.map(
        c =>
          `${c.row} as ${c.identity}: got ${c.got}, want ${c.want} (${c.message})`,
      ),
      [],
    );
    // Refusals say why; a 401 never reaches the plugin.
    for (const c of cells.filter(x => x.got === 403)) {
      assert.match(
        c.message,
        /permission|four-eyes|may only read|may not decide/,
        `${c.row} as ${c.identity}`,
      );
    }
  },
);

test(
  'a service token restricted to reading anchors reads them, and nothing else',
  { timeout: 120_000 },
  async () => {
    const token = SEEDS['static token restricted to reading anchors'];
    const as = (method, urlPath, body) =>
      backend.request(method, `${API}${urlPath}`, { token, body });
    // Stored first (discovered by the owner): the token reads what is stored.
    const discovered = await call(
      'owner',
      'GET',
      '/entities/component/default/authz-pg/trust-anchors?refresh=true',
    );
    assert.equal(discovered.status, 200, discovered.text);
    const anchors = await as(
      'GET',
      '/entities/component/default/authz-pg/trust-anchors',
    );
    // The catalog's read rule is a user's: the restricted token is not
    // refused the entity for not naming catalog.entity.read.
    assert.equal(anchors.status, 200, anchors.text);
    assert.ok(anchors.json.items.length > 0, anchors.text);
    const list = await as('GET', '/retirements?limit=5');
    assert.equal(list.status, 403, list.text);
    assert.match(list.json.error.message, /nhi-offboarding\.platform\.read/);
    transcript.push(anchors.text, list.text);
  },
);

test(
  'secrets never appear in logs, responses, the database or state files',
  { timeout: 600_000 },
  async () => {
    const t0 = Date.now();
    // Discovery through the REST API, on the working and the failing provider.
    const anchors = await call(
      'owner',
      'GET',
      '/entities/component/default/authz-pg/trust-anchors?refresh=true',
    );
    assert.equal(anchors.status, 200, anchors.text);
    assert.equal(anchors.json.items.length, 1, anchors.text);
    const badAnchors = await call(
      'owner',
      'GET',
      '/entities/component/default/authz-pg-bad/trust-anchors?refresh=true',
    );
    assert.equal(badAnchors.status, 200, badAnchors.text);
    assert.ok(
      badAnchors.json.problems.length > 0,
      `the wrong password must fail: ${badAnchors.text}`,
    );
    await call(
      'owner',
      'POST',
      '/entities/component/default/authz-pg-bad/plan',
      { mode: 'revoke' },
    );

    // A retirement on the real PostgreSQL, to the end.
    const good = await call('owner', 'POST', '/retirements', {
      entityRef: 'component:default/authz-pg',
      mode: 'revoke',
      reason: 'secret scan',
    });
    assert.equal(good.status, 201, good.text);
    const done = await waitFor(
      'the postgres retirement to end',
      async () => {
        const r = await call('owner', 'GET', `/retirements/${good.json.id}`);
        return ['completed', 'needs-attention', 'failed'].includes(
          r.json?.status,
        )
          ? r.json
          : undefined;
      },
      120_000,
    );
    assert.equal(
      done.status,
      'completed',
      JSON.stringify(done.steps?.map(s => [s.action, s.status, s.lastError])),
    );

    // A provider that cannot log in: the retirement must not start (fail
    // closed), and its error message must not carry the password.
    const refused = await call('owner', 'POST', '/retirements', {
      entityRef: 'component:default/authz-pg-bad',
      mode: 'revoke',
      reason: 'secret scan, failing provider',
    });
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.json.error.message, /pg-bad could not be asked/);
    // A retirement whose step fails for good: errors in steps and evidence.
    const failing = await call('owner', 'POST', '/retirements', {
      entityRef: `component:default/authz-broken-${BROKEN}`,
      mode: 'revoke',
      reason: 'secret scan, failing step',
    });
    assert.equal(failing.status, 201, failing.text);
    await waitFor(
      'the failing retirement to need attention',
      async () => {
        const r = await call('owner', 'GET', `/retirements/${failing.json.id}`);
        return r.json?.status === 'needs-attention';
      },
      120_000,
    );
    await call('owner', 'POST', `/retirements/${failing.json.id}/retry`, {});

    // Evidence exports, JSON and CSV, of both.
    for (const id of [good.json.id, failing.json.id]) {
      assert.equal(
        (await call('platform', 'GET', `/retirements/${id}/evidence`)).status,
        200,
      );
      assert.equal(
        (
          await call(
            'platform',
            'GET',
            `/retirements/${id}/evidence?format=csv`,
          )
        ).status,
        200,
      );
      await call('platform', 'GET', `/retirements/${id}/evidence/verify`);
    }
    await call('platform', 'GET', '/residual-access');
    await call('platform', 'GET', '/providers');

    // Bad requests: each error message must not echo a secret.
    const bogus = SEEDS['bogus bearer token'];
    const rejected = [
      await backend.request('GET', `${API}/providers`, { token: bogus }),
      await backend.request('GET', `${API}/stats`, {
        headers: {
          authorization: `Basic ${Buffer.from(`x:${bogus}`).toString(
            'base64',
          )}`,
        },
      }),
      await call('owner', 'POST', '/retirements', {
        entityRef: 'not a ref',
        mode: 'revoke',
        reason: 'x',
      }),
      await call('owner', 'POST', '/retirements', {
        entityRef: 'component:default/authz-pg-bad',
        mode: 'sideways',
        reason: 'x',
      }),
      await call('owner', 'GET', '/retirements/ret_unknown'),
      await call('owner', 'GET', '/nope'),
      await backend.request('POST', `${API}/retirements`, {
        token: tokens.owner,
        headers: { 'content-type': 'text/plain' },
      }),
    ];
    for (const r of rejected) {
      transcript.push(`${r.status}\n${JSON.stringify(r.headers)}\n${r.text}`);
      assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.text}`);
    }

    // Everything the backend wrote, once it has stopped.
    await backend.stop();
    const places = [
      { name: 'backend log', bytes: fs.readFileSync(backend.logFile) },
      {
        name: `API responses (${transcript.length})`,
        bytes: Buffer.from(transcript.join('\n\n')),
      },
      ...listFiles(path.join(dir, 'sqlite')).map(f => ({
        name: `database ${path.basename(f)}`,
        bytes: fs.readFileSync(f),
      })),
      ...fs
        .readdirSync(dir)
        .filter(f => f.startsWith('demo'))
        .map(f => ({
          name: `state file ${f}`,
          bytes: fs.readFileSync(path.join(dir, f)),
        })),
    ];
    const secrets = { ...SEEDS };
    for (const [identity, token] of Object.entries(tokens)) {
      secrets[`Backstage token of ${USERS[identity]}`] = token;
      secrets[`signature of the Backstage token of ${USERS[identity]}`] =
        token.split('.')[2];
    }

    // Self-check: the scan finds each secret in each form when it is there.
    for (const [name, value] of Object.entries(secrets)) {
      for (const [form, encoded] of Object.entries(secretForms(value))) {
        const found = scanForSecrets(
          [{ name: 'planted', bytes: Buffer.from(`..${encoded}..`) }],
          { [name]: value },
        );
        assert.equal(
          found.length,
          1,
          `the scan misses the ${form} form of ${name}`,
        );
      }
    }
    // The outputs really were produced by flows that used the secrets.
    assert.match(fs.readFileSync(backend.logFile, 'utf8'), /pg-bad/);
    assert.ok(
      places.some(p => p.name.startsWith('database')),
      'no SQLite files to scan',
    );

    const findings = scanForSecrets(places, secrets);
    const bytes = places.reduce((n, p) => n + p.bytes.length, 0);
    console.log(
      `\nSecret scan: ${Object.keys(secrets).length} secrets × ${
        Object.keys(secretForms('x')).length
      } forms in ${places.length} places (${(bytes / 1024).toFixed(0)} KiB), ${
        findings.length
      } findings, ${((Date.now() - t0) / 1000).toFixed(1)} s\n` +
        places
          .map(
            p =>
              `  ${p.name}: ${p.bytes.length} bytes, ${
                p.bytes.toString('latin1').split('\n').length
              } lines`,
          )
          .join('\n') +
        `\n  secrets: ${Object.keys(secrets).join('; ')}\n`,
    );
    assert.deepEqual(findings, []);
  },
);

function listFiles(folder) {
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .flatMap(e =>
      e.isDirectory()
        ? listFiles(path.join(folder, e.name))
        : [path.join(folder, e.name)],
    );
}
