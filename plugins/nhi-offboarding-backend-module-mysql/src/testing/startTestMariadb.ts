/*
 * Test helper: a throwaway MariaDB server on a free loopback port, with a
 * root password, so that tests can show that a login really fails.
 *
 * `mariadb-install-db` creates the data directory (~3 s) and `mariadbd`
 * serves it (~1 s). When that is not possible the helper falls back to an
 * existing server (env NHI_TEST_MYSQL_URL, default
 * mysql://root@127.0.0.1:3306), whose admin may have no password
 * (`passwordsEnforced` then says whether the admin's password is checked).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { getFreePort } from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';

const run = promisify(execFile);

/** A running MySQL-compatible server for tests. */
export interface TestMariadb {
  /** `own-server`: started for the test; `shared-server`: the fallback. */
  mode: 'own-server' | 'shared-server';
  /** One line saying which server runs and why. */
  description: string;
  host: string;
  port: number;
  /** An account with ALL PRIVILEGES ... WITH GRANT OPTION. */
  user: string;
  password?: string;
  /** mysql://user:password@host:port */
  url: string;
  /** True when the admin's password is checked (a wrong one fails). */
  passwordsEnforced: boolean;
  /** Stops the server and removes its folder (no-op for the fallback). */
  stop(): Promise<void>;
}

export interface StartTestMariadbOptions {
  /** Skip the own server and use the fallback. */
  forceShared?: boolean;
}

function findBinary(names: string[]): string | undefined {
  const dirs = [
    process.env.NHI_TEST_MARIADB_BINDIR,
    ...(process.env.PATH ?? '').split(':'),
    '/usr/sbin',
    '/usr/bin',
    '/usr/local/bin',
    '/usr/local/sbin',
  ].filter((d): d is string => Boolean(d));
  for (const name of names) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

async function waitForServer(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', code => {
    exited = code;
  });
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`mariadbd exited with code ${exited}`);
    }
    try {
      const c = await createConnection({
        host: '127.0.0.1',
        port,
        user: 'root',
        connectTimeout: 1000,
      });
      await c.end();
      return;
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      // Refused for a reason other than "nothing listens yet": it is up.
      if (errno && errno > 1000) return;
      if (Date.now() > until) throw err;
      await new Promise(r => setTimeout(r, 100));
    }
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startOwnServer(): Promise<TestMariadb> {
  const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
  const mariadbd = findBinary(['mariadbd', 'mysqld']);
  if (!installDb || !mariadbd) {
    throw new Error('mariadb-install-db / mariadbd not found');
  }
  const dir = await mkdtemp(join(tmpdir(), 'nhi-mariadb-'));
  const dataDir = join(dir, 'data');
  const isRoot = process.getuid?.() === 0;
  const cleanup = () => rm(dir, { recursive: true, force: true });
  let child: ChildProcess | undefined;
  try {
    await run(
      installDb,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...(isRoot ? ['--user=root'] : []),
      ],
      { timeout: 60_000 },
    );

    let port = 0;
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && !port; attempt++) {
      const candidate = await getFreePort();
      const started = spawn(
        mariadbd,
        [
          '--no-defaults',
          `--datadir=${dataDir}`,
          `--port=${candidate}`,
          '--bind-address=127.0.0.1',
          `--socket=${join(dir, 's.sock')}`,
          `--pid-file=${join(dir, 'mariadbd.pid')}`,
          `--log-error=${join(dir, 'error.log')}`,
          '--innodb-buffer-pool-size=32M',
          '--innodb-log-file-size=16M',
          '--skip-log-bin',
          '--max-connections=100',
          ...(isRoot ? ['--user=root'] : []),
        ],
        { stdio: 'ignore' },
      );
      try {
        await waitForServer(candidate, started, 30_000);
        port = candidate;
        child = started;
      } catch (err) {
        lastError = err; // the port was taken in between: try another
        await stopProcess(started);
      }
    }
    if (!port || !child) {
      let log = '';
      try {
        log = (await readFile(join(dir, 'error.log'), 'utf8'))
          .split('\n')
          .filter(l => /ERROR/.test(l))
          .slice(-2)
          .join(' / ');
      } catch {
        /* no log */
      }
      throw new Error(
        `mariadbd did not start: ${
          lastError instanceof Error ? lastError.message : String(lastError)
        }${log ? ` (${log})` : ''}`,
      );
    }

    // A root password, and no anonymous accounts: ''@localhost would
    // otherwise catch every login from 127.0.0.1 before 'x'@'%' does.
    const password = `root-${randomBytes(12).toString('hex')}`;
    const admin = await createConnection({
      host: '127.0.0.1',
      port,
      user: 'root',
    });
    const [accounts] = await admin.query(
      "SELECT User AS user, Host AS host FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '127.0.0.1', '::1'))",
    );
    for (const a of accounts as Array<{ user: string; host: string }>) {
      await admin.query('DROP USER ?@?', [a.user, a.host]);
    }
    for (const host of ['localhost', '127.0.0.1', '::1']) {
      await admin.query('ALTER USER IF EXISTS ?@? IDENTIFIED BY ?', [
        'root',
        host,
        password,
      ]);
    }
    await admin.end();

    const running = child;
    return {
      mode: 'own-server',
      description: `own throwaway MariaDB server (${mariadbd}) on 127.0.0.1:${port}, pid ${running.pid}`,
      host: '127.0.0.1',
      port,
      user: 'root',
      password,
      url: `mysql://root:${encodeURIComponent(password)}@127.0.0.1:${port}`,
      passwordsEnforced: true,
      stop: async () => {
        await stopProcess(running);
        await cleanup();
      },
    };
  } catch (err) {
    if (child) await stopProcess(child);
    await cleanup();
    throw err;
  }
}

function sharedServer(reason: string): TestMariadb {
  const url = process.env.NHI_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
  const parsed = new URL(url);
  const password = parsed.password
    ? decodeURIComponent(parsed.password)
    : undefined;
  const port = Number(parsed.port || 3306);
  return {
    mode: 'shared-server',
    description: `shared MySQL/MariaDB server at ${parsed.hostname}:${port} (NHI_TEST_MYSQL_URL; ${reason})`,
    host: parsed.hostname,
    port,
    user: decodeURIComponent(parsed.username || 'root'),
    password,
    url,
    passwordsEnforced: Boolean(password),
    stop: async () => {},
  };
}

/**
 * Starts a throwaway MariaDB server, or falls back to the shared server.
 * The result says which one runs (`mode`, `description`).
 */
export async function startTestMariadb(
  options: StartTestMariadbOptions = {},
): Promise<TestMariadb> {
  if (options.forceShared || process.env.NHI_TEST_MYSQL_FORCE_SHARED === '1') {
    return sharedServer('own server not wanted');
  }
  try {
    return await startOwnServer();
  } catch (err) {
    const reason = `own server could not start: ${
      err instanceof Error ? err.message.split('\n')[0] : String(err)
    }`;
    return sharedServer(reason);
  }
}
