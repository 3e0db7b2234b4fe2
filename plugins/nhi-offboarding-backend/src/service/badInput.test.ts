import request from 'supertest';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { nhiOffboardingPlugin } from '../plugin';
import { InMemoryCredentialSystem } from '../testing/InMemoryCredentialSystem';
import { providersModule } from '../testing/providersModule';

jest.setTimeout(120_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const ENTITY = 'component:default/payments-api';

/** Values that must never be taken for valid input. */
const HOSTILE_STRINGS = [
  "'; DROP TABLE nhi_evidence; --",
  '" OR 1=1 --',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  '\u0000',
  'component:default/../../x',
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  'a'.repeat(5000),
];
const WRONG_TYPES: unknown[] = [42, true, null, [], {}, ['revoke'], { $ne: 1 }];

function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

interface Probe {
  method: 'get' | 'post' | 'delete' | 'put' | 'patch';
  path: string;
  body?: unknown;
  raw?: string;
  contentType?: string;
}

/**
 * A corpus of malformed and hostile requests against every endpoint. Each
 * must get a 4xx with a message a person can read, and the database must be
 * exactly as before.
 */
function corpus(retirementId: string, stepId: string): Probe[] {
  const probes: Probe[] = [];
  const bodies: Record<string, unknown>[] = [];
  // POST /retirements: missing fields, wrong types, unknown values, hostile strings.
  bodies.push(
    {},
    { entityRef: ENTITY },
    { entityRef: ENTITY, mode: 'revoke' },
    { mode: 'revoke', reason: 'x' },
  );
  for (const value of WRONG_TYPES) {
    bodies.push({ entityRef: value, mode: 'revoke', reason: 'x' });
    bodies.push({ entityRef: ENTITY, mode: value, reason: 'x' });
    bodies.push({ entityRef: ENTITY, mode: 'revoke', reason: value });
    bodies.push({
      entityRef: ENTITY,
      mode: 'quarantine',
      reason: 'x',
      quarantineDays: value,
    });
  }
  for (const value of HOSTILE_STRINGS) {
    bodies.push({ entityRef: value, mode: 'revoke', reason: 'x' });
    bodies.push({ entityRef: ENTITY, mode: value, reason: 'x' });
  }
  for (const mode of ['REVOKE', 'delete', 'destroy', '', ' revoke']) {
    bodies.push({ entityRef: ENTITY, mode, reason: 'x' });
  }
  for (const days of [-1, 366, 1.5, 1e308, Number.MAX_SAFE_INTEGER]) {
    bodies.push({
      entityRef: ENTITY,
      mode: 'quarantine',
      reason: 'x',
      quarantineDays: days,
    });
  }
  bodies.push({
    entityRef: ENTITY,
    mode: 'revoke',
    reason: 'x',
    quarantineDays: 3,
  });
  bodies.push({
    entityRef: ENTITY,
    mode: 'revoke',
    reason: 'x',
    requestedBy: 'user:default/ceo',
  });
  bodies.push({
    entityRef: ENTITY,
    mode: 'revoke',
    reason: 'x',
    __proto__: { admin: true },
    status: 'completed',
  });
  bodies.push({ entityRef: ENTITY, mode: 'revoke', reason: 'r'.repeat(2001) });
  bodies.push({
    entityRef: 'component:default/not-in-catalog',
    mode: 'revoke',
    reason: 'x',
  });
  for (const body of bodies)
    probes.push({ method: 'post', path: '/retirements', body });

  // Bodies that are not JSON, or too big, or too deep.
  probes.push({
    method: 'post',
    path: '/retirements',
    raw: 'mode=revoke',
    contentType: 'application/x-www-form-urlencoded',
  });
  probes.push({
    method: 'post',
    path: '/retirements',
    raw: 'mode: revoke',
    contentType: 'text/yaml',
  });
  probes.push({
    method: 'post',
    path: '/retirements',
    raw: '<retire/>',
    contentType: 'application/xml',
  });
  probes.push({
    method: 'post',
    path: '/retirements',
    raw: '{"mode":',
    contentType: 'application/json',
  });
  probes.push({
    method: 'post',
    path: '/retirements',
    raw: '[1,2,3]',
    contentType: 'application/json',
  });
  probes.push({
    method: 'post',
    path: '/retirements',
    raw: '"revoke"',
    contentType: 'application/json',
  });
  probes.push({
    method: 'post',
    path: '/retirements',
    raw: 'null',
    contentType: 'application/json',
  });
  probes.push({
    method: 'post',
    path: '/retirements',
    raw: JSON.stringify({
      entityRef: ENTITY,
      mode: 'revoke',
      reason: 'x'.repeat(200_000),
    }),
    contentType: 'application/json',
  });
  probes.push({
    method: 'post',
    path: '/retirements',
    raw: deepJson(5000),
    contentType: 'application/json',
  });

  // Entity paths.
  const badEntityPaths = [
    'component/default/nope',
    'component/default/%3Cscript%3E',
    'component/default/..%2F..%2Fetc',
    "component/default/x'%3B--",
    'unknownkind/default/x',
    'component/other-ns/payments-api',
  ];
  for (const p of badEntityPaths) {
    probes.push({ method: 'get', path: `/entities/${p}/trust-anchors` });
    probes.push({
      method: 'post',
      path: `/entities/${p}/plan`,
      body: { mode: 'revoke' },
    });
  }
  for (const q of ['refresh=yes', 'refresh=1', 'refresh[]=true', 'unknown=1']) {
    probes.push({
      method: 'get',
      path: `/entities/component/default/payments-api/trust-anchors?${q}`,
    });
  }
  for (const body of [
    {},
    { mode: 'nuke' },
    { mode: 'revoke', extra: 1 },
    { mode: 42 },
    { mode: 'quarantine', quarantineDays: 'ten' },
  ]) {
    probes.push({
      method: 'post',
      path: '/entities/component/default/payments-api/plan',
      body,
    });
  }

  // Ids: unknown, malformed, traversal, injection.
  const badIds = [
    'ret_00000000-0000-4000-8000-000000000000',
    'nope',
    '1',
    '..%2F..%2F',
    "ret_'%20OR%201%3D1",
    '%3Cscript%3E',
    `ret_${'f'.repeat(300)}`,
  ];
  const actions: [Probe['method'], string, unknown][] = [
    ['get', '', undefined],
    ['post', '/cancel', {}],
    ['post', '/retry', {}],
    ['post', '/release', {}],
    ['post', '/hold', { reason: 'x' }],
    ['delete', '/hold', {}],
    ['get', '/evidence', undefined],
    ['get', '/evidence/verify', undefined],
    ['get', '/steps', undefined],
  ];
  for (const id of badIds) {
    for (const [method, suffix, body] of actions) {
      probes.push({ method, path: `/retirements/${id}${suffix}`, body });
    }
  }
  const stepBase = `/retirements/${retirementId}/steps`;
  for (const sid of [
    'stp_00000000-0000-4000-8000-000000000000',
    'x',
    '..%2Fx',
  ]) {
    probes.push({
      method: 'post',
      path: `${stepBase}/${sid}/attest`,
      body: { note: 'done' },
    });
    probes.push({
      method: 'post',
      path: `${stepBase}/${sid}/exception`,
      body: { justification: 'j', expiresAt: '2099-01-01T00:00:00Z' },
    });
    probes.push({
      method: 'post',
      path: `${stepBase}/${sid}/exception/approve`,
      body: {},
    });
  }

  // Bodies of the actions on a real retirement and step.
  const real = `/retirements/${retirementId}`;
  for (const body of [{ reason: 42 }, { reason: '' }, { extra: true }]) {
    probes.push({ method: 'post', path: `${real}/cancel`, body });
  }
  probes.push({ method: 'post', path: `${real}/retry`, body: { force: true } });
  for (const body of [
    { outcome: 'delete' },
    { outcome: 1 },
    { outcome: 'restore', now: true },
  ]) {
    probes.push({ method: 'post', path: `${real}/release`, body });
  }
  for (const body of [
    {},
    { reason: '' },
    { reason: 7 },
    { reason: 'x', until: 'never' },
  ]) {
    probes.push({ method: 'post', path: `${real}/hold`, body });
  }
  probes.push({ method: 'delete', path: `${real}/hold`, body: { reason: 3 } });
  const exceptionBodies: unknown[] = [
    {},
    { justification: 'j' },
    { expiresAt: '2099-01-01T00:00:00Z' },
    { justification: '', expiresAt: '2099-01-01T00:00:00Z' },
    { justification: 'j', expiresAt: 'tomorrow' },
    { justification: 'j', expiresAt: '2001-01-01T00:00:00Z' },
    { justification: 'j', expiresAt: 4102444800000 },
    { justification: 'j', expiresAt: '2099-13-45T99:99:99Z' },
    { justification: ['j'], expiresAt: '2099-01-01T00:00:00Z' },
    {
      justification: 'j',
      expiresAt: '2099-01-01T00:00:00Z',
      status: 'approved',
    },
  ];
  for (const body of exceptionBodies) {
    probes.push({
      method: 'post',
      path: `${stepBase}/${stepId}/exception`,
      body,
    });
  }
  for (const body of [
    { note: '' },
    { note: 5 },
    {},
    { note: 'x', verified: true },
  ]) {
    probes.push({ method: 'post', path: `${stepBase}/${stepId}/attest`, body });
  }
  for (const q of [
    'format=xml',
    'format=',
    'format[]=csv',
    'x=1',
    'limit=0',
    'limit=1001',
    'limit=2.5',
    'limit=abc',
    'afterSeq=-1',
    'afterSeq=abc',
    'afterSeq[]=1',
    'format=csv&limit=10',
    'format=csv&afterSeq=3',
    'format=export&limit=10',
  ]) {
    probes.push({ method: 'get', path: `${real}/evidence?${q}` });
  }
  // The retirement's steps, paged.
  for (const q of ['steps=some', 'steps=', 'steps[]=all', 'x=1']) {
    probes.push({ method: 'get', path: `${real}?${q}` });
  }
  for (const q of [
    'limit=0',
    'limit=501',
    'limit=abc',
    'cursor=abc*',
    'cursor=',
    `cursor=${'a'.repeat(401)}`,
    'cursor=bm9wZQ',
    'cursor=%00',
    'status=done',
    'status=running,nope',
    'sort=1',
  ]) {
    probes.push({ method: 'get', path: `${real}/steps?${q}` });
  }

  // Lists and platform views.
  for (const q of [
    'limit=0',
    'limit=501',
    'limit=abc',
    'limit=-5',
    'status=done',
    'status=running,nope',
    'cursor=abc',
    'cursor=%00',
    `entityRef=${encodeURIComponent("x' OR 1=1")}`,
    'owner=%3A%3A%3A',
    'kind=com%20ponent',
    'sort=1',
  ]) {
    probes.push({ method: 'get', path: `/retirements?${q}` });
  }
  for (const q of ['limit=0', 'limit=5001', 'cursor=x', 'sort=1']) {
    probes.push({ method: 'get', path: `/residual-access?${q}` });
  }
  probes.push({ method: 'get', path: '/exceptions?status=maybe' });
  probes.push({ method: 'get', path: '/stats?days=3' });

  // Methods and routes that do not exist: there is no way to edit evidence.
  for (const method of ['put', 'patch', 'delete', 'post'] as const) {
    probes.push({ method, path: `${real}/evidence`, body: {} });
  }
  probes.push({ method: 'put', path: real, body: { status: 'completed' } });
  probes.push({ method: 'delete', path: real });
  probes.push({ method: 'get', path: '/../../catalog/entities' });
  return probes;
}

async function dump(knex: any): Promise<string> {
  const tables = [
    'nhi_anchors',
    'nhi_retirements',
    'nhi_steps',
    'nhi_exceptions',
    'nhi_evidence',
  ];
  const out: Record<string, unknown[]> = {};
  for (const table of tables) {
    out[table] = await knex(table)
      .select('*')
      .orderBy(table === 'nhi_evidence' ? ['retirement_id', 'seq'] : ['id']);
  }
  return JSON.stringify(out);
}

describe.each(databases.eachSupportedId())(
  'hostile and malformed requests on %p',
  databaseId => {
    it('answers every one with a clear 4xx and changes nothing', async () => {
      const knex = await databases.init(databaseId);
      const sys = new InMemoryCredentialSystem('sys');
      sys.add('stripe-key', 'api-key');
      const backend = await startTestBackend({
        features: [
          nhiOffboardingPlugin,
          providersModule(sys),
          mockServices.database.factory({ knex }),
          catalogServiceMock.factory({
            entities: [
              {
                apiVersion: 'backstage.io/v1alpha1',
                kind: 'Component',
                metadata: {
                  name: 'payments-api',
                  namespace: 'default',
                  annotations: { 'nhi-offboarding/sys': 'stripe-key' },
                },
                spec: {
                  type: 'service',
                  owner: 'group:default/payments',
                  lifecycle: 'production',
                },
              },
            ],
          }),
          // The engine stays still so the database only changes through requests.
          mockServices.rootConfig.factory({
            data: { nhiOffboarding: { engine: { enabled: false } } },
          }),
        ],
      });
      const auth = {
        Authorization: mockCredentials.user.header('user:default/alice'),
      };
      const api = (p: string) => `/api/nhi-offboarding${p}`;
      try {
        const created = await request(backend.server)
          .post(api('/retirements'))
          .set(auth)
          .send({ entityRef: ENTITY, mode: 'revoke', reason: 'seed' });
        expect(created.status).toBe(201);
        const retirementId = created.body.id;
        const stepId = created.body.steps[0].id;

        // Two identical POSTs at once: one wins, the other is a conflict.
        const twins = await Promise.all(
          [1, 2].map(() =>
            request(backend.server)
              .post(api('/retirements'))
              .set(auth)
              .send({ entityRef: ENTITY, mode: 'revoke', reason: 'twin' }),
          ),
        );
        expect(twins.map(t => t.status)).toEqual([409, 409]);

        const before = await dump(knex);
        const probes = corpus(retirementId, stepId);
        expect(probes.length).toBeGreaterThanOrEqual(200);
        const answers: { probe: string; status: number; message: string }[] =
          [];
        for (const probe of probes) {
          let req = request(backend.server)
            [probe.method](api(probe.path))
            .set(auth);
          if (probe.raw !== undefined) {
            req = req.set('Content-Type', probe.contentType!).send(probe.raw);
          } else if (probe.body !== undefined) {
            req = req.send(probe.body as object);
          }
          const res = await req;
          answers.push({
            probe: `${probe.method.toUpperCase()} ${probe.path.slice(
              0,
              80,
            )} ${JSON.stringify(probe.body ?? probe.raw ?? '').slice(0, 120)}`,
            status: res.status,
            message: res.body?.error?.message ?? '',
          });
        }
        const wrong = answers.filter(
          a =>
            a.status < 400 || a.status >= 500 || a.message.trim().length < 10,
        );
        expect(wrong).toEqual([]);
        // No answer echoes a stack trace or SQL.
        expect(
          answers.filter(a =>
            /\bat .*\.ts:\d+|select .* from|insert into/i.test(a.message),
          ),
        ).toEqual([]);
        expect(await dump(knex)).toEqual(before);
      } finally {
        await backend.stop();
      }
    });
  },
);
