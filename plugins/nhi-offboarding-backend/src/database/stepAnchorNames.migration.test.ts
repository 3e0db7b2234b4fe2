import { TestDatabases } from '@backstage/backend-test-utils';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { applyDatabaseMigrations } from './migrations';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const config = {
  directory: resolvePackagePath(
    '@nhi-offboarding/plugin-nhi-offboarding-backend',
    'migrations',
  ),
  tableName: 'nhi_offboarding__knex_migrations',
};

describe.each(databases.eachSupportedId())(
  'migration 5 (steps keep their anchors’ names) on %p',
  databaseId => {
    it('gives steps planned before it the names of their anchors, and none to a step whose anchor is gone', async () => {
      const knex = await databases.init(databaseId);
      // Every migration before it.
      for (;;) {
        const [, pending] = await knex.migrate.list(config);
        const next = pending[0]?.file ?? pending[0]?.name ?? pending[0];
        if (String(next).includes('api_5_step_anchor_names')) break;
        await knex.migrate.up(config);
      }
      const now = '2026-11-01T00:00:00.000Z';
      await knex('nhi_anchors').insert({
        id: 'anc_1',
        entity_ref: 'component:default/old',
        provider_id: 'sys',
        kind: 'api-key',
        external_id: 'k1',
        display_name: 'Old key',
        fingerprint: 'sha256:1',
        scopes: '[]',
        shared_with: '[]',
        manual: false,
        status: 'active',
        discovered_at: now,
        discovered_by: 'sys',
      });
      await knex('nhi_retirements').insert({
        id: 'ret_1',
        entity_ref: 'component:default/old',
        mode: 'revoke',
        status: 'running',
        reason: 'test',
        requested_by: 'user:default/alice',
        current_stage: 5,
        created_at: now,
        updated_at: now,
      });
      const step = (id: string, anchorId: string | null) => ({
        id,
        retirement_id: 'ret_1',
        anchor_id: anchorId,
        stage: 5,
        phase: 3,
        action: 'revoke',
        manual: false,
        after_quarantine: false,
        rationale: 'test',
        status: 'pending',
        attempts: 0,
      });
      await knex('nhi_steps').insert([
        step('stp_1', 'anc_1'),
        step('stp_gone', 'anc_gone'),
        step('stp_seal', null),
      ]);

      await applyDatabaseMigrations(knex);
      const rows = await knex('nhi_steps')
        .orderBy('id')
        .select('id', 'anchor_name', 'anchor_kind', 'provider_id');
      expect(rows).toEqual([
        {
          id: 'stp_1',
          anchor_name: 'Old key',
          anchor_kind: 'api-key',
          provider_id: 'sys',
        },
        {
          id: 'stp_gone',
          anchor_name: null,
          anchor_kind: null,
          provider_id: null,
        },
        {
          id: 'stp_seal',
          anchor_name: null,
          anchor_kind: null,
          provider_id: null,
        },
      ]);
    });
  },
);
