/*
 * Shared by the chaos harnesses: the REAL backend process (started from its
 * TypeScript sources with a config overlay, in its own process group, so it
 * can be SIGKILLed as a whole, and started again on the same port),
 * PostgreSQL databases. How a backend is spawned and awaited is the
 * end-to-end tests' (e2e/lib/backendProcess.mjs).
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  freePort,
  requireFromRoot,
  root,
  spawnBackend,
  tail,
  waitUntilReady,
} from '../../e2e/lib/backendProcess.mjs';

export { freePort, root, tail };

export const log = (...a) =>
  console.log(`[chaos ${new Date().toISOString().slice(11, 23)}]`, ...a);

/** Backends alive now, so a signal to this script also ends them. */
export const liveBackends = new Set();

export class Backend {
  constructor({ overlay, port, logFile }) {
    this.overlay = overlay;
    this.port = port;
    this.logFile = logFile;
    this.base = `http://127.0.0.1:${port}`;
    this.child = undefined;
    this.starts = 0;
  }

  start() {
    this.starts++;
    fs.appendFileSync(this.logFile, `\n===== start ${this.starts} =====\n`);
    const child = spawnBackend({
      overlayFile: this.overlay,
      logFile: this.logFile,
    });
    this.child = child;
    liveBackends.add(child);
    this.exited = new Promise(resolve =>
      child.once('exit', () => {
        liveBackends.delete(child);
        resolve();
      }),
    );
  }

  get alive() {
    return this.child && this.child.exitCode === null && !this.child.signalCode;
  }

  /** SIGKILL the whole process group, no shutdown hooks. */
  async kill() {
    if (!this.child) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await this.exited;
    this.child = undefined;
  }

  async waitReady(timeoutMs = 180_000) {
    await waitUntilReady({
      base: this.base,
      child: this.child,
      logFile: this.logFile,
      timeoutMs,
    });
  }

  async token() {
    const res = await fetch(`${this.base}/api/auth/guest/refresh`, {
      method: 'POST',
      headers: { 'X-Requested-With': 'XMLHttpRequest' },
    });
    if (!res.ok) {
      throw new Error(`guest sign-in: ${res.status} ${await res.text()}`);
    }
    const body = await res.json();
    this.bearer = body.backstageIdentity.token;
    return this.bearer;
  }

  async api(method, urlPath, body) {
    const res = await fetch(`${this.base}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${this.bearer}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, ok: res.ok, json };
  }
}

/** SIGKILLs every backend still alive (on a signal to the harness). */
export function killLiveBackends() {
  for (const child of liveBackends) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Runs `fn` with a client of `database` (default: postgres) on 127.0.0.1:5432. */
export async function withPg(fn, database = 'postgres') {
  const { Client } = requireFromRoot('pg');
  const client = new Client({
    host: '127.0.0.1',
    port: 5432,
    user: 'postgres',
    database,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createPgDatabase(name) {
  await withPg(c => c.query(`CREATE DATABASE "${name}"`));
}

export async function dropPgDatabase(name) {
  try {
    await withPg(c =>
      c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    );
  } catch (error) {
    log(`could not drop ${name}: ${error.message}`);
  }
}

/**
 * Waits until chaos-target is in the catalog, signs in again (the user's
 * memberships are known now) and starts its retirement in `revoke` mode.
 * Returns the created retirement.
 */
export async function createChaosRetirement(backend) {
  const entityPath =
    '/api/catalog/entities/by-name/component/default/chaos-target';
  const deadline = Date.now() + 180_000;
  for (;;) {
    const r = await backend.api('GET', entityPath);
    if (r.ok) break;
    if (Date.now() > deadline) {
      throw new Error(`the catalog never had chaos-target (${r.status})`);
    }
    await sleep(500);
  }
  await backend.token();
  const created = await backend.api(
    'POST',
    '/api/nhi-offboarding/retirements',
    {
      entityRef: 'component:default/chaos-target',
      mode: 'revoke',
      reason: 'chaos',
    },
  );
  if (created.status !== 201) {
    throw new Error(
      `POST /retirements: ${created.status} ${JSON.stringify(created.json)}`,
    );
  }
  return created.json;
}
