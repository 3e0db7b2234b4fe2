import request from 'supertest';
import { Client } from 'pg';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { Retirement } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { nhiOffboardingPlugin } from '../plugin';
import {
  startTestPostgres,
  TestPostgres,
} from '../providers/postgres/testing/startTestPostgres';

jest.setTimeout(120_000);

/*
 * End to end through the REST API against a real PostgreSQL server: an
 * entity linked to a login role is retired, and afterwards the role's own
 * login fails and its open session is gone.
 */
describe('retiring an entity whose credential is a PostgreSQL role', () => {
  let pg: TestPostgres;
  let admin: Client;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  const role = `nhi_e2e_${process.pid}`;
  const password = `Pw-${Math.random().toString(36).slice(2)}-x9`;

  const login = () =>
    new Client({
      host: pg.host,
      port: pg.port,
      database: pg.database,
      user: role,
      password,
    });

  beforeAll(async () => {
    pg = await startTestPostgres();
    admin = new Client({ connectionString: pg.connectionString });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    backend = await startTestBackend({
      features: [
        nhiOffboardingPlugin,
        catalogServiceMock.factory({
          entities: [
            {
              apiVersion: 'backstage.io/v1alpha1',
              kind: 'Component',
              metadata: {
                name: 'ledger',
                namespace: 'default',
                annotations: { 'nhi-offboarding/pg-main': role },
              },
              spec: {
                type: 'service',
                owner: 'group:default/payments',
                lifecycle: 'production',
              },
            },
          ],
        }),
        mockServices.rootConfig.factory({
          data: {
            nhiOffboarding: {
              engine: { pollIntervalMs: 50 },
              providers: [
                {
                  id: 'pg-main',
                  type: 'postgres',
                  connection: pg.connectionString,
                  dropRole: true,
                },
              ],
            },
          },
        }),
      ],
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await admin?.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
    await admin?.end();
    await pg?.stop();
  });

  it('revokes the role, ends its session, and the evidence proves it', async () => {
    const held = login();
    await held.connect();
    const heldError = new Promise<Error>(resolve => held.on('error', resolve));
    expect((await held.query('select current_user as u')).rows[0].u).toBe(role);

    const auth = {
      Authorization: mockCredentials.user.header('user:default/alice'),
    };
    const anchors = await request(backend.server)
      .get(
        '/api/nhi-offboarding/entities/component/default/ledger/trust-anchors',
      )
      .set(auth);
    expect(anchors.body.items).toEqual([
      expect.objectContaining({
        providerId: 'pg-main',
        externalId: role,
        kind: 'db-user',
        status: 'active',
      }),
    ]);
    expect(JSON.stringify(anchors.body)).not.toContain(password);

    const created = await request(backend.server)
      .post('/api/nhi-offboarding/retirements')
      .set(auth)
      .send({
        entityRef: 'component:default/ledger',
        mode: 'revoke',
        reason: 'ledger replaced',
      });
    expect(created.status).toBe(201);

    let retirement: Retirement = created.body;
    for (
      let i = 0;
      i < 200 &&
      retirement.status !== 'completed' &&
      retirement.status !== 'needs-attention';
      i++
    ) {
      await new Promise(r => setTimeout(r, 100));
      retirement = (
        await request(backend.server)
          .get(`/api/nhi-offboarding/retirements/${retirement.id}`)
          .set(auth)
      ).body;
    }
    expect(retirement.statusReason).toBeUndefined();
    expect(retirement.status).toBe('completed');

    // The held session was terminated, and a new login is refused.
    expect((await heldError).message).toMatch(/terminat/i);
    const again = login();
    const refused = await again.connect().then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(refused).toBeDefined();
    expect(['28P01', '28000']).toContain(refused!.code);
    const exists = await admin.query(
      'select 1 from pg_roles where rolname = $1',
      [role],
    );
    expect(exists.rowCount).toBe(0);

    const evidence = await request(backend.server)
      .get(`/api/nhi-offboarding/retirements/${retirement.id}/evidence`)
      .set(auth);
    const verification = evidence.body.items.find(
      (e: any) => e.kind === 'verification',
    );
    expect(verification.data).toMatchObject({
      outcome: 'untrusted',
      providerId: 'pg-main',
    });
    expect(JSON.stringify(evidence.body)).not.toContain(password);
    const verify = await request(backend.server)
      .get(`/api/nhi-offboarding/retirements/${retirement.id}/evidence/verify`)
      .set(auth);
    expect(verify.body).toMatchObject({ valid: true });
  });
});
