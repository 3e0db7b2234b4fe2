/*
 * Starts the REAL backend process (packages/backend) from source with a
 * config overlay, on a free port, in its own process group, with its output
 * in a log file. Used by the end-to-end tests; the chaos harnesses start and
 * SIGKILL theirs with spawnBackend and waitUntilReady.
 *
 *   const backend = await startBackend({ overlay: {...}, dir, entry });
 *   await backend.stop();
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const root = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
);
export const backendDir = path.join(root, 'packages/backend');
export const requireFromRoot = createRequire(path.join(root, 'package.json'));

/** Entry points of packages/backend. */
export const ENTRY = {
  shipped: 'src/index.ts',
  /** The shipped features plus the header sign-in provider for tests. */
  testSignIn: 'src/testing/startWithTestSignIn.ts',
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export function tail(file, chars = 4000) {
  try {
    return fs.readFileSync(file, 'utf8').slice(-chars);
  } catch {
    return '';
  }
}

/**
 * Starts the backend and waits until it is ready. `overlay` is merged over
 * app-config.yaml; `backend.baseUrl`, `backend.listen` and (unless given)
 * an SQLite directory under `dir` are filled in.
 */
export async function startBackend({
  dir,
  overlay = {},
  entry = ENTRY.shipped,
  env = {},
  readyTimeoutMs = 180_000,
}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logFile = path.join(dir, 'backend.log');
  const overlayFile = path.join(dir, 'app-config.overlay.yaml');
  const config = {
    ...overlay,
    backend: {
      database: {
        client: 'better-sqlite3',
        connection: { directory: path.join(dir, 'sqlite') },
      },
      ...overlay.backend,
      baseUrl: base,
      listen: { port, host: '127.0.0.1' },
    },
  };
  // JSON is YAML: the config loader reads it as is.
  fs.writeFileSync(overlayFile, `${JSON.stringify(config, null, 2)}\n`);
  const child = spawnBackend({ entry, overlayFile, logFile, env });
  const exited = new Promise(resolve => child.once('exit', resolve));
  const alive = () => child.exitCode === null && !child.signalCode;

  const backend = {
    base,
    port,
    logFile,
    overlayFile,
    pid: child.pid,
    /** Ends the whole process group (SIGTERM, then SIGKILL after 10 s). */
    async stop() {
      if (!alive()) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
    /** A request; the body (JSON or text) and headers are returned. */
    async request(method, urlPath, { token, body, headers = {} } = {}) {
      const res = await fetch(`${base}${urlPath}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return {
        status: res.status,
        ok: res.ok,
        json,
        text,
        headers: Object.fromEntries(res.headers),
      };
    },
  };

  try {
    await waitUntilReady({ base, child, logFile, timeoutMs: readyTimeoutMs });
  } catch (error) {
    await backend.stop();
    throw error;
  }
  return backend;
}

/**
 * Spawns packages/backend from its TypeScript sources with app-config.yaml
 * and `overlayFile`, in its own process group (stopped or killed as a
 * whole), its output appended to `logFile`. Returns the child process.
 */
export function spawnBackend({
  entry = ENTRY.shipped,
  overlayFile,
  logFile,
  env = {},
}) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      '--enable-source-maps',
      '--require',
      requireFromRoot.resolve('@backstage/cli-node/config/nodeTransform.cjs'),
      entry,
      '--config',
      path.join(root, 'app-config.yaml'),
      '--config',
      overlayFile,
    ],
    {
      cwd: backendDir,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, NODE_ENV: 'development', ...env },
    },
  );
  fs.closeSync(out);
  return child;
}

/**
 * Waits until the backend at `base` is ready; fails at once, with the end
 * of its log, if `child` exits first.
 */
export async function waitUntilReady({
  base,
  child,
  logFile,
  timeoutMs = 180_000,
}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode) {
      throw new Error(
        `the backend exited (code ${child.exitCode}, signal ${
          child.signalCode
        }) before it was ready; see ${logFile}:\n${tail(logFile)}`,
      );
    }
    try {
      const res = await fetch(`${base}/.backstage/health/v1/readiness`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      throw new Error(`the backend was not ready within ${timeoutMs / 1000} s`);
    }
    await sleep(100);
  }
}

/**
 * Signs in a catalog user through the test sign-in provider of
 * ENTRY.testSignIn and returns the Backstage token and identity.
 */
export async function signInAs(backend, userName) {
  const res = await backend.request('POST', '/api/auth/nhi-test/refresh', {
    headers: {
      'x-requested-with': 'XMLHttpRequest',
      'x-nhi-test-user': userName,
    },
  });
  if (res.status !== 200) {
    throw new Error(`sign-in of ${userName}: ${res.status} ${res.text}`);
  }
  return {
    token: res.json.backstageIdentity.token,
    identity: res.json.backstageIdentity.identity,
  };
}

/** Polls `probe` until it returns a truthy value. */
export async function waitFor(what, probe, timeoutMs = 60_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
