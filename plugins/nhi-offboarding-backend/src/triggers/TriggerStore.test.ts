import { TestDatabases } from '@backstage/backend-test-utils';
import { applyDatabaseMigrations } from '../database/migrations';
import { NewFiring, TriggerStore } from './TriggerStore';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const NOW = new Date('2026-11-27T10:00:00Z');

const firing = (key: string, entity = 'component:default/a'): NewFiring => ({
  key,
  trigger: 'event',
  entityRef: entity,
  action: 'retire',
  detail: `event ${key}`,
  mode: 'revoke',
  reason: 'HR system: contractor offboarded',
});

describe.each(databases.eachSupportedId())('TriggerStore on %p', id => {
  async function store() {
    const knex = await databases.init(id);
    await applyDatabaseMigrations(knex);
    return new TriggerStore(knex);
  }

  it('records an occurrence once, however often and however concurrently it is seen', async () => {
    const s = await store();
    const first = await s.record(firing('evt-1'), NOW);
    expect(first.created).toBe(true);
    const again = await s.record(firing('evt-1'), NOW);
    expect(again).toEqual({ firing: first.firing, created: false });

    const racing = await Promise.all(
      Array.from({ length: 8 }, () => s.record(firing('evt-2'), NOW)),
    );
    expect(racing.filter(r => r.created)).toHaveLength(1);
    expect(new Set(racing.map(r => r.firing.id)).size).toBe(1);
    expect(await s.list({ limit: 50 })).toHaveLength(2);
  });

  it('moves a firing only from the statuses given, so one of two deciders wins', async () => {
    const s = await store();
    const { firing: f } = await s.record(
      { ...firing('evt-3'), action: 'propose', status: 'proposed' },
      NOW,
    );
    expect(await s.openProposal('component:default/a', 'other')).toMatchObject({
      id: f.id,
    });
    const [a, b] = await Promise.all([
      s.transition(
        f.id,
        ['proposed'],
        { status: 'dismissed', decidedBy: 'x' },
        NOW,
      ),
      s.transition(
        f.id,
        ['proposed'],
        { status: 'started', decidedBy: 'y' },
        NOW,
      ),
    ]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect(['dismissed', 'started']).toContain((await s.get(f.id))!.status);
    expect(
      await s.openProposal('component:default/a', 'other'),
    ).toBeUndefined();
  });

  it('keeps the catalog baseline: upserts, and finds what was not seen since', async () => {
    const s = await store();
    const row = (ref: string, seen: string, lifecycle = 'production') => ({
      entity_ref: ref,
      lifecycle,
      snapshot: '{}',
      version: 1,
      seen_at: seen,
    });
    await s.saveBaselines([
      row('component:default/a', '2026-11-27T09:00:00Z'),
      row('component:default/b', '2026-11-27T09:00:00Z'),
    ]);
    await s.saveBaselines([
      row('component:default/a', '2026-11-27T10:00:00Z', 'deprecated'),
    ]);
    expect(await s.baselineCount()).toBe(2);
    const byRef = await s.baselines(['component:default/a']);
    expect(byRef.get('component:default/a')).toMatchObject({
      lifecycle: 'deprecated',
    });
    const gone = await s.notSeenSince('2026-11-27T09:30:00Z');
    expect(gone.map(r => r.entity_ref)).toEqual(['component:default/b']);
  });
});
