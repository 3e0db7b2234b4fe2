/*
 * The `nhi:retire` scaffolder action in the real backend: the example
 * template (examples/templates/retire-service.yaml) is dry-run through the
 * scaffolder's API (a plan, nothing started) and then run as a task, which
 * starts one retirement of payments-ci on behalf of the signed-in owner;
 * the retirement records the scaffolder trigger as its origin.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBackend, waitFor } from './lib/backendProcess.mjs';

const ENTITY = 'component:default/payments-ci';
const TEMPLATE = 'template:default/retire-service-identity';
const VALUES = {
  entityRef: ENTITY,
  reason: 'decommissioned by template',
  mode: 'revoke',
  quarantineDays: 14,
  propose: false,
};

let dir;
let backend;
let token;

const api = (method, urlPath, body) =>
  backend.request(method, urlPath, { token, body });

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-scaffolder-'));
  backend = await startBackend({
    dir,
    overlay: {
      nhiOffboarding: {
        engine: { pollIntervalMs: 100 },
        providers: [
          {
            id: 'demo',
            type: 'demo',
            stateFile: path.join(dir, 'demo-state.json'),
          },
        ],
      },
    },
  });
  // The guest provider signs in as alice of payments-team, payments-ci's owner.
  const res = await backend.request('POST', '/api/auth/guest/refresh', {
    headers: { 'x-requested-with': 'XMLHttpRequest' },
  });
  assert.equal(res.status, 200, res.text);
  token = res.json.backstageIdentity.token;
  await waitFor(
    'template and entity in the catalog',
    async () =>
      (
        await api(
          'GET',
          '/api/catalog/entities/by-name/template/default/retire-service-identity',
        )
      ).ok &&
      (
        await api(
          'GET',
          '/api/catalog/entities/by-name/component/default/payments-ci',
        )
      ).ok,
    120_000,
  );
});

after(async () => {
  await backend?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const retirementsOf = async () =>
  (
    await api(
      'GET',
      `/api/nhi-offboarding/retirements?entityRef=${encodeURIComponent(
        ENTITY,
      )}`,
    )
  ).json.items;

test('dry run of the template plans the retirement and starts nothing', async () => {
  const template = (
    await api(
      'GET',
      '/api/catalog/entities/by-name/template/default/retire-service-identity',
    )
  ).json;
  const res = await api('POST', '/api/scaffolder/v2/dry-run', {
    template,
    values: VALUES,
    secrets: {},
    directoryContents: [],
  });
  assert.equal(res.status, 200, res.text);
  const text = JSON.stringify(res.json.output);
  assert.match(text, /Status: dry-run, [1-9]\d* planned step\(s\)/);
  assert.deepEqual(await retirementsOf(), []);
});

test('running the template starts one retirement on behalf of the owner', async () => {
  const created = await api('POST', '/api/scaffolder/v2/tasks', {
    templateRef: TEMPLATE,
    values: VALUES,
  });
  assert.equal(created.status, 201, created.text);
  const task = await waitFor(
    'the scaffolder task to finish',
    async () => {
      const t = (
        await api('GET', `/api/scaffolder/v2/tasks/${created.json.id}`)
      ).json;
      return ['completed', 'failed', 'cancelled'].includes(t?.status)
        ? t
        : undefined;
    },
    120_000,
  );
  assert.equal(task.status, 'completed', JSON.stringify(task));
  const [retirement, ...more] = await retirementsOf();
  assert.equal(more.length, 0);
  assert.equal(retirement.origin?.trigger, 'scaffolder');
  assert.equal(retirement.requestedBy, 'user:default/alice');
  const done = await waitFor(
    'the retirement to complete',
    async () => {
      const r = (
        await api(
          'GET',
          `/api/nhi-offboarding/retirements/${retirement.id}?steps=none`,
        )
      ).json;
      return r.status === 'completed' ? r : undefined;
    },
    120_000,
  );
  assert.equal(done.progress.failed, 0);
});
