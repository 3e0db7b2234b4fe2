/*
 * Test helper: a throwaway redis-server on a free loopback port, started in
 * milliseconds, with a password on the `default` user (the admin). How the
 * server keeps its ACL can be chosen, to test that changes survive a reload:
 *
 * - `memory`: command-line options only (`--requirepass`), no file;
 * - `aclfile`: users in an aclfile (`ACL SAVE` / `ACL LOAD`);
 * - `config-file`: started from a redis.conf (`CONFIG REWRITE`).
 *
 * When redis-server cannot be started the helper falls back to an existing
 * server (env NHI_TEST_REDIS_URL, default redis://127.0.0.1:6379), whose
 * admin may have no password; `mode` says which one runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from '@nhi-offboarding/plugin-nhi-offboarding-node/testUtils';

/** A running Redis server for tests. */
export interface TestRedis {
  /** `own-server`: started for the test; `shared-server`: the fallback. */
  mode: 'own-server' | 'shared-server';
  /** One line saying which server runs and why. */
  description: string;
  host: string;
  port: number;
  /** The admin ACL user (`default`, with every permission). */
  user: string;
  password?: string;
  /** redis://user:password@host:port */
  url: string;
  /** How the server keeps its ACL. */
  acl: 'memory' | 'aclfile' | 'config-file';
  /** The aclfile or redis.conf, when there is one. */
  file?: string;
  /** Stops the server and removes its folder (no-op for the fallback). */
  stop(): Promise<void>;
}

export interface StartTestRedisOptions {
  acl?: 'memory' | 'aclfile' | 'config-file';
  /** Skip the own server and use the fallback. */
  forceShared?: boolean;
}

function findRedisServer(): string | undefined {
  const dirs = [
    process.env.NHI_TEST_REDIS_BINDIR,
    ...(process.env.PATH ?? '').split(':'),
    '/usr/bin',
    '/usr/local/bin',
  ].filter((d): d is string => Boolean(d));
  for (const dir of dirs) {
    const path = join(dir, 'redis-server');
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Resolves once something accepts TCP connections on the port. */
async function waitForPort(
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
      throw new Error(`redis-server exited with code ${exited}`);
    }
    const up = await new Promise<boolean>(resolve => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > until) throw new Error('redis-server did not start');
    await new Promise(r => setTimeout(r, 20));
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>(resolve => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startOwnServer(
  acl: 'memory' | 'aclfile' | 'config-file',
): Promise<TestRedis> {
  const binary = findRedisServer();
  if (!binary) throw new Error('redis-server not found');
  const dir = await mkdtemp(join(tmpdir(), 'nhi-redis-'));
  const password = `admin-${randomBytes(12).toString('hex')}`;
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await getFreePort();
      const common = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--logfile',
        join(dir, 'redis.log'),
      ];
      let args: string[];
      let file: string | undefined;
      if (acl === 'aclfile') {
        file = join(dir, 'users.acl');
        await writeFile(file, `user default on >${password} ~* &* +@all\n`, {
          mode: 0o600,
        });
        args = [...common, '--aclfile', file];
      } else if (acl === 'config-file') {
        file = join(dir, 'redis.conf');
        await writeFile(
          file,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            'save ""',
            'appendonly no',
            `dir ${dir}`,
            `logfile ${join(dir, 'redis.log')}`,
            `requirepass ${password}`,
            '',
          ].join('\n'),
          { mode: 0o600 },
        );
        args = [file];
      } else {
        args = [...common, '--requirepass', password];
      }
      const child = spawn(binary, args, { stdio: 'ignore' });
      try {
        await waitForPort(port, child, 10_000);
      } catch (err) {
        lastError = err; // the port was taken in between: try another
        await stopProcess(child);
        continue;
      }
      return {
        mode: 'own-server',
        description: `own throwaway redis-server (${binary}, ACL in ${acl}) on 127.0.0.1:${port}, pid ${child.pid}`,
        host: '127.0.0.1',
        port,
        user: 'default',
        password,
        url: `redis://default:${encodeURIComponent(
          password,
        )}@127.0.0.1:${port}`,
        acl,
        file,
        stop: async () => {
          await stopProcess(child);
          await cleanup();
        },
      };
    }
    throw lastError;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function sharedServer(reason: string): TestRedis {
  const url = process.env.NHI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const parsed = new URL(url);
  const password = parsed.password
    ? decodeURIComponent(parsed.password)
    : undefined;
  const port = Number(parsed.port || 6379);
  return {
    mode: 'shared-server',
    description: `shared Redis server at ${parsed.hostname}:${port} (NHI_TEST_REDIS_URL; ${reason})`,
    host: parsed.hostname,
    port,
    user: decodeURIComponent(parsed.username || 'default'),
    password,
    url,
    acl: 'memory',
    stop: async () => {},
  };
}

/**
 * Starts a throwaway redis-server, or falls back to the shared server. The
 * result says which one runs (`mode`, `description`).
 */
export async function startTestRedis(
  options: StartTestRedisOptions = {},
): Promise<TestRedis> {
  if (options.forceShared || process.env.NHI_TEST_REDIS_FORCE_SHARED === '1') {
    return sharedServer('own server not wanted');
  }
  try {
    return await startOwnServer(options.acl ?? 'memory');
  } catch (err) {
    const reason = `own server could not start: ${
      err instanceof Error ? err.message.split('\n')[0] : String(err)
    }`;
    return sharedServer(reason);
  }
}
