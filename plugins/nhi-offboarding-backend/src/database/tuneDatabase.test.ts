import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import knexFactory, { Knex } from 'knex';
import { tuneDatabase } from './tuneDatabase';

describe('tuneDatabase on a SQLite file', () => {
  let dir: string;
  let db: Knex;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nhi-tune-'));
    db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: join(dir, 'plugin.sqlite') },
      useNullAsDefault: true,
    });
    await tuneDatabase(db);
  });

  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes ahead to a log, synchronous=NORMAL', async () => {
    const [mode] = await db.raw('PRAGMA journal_mode');
    expect(mode.journal_mode).toBe('wal');
    const [sync] = await db.raw('PRAGMA synchronous');
    expect(sync.synchronous).toBe(1); // NORMAL
  });

  it('reuses prepared statements with any bindings, and follows schema changes', async () => {
    await db.schema.createTable('t', t => {
      t.integer('id').primary();
      t.string('name');
    });
    await db('t').insert([
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
    ]);
    const byId = (id: number) => db('t').where('id', id).first();
    expect(await byId(1)).toEqual({ id: 1, name: 'one' });
    expect(await byId(2)).toEqual({ id: 2, name: 'two' });
    const connection: any = await db.client.acquireConnection();
    const kept: Map<string, unknown> = connection.__nhiStatements;
    await db.client.releaseConnection(connection);
    const sql = db('t').where('id', 1).first().toSQL().sql;
    expect(kept.has(sql)).toBe(true);
    const statement = kept.get(sql);
    await byId(1);
    expect(kept.get(sql)).toBe(statement); // the same object, not prepared again
    // A cached `select *` sees a column added after it was prepared.
    await db.schema.alterTable('t', t => t.string('owner'));
    await db('t').where('id', 1).update({ owner: 'group:default/a' });
    expect(await byId(1)).toEqual({
      id: 1,
      name: 'one',
      owner: 'group:default/a',
    });
    // Writes and transactions go through it too.
    await db.transaction(async trx => {
      await trx('t').insert({ id: 3, name: 'three' });
    });
    expect(await byId(3)).toEqual({ id: 3, name: 'three', owner: null });
  });

  it('keeps at most 500 statements', async () => {
    for (let i = 0; i < 600; i++) await db.raw(`select ${i} as n`);
    const connection: any = await db.client.acquireConnection();
    const kept: Map<string, unknown> = connection.__nhiStatements;
    await db.client.releaseConnection(connection);
    expect(kept.size).toBe(500);
    expect(kept.has('select 599 as n')).toBe(true);
    expect(kept.has('select 0 as n')).toBe(false);
  });
});
