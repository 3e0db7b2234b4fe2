import { TestDatabases } from '@backstage/backend-test-utils';
import { Client } from 'pg';
import { applyDatabaseMigrations } from './migrations';
import { RetirementStore } from './RetirementStore';
import { createTestRetirement } from '../testing/retirementFixtures';
import {
  compiledRead,
  disablePreparedStatements,
  preparedRead,
} from './dbUtil';

jest.setTimeout(60_000);

const databases = TestDatabases.create({
  ids: ['SQLITE_3', 'POSTGRES_15'],
  disableDocker: true,
});

const now = new Date('2026-11-01T00:00:00Z');

describe.each(databases.eachSupportedId())('preparedRead on %p', databaseId => {
  it('reads what the query reads, past knex’s runner; named on PostgreSQL; unless turned off', async () => {
    const knex = await databases.init(databaseId);
    await applyDatabaseMigrations(knex);
    const store = new RetirementStore(knex);
    const entityRef = 'component:default/prepared';
    await createTestRetirement(store, { entityRef, now, count: 3 });
    const query = () =>
      knex('nhi_anchors')
        .where('entity_ref', entityRef)
        .orderBy('id')
        .select('id', 'status', 'change_seq');
    const sent = jest.spyOn(Client.prototype, 'query');
    const names = () =>
      sent.mock.calls
        .map(([config]) => (config as { name?: string })?.name)
        .filter(Boolean);

    const viaKnex: string[] = [];
    knex.on('query', (q: { sql: string }) => viaKnex.push(q.sql));

    const expected = await query();
    expect(expected).toHaveLength(3);
    // A boolean binding, as knex's runner formats it for each database.
    const onHold = () =>
      knex('nhi_retirements').where('legal_hold', false).select('id');
    const notHeld = await onHold();
    expect(notHeld).toHaveLength(1);
    viaKnex.length = 0;
    sent.mockClear();
    expect(await preparedRead(knex, query())).toEqual(expected);
    expect(await preparedRead(knex, query())).toEqual(expected);
    expect(await preparedRead(knex, onHold())).toEqual(notHeld);
    expect(viaKnex).toEqual([]);
    // Another text is another statement.
    await preparedRead(knex, query().limit(1));
    const named = names();
    const onPostgres = databaseId === 'POSTGRES_15';
    const aName = expect.stringMatching(/^nhi_[0-9a-f]{24}$/);
    // The same query twice, the boolean read, another text.
    expect(named).toEqual(onPostgres ? [aName, named[0], aName, aName] : []);
    expect(new Set(named).size).toBe(onPostgres ? 3 : 0);

    disablePreparedStatements(knex);
    sent.mockClear();
    expect(await preparedRead(knex, query())).toEqual(expected);
    expect(names()).toEqual([]);
    expect(viaKnex).toHaveLength(1);
    sent.mockRestore();
  });
});

describe.each(databases.eachSupportedId())('compiledRead on %p', databaseId => {
  it('builds the query once and runs it with each call’s arguments in their places; plain when turned off', async () => {
    const knex = await databases.init(databaseId);
    await applyDatabaseMigrations(knex);
    const store = new RetirementStore(knex);
    const refs = [
      'component:default/compiled-a',
      'component:default/compiled-b',
    ];
    await createTestRetirement(store, { entityRef: refs[0], now, count: 2 });
    await createTestRetirement(store, { entityRef: refs[1], now, count: 3 });
    // Two arguments, one of them used twice, beside a constant binding.
    const build = jest.fn((entityRef: string, kind: string) =>
      knex('nhi_anchors')
        .where('entity_ref', entityRef)
        .where(q => q.where('kind', kind).orWhere('display_name', kind))
        .whereNot('status', 'no-such-status')
        .orderBy('id')
        .select('id', 'entity_ref', 'kind'),
    );
    const read = compiledRead(knex, build);
    expect(build).toHaveBeenCalledTimes(1);
    const [{ kind }] = await knex('nhi_anchors')
      .where('entity_ref', refs[1])
      .select('kind');
    const viaKnex: string[] = [];
    knex.on('query', (q: { sql: string }) => viaKnex.push(q.sql));
    for (const ref of [...refs, 'component:default/none', refs[0]]) {
      const expected = await build(ref, kind);
      viaKnex.length = 0;
      expect(await read(ref, kind)).toEqual(expected);
      expect(viaKnex).toEqual([]);
    }
    expect((await read(refs[1], kind)).length).toBeGreaterThan(0);
    expect(await read(refs[1], 'no-such-kind')).toEqual([]);
    // Built once more for each expected answer above, never for a read.
    expect(build).toHaveBeenCalledTimes(5);

    // An argument that does not reach the SQL as a binding cannot be compiled.
    expect(() =>
      compiledRead(knex, (prefix: string) =>
        knex('nhi_anchors').where('entity_ref', 'like', `${prefix}%`),
      ),
    ).toThrow(/an argument is not a binding/);

    disablePreparedStatements(knex);
    viaKnex.length = 0;
    expect(await read(refs[0], kind)).toEqual(await build(refs[0], kind));
    expect(viaKnex).toHaveLength(2);
  });
});

describe('preparedRead on POSTGRES_15 when a migration changes a table', () => {
  it('falls back to plain statements when a prepared one no longer fits', async () => {
    if (!databases.eachSupportedId().some(([id]) => id === 'POSTGRES_15')) {
      throw new Error('PostgreSQL is needed for this test');
    }
    const knex = await databases.init('POSTGRES_15');
    await knex.schema.createTable('prepared_probe', t => {
      t.integer('id');
    });
    await knex('prepared_probe').insert([{ id: 1 }, { id: 2 }]);
    const read = () =>
      preparedRead(knex, knex('prepared_probe').select('*').orderBy('id'));
    // Several connections of the pool get the statement.
    await Promise.all(Array.from({ length: 5 }, read));
    await knex.schema.alterTable('prepared_probe', t => {
      t.string('note');
    });
    const sent = jest.spyOn(Client.prototype, 'query');
    const after = await Promise.all(Array.from({ length: 5 }, read));
    for (const rows of after) {
      expect(rows).toEqual([
        { id: 1, note: null },
        { id: 2, note: null },
      ]);
    }
    // At least one read met its old statement; from then on, plain ones.
    sent.mockClear();
    await read();
    expect(
      sent.mock.calls.filter(([c]) => (c as { name?: string })?.name),
    ).toEqual([]);
    sent.mockRestore();
  });
});
