/*
 * Test helper: a throwaway PostgreSQL cluster with SCRAM password
 * authentication, so that tests can show that a login really fails.
 *
 * initdb refuses to run as root, so when the tests run as root the cluster
 * is created and started as the `postgres` OS user (runuser). When that is
 * not possible the helper falls back to an existing server (env
 * NHI_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres),
 * which on this machine uses TRUST authentication: passwords are then not
 * checked, and `passwordsEnforced` is false.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getFreePort } from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';

const run = promisify(execFile);

/** A running PostgreSQL server for tests. */
export interface TestPostgres {
  /** `own-cluster`: started for the test; `shared-server`: the fallback. */
  mode: 'own-cluster' | 'shared-server';
  /** One line saying which server runs and why. */
  description: string;
  host: string;
  port: number;
  /** A superuser. */
  user: string;
  password?: string;
  database: string;
  /** postgresql://user:password@host:port/database */
  connectionString: string;
  /** True when the server checks passwords (SCRAM); false under TRUST. */
  passwordsEnforced: boolean;
  /** Stops the cluster and removes its folder (no-op for the fallback). */
  stop(): Promise<void>;
}

export interface StartTestPostgresOptions {
  /** Skip the own cluster and use the fallback server. */
  forceShared?: boolean;
}

function findBinDir(): string | undefined {
  const fromEnv = process.env.NHI_TEST_PG_BINDIR;
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter(v => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = join(base, v, 'bin');
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) {
      return dir;
    }
  }
  return undefined;
}

async function osUserIds(
  name: string,
): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const uid = Number((await run('id', ['-u', name])).stdout.trim());
    const gid = Number((await run('id', ['-g', name])).stdout.trim());
    return Number.isInteger(uid) && Number.isInteger(gid)
      ? { uid, gid }
      : undefined;
  } catch {
    return undefined;
  }
}

async function startOwnCluster(): Promise<TestPostgres> {
  const binDir = findBinDir();
  if (!binDir) throw new Error('initdb/pg_ctl not found');
  const isRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | undefined;
  let asOwner: (cmd: string, args: string[]) => Promise<unknown>;
  if (isRoot) {
    owner = await osUserIds('postgres');
    if (!owner) throw new Error('running as root and no `postgres` OS user');
    asOwner = (cmd, args) =>
      run('runuser', ['-u', 'postgres', '--', cmd, ...args], {
        timeout: 60_000,
      });
  } else {
    asOwner = (cmd, args) => run(cmd, args, { timeout: 60_000 });
  }

  const dir = await mkdtemp(join(tmpdir(), 'nhi-pg-'));
  const dataDir = join(dir, 'data');
  const pwFile = join(dir, 'pwfile');
  const logFile = join(dir, 'postgres.log');
  const password = `pg-${randomBytes(12).toString('hex')}`;
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    if (owner) await chown(dir, owner.uid, owner.gid);
    await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (owner) await chown(pwFile, owner.uid, owner.gid);
    await asOwner(join(binDir, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${pwFile}`,
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await rm(pwFile, { force: true });

    let port = 0;
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && !port; attempt++) {
      const candidate = await getFreePort();
      try {
        await asOwner(join(binDir, 'pg_ctl'), [
          '-D',
          dataDir,
          '-l',
          logFile,
          '-o',
          `-p ${candidate} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=50`,
          '-w',
          '-t',
          '30',
          'start',
        ]);
        port = candidate;
      } catch (err) {
        lastError = err; // the port was taken in between: try another
      }
    }
    if (!port) throw lastError;
    const pid = Number(
      (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0],
    );

    const stop = async () => {
      try {
        await asOwner(join(binDir, 'pg_ctl'), [
          '-D',
          dataDir,
          '-m',
          'immediate',
          '-w',
          '-t',
          '20',
          'stop',
        ]);
      } catch {
        // pg_ctl failed: signal our own postmaster directly.
        try {
          process.kill(pid, 'SIGQUIT');
        } catch {
          /* already gone */
        }
      }
      await cleanup();
    };
    return {
      mode: 'own-cluster',
      description: `own throwaway PostgreSQL cluster (${binDir}) on 127.0.0.1:${port}, SCRAM-SHA-256 auth, postmaster pid ${pid}`,
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password,
      database: 'postgres',
      connectionString: `postgresql://postgres:${encodeURIComponent(
        password,
      )}@127.0.0.1:${port}/postgres`,
      passwordsEnforced: true,
      stop,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function sharedServer(reason: string): TestPostgres {
  const url =
    process.env.NHI_TEST_PG_URL ??
    'postgresql://postgres@127.0.0.1:5432/postgres';
  const parsed = new URL(url);
  const password = parsed.password
    ? decodeURIComponent(parsed.password)
    : undefined;
  const port = Number(parsed.port || 5432);
  return {
    mode: 'shared-server',
    description: `shared PostgreSQL server at ${parsed.hostname}:${port} (NHI_TEST_PG_URL; ${reason})`,
    host: parsed.hostname,
    port,
    user: decodeURIComponent(parsed.username || 'postgres'),
    password,
    database: parsed.pathname.replace(/^\//, '') || 'postgres',
    connectionString: url,
    passwordsEnforced: false,
    stop: async () => {},
  };
}

/**
 * Starts a throwaway cluster, or falls back to the shared server. The
 * result says which one runs (`mode`, `description`).
 */
export async function startTestPostgres(
  options: StartTestPostgresOptions = {},
): Promise<TestPostgres> {
  if (options.forceShared || process.env.NHI_TEST_PG_FORCE_SHARED === '1') {
    return sharedServer('own cluster not wanted');
  }
  try {
    return await startOwnCluster();
  } catch (err) {
    const reason = `own cluster could not start: ${
      err instanceof Error ? err.message.split('\n')[0] : String(err)
    }`;
    return sharedServer(reason);
  }
}
