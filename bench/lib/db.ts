/*
 * The plugin's database for a benchmark, built by Backstage's own
 * DatabaseManager (the code path of a real backend, so the knex client,
 * pool and SQLite/PostgreSQL settings are the production ones):
 *
 * - sqlite: better-sqlite3, a file in a fresh temp directory (removed after);
 * - postgres: a new database `nhi_bench_<tag>_<pid>_nhi-offboarding` on
 *   BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres),
 *   dropped after unless BENCH_KEEP_DB=1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { knex as createKnex } from 'knex';
import { ConfigReader } from '@backstage/config';
import { DatabaseManager } from '@backstage/backend-defaults/database';
import { tuneDatabase } from '../../plugins/nhi-offboarding-backend/src/database/tuneDatabase';
import { applyDatabaseMigrations } from '../../plugins/nhi-offboarding-backend/src/database/migrations';
import { DbKind, log, quietLogger } from './common';

export const PG_URL =
  process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface BenchDb {
  kind: DbKind;
  /** How another process opens the same database (createBenchDb's attach). */
  attach: { sqliteDir?: string; pgPrefix?: string };
  knex: Knex;
  /** Where the data is (file or database name), for the report. */
  where: string;
  /** Closes the client and removes the file / drops the database. */
  dispose(): Promise<void>;
}

function pgParts() {
  const u = new URL(PG_URL);
  return {
    // BENCH_PG_SOCKET_DIR: connect through the server's Unix socket
    // (e.g. /var/run/postgresql) instead of TCP.
    host: process.env.BENCH_PG_SOCKET_DIR || u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: u.pathname.replace(/^\//, '') || 'postgres',
  };
}

/** An admin connection to the server's maintenance database. */
export function pgAdmin(): Knex {
  return createKnex({
    client: 'pg',
    connection: pgParts(),
    pool: { min: 0, max: 2 },
  });
}

export async function createBenchDb(
  kind: DbKind,
  tag: string,
  options: {
    migrate?: boolean;
    /** Whose database (default the plugin's); another plugin's is not migrated here. */
    pluginId?: string;
    /** Open a database another process created (nothing is removed on dispose). */
    attach?: { sqliteDir?: string; pgPrefix?: string };
  } = {},
): Promise<BenchDb> {
  const attached = Boolean(options.attach);
  const pluginId = options.pluginId ?? 'nhi-offboarding';
  const lifecycle = {
    hooks: [] as (() => Promise<void> | void)[],
    addStartupHook() {},
    addShutdownHook(hook: () => Promise<void> | void) {
      this.hooks.push(hook);
    },
  };
  const deps = {
    logger: quietLogger('db'),
    lifecycle: lifecycle as any,
    pluginMetadata: { getId: () => 'nhi-offboarding' },
  };
  // The manager's own shutdown (keepalive timers, pools) runs on dispose.
  const managerOptions = {
    rootLifecycle: lifecycle as any,
    rootLogger: deps.logger as any,
  };
  let db: Knex;
  let where: string;
  let attach: BenchDb['attach'];
  let cleanup: () => Promise<void>;
  if (kind === 'sqlite') {
    const dir =
      options.attach?.sqliteDir ??
      mkdtempSync(join(tmpdir(), `nhi-bench-${tag}-`));
    const manager = DatabaseManager.fromConfig(
      new ConfigReader({
        backend: {
          database: {
            client: 'better-sqlite3',
            connection: { directory: dir },
          },
        },
      }),
      managerOptions,
    );
    db = await manager
      .forPlugin(pluginId, {
        ...deps,
        pluginMetadata: { getId: () => pluginId },
      } as any)
      .getClient();
    where = join(dir, `${pluginId}.sqlite`);
    attach = { sqliteDir: dir };
    cleanup = async () => {
      for (const hook of lifecycle.hooks) await hook();
      await db.destroy();
      if (!attached) rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const prefix =
      options.attach?.pgPrefix ?? `nhi_bench_${tag}_${process.pid}_`;
    const database = `${prefix}${pluginId}`;
    const p = pgParts();
    const manager = DatabaseManager.fromConfig(
      new ConfigReader({
        backend: {
          database: {
            client: 'pg',
            prefix,
            connection: {
              host: p.host,
              port: p.port,
              user: p.user,
              ...(p.password ? { password: p.password } : {}),
            },
          },
        },
      }),
      managerOptions,
    );
    db = await manager
      .forPlugin(pluginId, {
        ...deps,
        pluginMetadata: { getId: () => pluginId },
      } as any)
      .getClient();
    where = `postgres ${p.host}:${p.port}/${database}`;
    attach = { pgPrefix: prefix };
    cleanup = async () => {
      for (const hook of lifecycle.hooks) await hook();
      await db.destroy();
      if (attached) return;
      if (process.env.BENCH_KEEP_DB === '1') {
        log(`kept ${where} (BENCH_KEEP_DB=1)`);
        return;
      }
      const admin = pgAdmin();
      try {
        await admin.raw(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      } finally {
        await admin.destroy();
      }
    };
  }
  if (process.env.BENCH_SQLITE_ROLLBACK_JOURNAL === '1') {
    // Before/after comparison only: Backstage's SQLite defaults (rollback
    // journal, synchronous=FULL), i.e. without the plugin's tuneDatabase.
    if (kind === 'sqlite') where += ' (rollback journal, synchronous=FULL)';
  } else {
    // What the plugin does at start-up (SQLite: WAL, synchronous=NORMAL).
    await tuneDatabase(db);
    if (kind === 'sqlite') where += ' (WAL, synchronous=NORMAL)';
  }
  if (options.migrate !== false && pluginId === 'nhi-offboarding') {
    await applyDatabaseMigrations(db);
  }
  return { kind, knex: db, where, attach: attach!, dispose: cleanup };
}

/** Drops databases left by an earlier run that was killed (nhi_bench_%). */
export async function dropStaleBenchDatabases(): Promise<string[]> {
  const admin = pgAdmin();
  try {
    const rows = await admin('pg_database')
      .where('datname', 'like', 'nhi_bench\\_%')
      .select('datname');
    const dropped: string[] = [];
    for (const { datname } of rows) {
      // Seeded once on purpose (api-scale.ts --persist), reused by later runs.
      if (datname.startsWith('nhi_bench_scale_')) continue;
      const m = /^nhi_bench_[a-z0-9]+_(\d+)_/.exec(datname);
      if (m && isAlive(Number(m[1]))) continue;
      await admin.raw(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      dropped.push(datname);
    }
    return dropped;
  } finally {
    await admin.destroy();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
