/*
 * Browser end-to-end test: starts the portal the way the README does
 * (`backstage-cli repo start`, embedded SQLite, simulated demo provider),
 * opens a component in Debian's Chromium, sees its trust anchors, retires it
 * through the dialog, waits for `completed` and sees the evidence chain
 * verified. Screenshots go to e2e/screenshots/.
 *
 * Data and ports are its own (a temp folder and free ports), so it neither
 * disturbs nor depends on a portal a developer is running.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'packages/app/package.json'));
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = path.join(root, 'e2e', 'screenshots');
const ENTITY = 'payments-ci';
const STARTUP_TIMEOUT_MS = 240_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForHttp(url, timeoutMs, portal) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (portal.exitCode !== null) {
      throw new Error(
        `The portal exited with code ${portal.exitCode} before ${url} answered`,
      );
    }
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise(r => setTimeout(r, 1000));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

let portal;
let browser;
let page;
let appUrl;
let backendUrl;
let log = '';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-e2e-'));

before(async () => {
  const [appPort, backendPort] = [await freePort(), await freePort()];
  appUrl = `http://localhost:${appPort}`;
  backendUrl = `http://localhost:${backendPort}`;
  const overlay = path.join(dataDir, 'app-config.e2e.yaml');
  fs.writeFileSync(
    overlay,
    [
      'app:',
      `  baseUrl: ${appUrl}`,
      'backend:',
      `  baseUrl: http://localhost:${backendPort}`,
      '  listen:',
      `    port: ${backendPort}`,
      '  cors:',
      `    origin: ${appUrl}`,
      '  database:',
      '    client: better-sqlite3',
      '    connection:',
      `      directory: ${path.join(dataDir, 'sqlite')}`,
      'nhiOffboarding:',
      '  discovery:',
      '    schedule:',
      '      frequency: { seconds: 15 }',
      '      timeout: { minutes: 5 }',
      '      initialDelay: { seconds: 5 }',
      '  engine:',
      '    pollIntervalMs: 250',
      '  providers:',
      '    - id: demo',
      '      type: demo',
      '      latencyMs: 50',
      '      failureRate: 0',
      `      stateFile: ${path.join(dataDir, 'demo-credentials.json')}`,
      '',
    ].join('\n'),
  );
  portal = spawn(
    'npx',
    [
      'backstage-cli',
      'repo',
      'start',
      '--config',
      path.join(root, 'app-config.yaml'),
      '--config',
      overlay,
    ],
    { cwd: root, detached: true, env: { ...process.env, BROWSER: 'none' } },
  );
  portal.stdout.on('data', d => (log = (log + d).slice(-20_000)));
  portal.stderr.on('data', d => (log = (log + d).slice(-20_000)));
  try {
    await waitForHttp(
      `http://localhost:${backendPort}/.backstage/health/v1/readiness`,
      STARTUP_TIMEOUT_MS,
      portal,
    );
    await waitForHttp(appUrl, STARTUP_TIMEOUT_MS, portal);
  } catch (error) {
    throw new Error(`${error.message}\n--- portal output ---\n${log}`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (portal && portal.exitCode === null) {
    // The CLI starts the app and backend as children: end the whole group.
    try {
      process.kill(-portal.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise(r => setTimeout(r, 2000));
    try {
      process.kill(-portal.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('a service owner retires a component from its Retire tab and sees it proven', async () => {
  await page.goto(`${appUrl}/catalog/default/component/${ENTITY}/retire`);
  // The demo signs in with the guest provider as a catalog user.
  const enter = page.getByRole('button', { name: 'Enter' });
  if (await enter.isVisible({ timeout: 30_000 }).catch(() => false)) {
    await enter.click();
  }

  // The anchors the demo provider holds for this pipeline are listed.
  await page.getByText('Trust anchors').first().waitFor({ timeout: 120_000 });
  const table = page.getByRole('table').first();
  await table
    .getByText('payments-ci-github')
    .first()
    .waitFor({ timeout: 60_000 });
  const activeChips = await table.getByText('Active', { exact: true }).count();
  assert.ok(activeChips >= 1, 'live anchors show an Active status');
  await page.screenshot({ path: path.join(SHOTS, '1-retire-tab.png') });

  // Retire…: the dry-run plan, then confirmation by typing the name.
  await page.getByRole('button', { name: 'Retire…' }).click();
  await page.getByText('What will happen').waitFor({ timeout: 60_000 });
  await page
    .getByLabel('Reason')
    .fill('Replaced by the shared CI platform (CHG-2041)');
  const confirm = page.getByRole('button', { name: `Retire ${ENTITY}` });
  assert.equal(
    await confirm.isEnabled(),
    false,
    'confirm waits for the typed name',
  );
  await page.getByLabel(`Type ${ENTITY} to confirm`).fill(ENTITY);
  await page.screenshot({ path: path.join(SHOTS, '2-dialog.png') });
  await confirm.click();

  // Live progress until the run is completed and the evidence verified.
  await page
    .getByText('Completed', { exact: true })
    .first()
    .waitFor({ timeout: 120_000 });
  await page.getByText('Chain verified').waitFor({ timeout: 60_000 });
  await page.getByText(/4 of 4 anchors verified/).waitFor({ timeout: 30_000 });
  await page.screenshot({
    path: path.join(SHOTS, '3-completed.png'),
    fullPage: true,
  });

  // Governance on the Retire tab: time to revoke against the objective,
  // re-verification on request, and the audit export that checks offline.
  const governance = page.getByTestId('nhi-retirement-governance');
  await governance.getByText('Within objective').waitFor({ timeout: 30_000 });
  await governance.getByText(/Time to revoke:/).waitFor();
  await governance.getByRole('button', { name: 'Re-verify now' }).click();
  await page
    .getByText('Re-verified: no system trusts these credentials.')
    .waitFor({ timeout: 60_000 });
  await governance
    .getByText(/Last verified:.*(now|second|minute)/)
    .waitFor({ timeout: 30_000 });
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    governance.getByRole('button', { name: 'Download audit export' }).click(),
  ]);
  const exportFile = path.join(dataDir, 'export.json');
  await download.saveAs(exportFile);
  const exported = JSON.parse(fs.readFileSync(exportFile, 'utf8'));
  assert.equal(exported.format, 'nhi-offboarding-evidence/v1');
  assert.equal(exported.deadline.breached, false);
  assert.ok(
    exported.records.every(r => Array.isArray(r.controls)),
    'every exported record names its controls',
  );
  const checked = execFileSync(process.execPath, [
    path.join(
      root,
      'plugins/nhi-offboarding-backend/bin/nhi-evidence-check.mjs',
    ),
    exportFile,
  ]).toString();
  assert.match(
    checked,
    new RegExp(`^valid .*head hash ${exported.chain.headHash}`),
  );
  await governance.screenshot({ path: path.join(SHOTS, '3b-governance.png') });

  // The platform page lists the retirement.
  await page.goto(`${appUrl}/nhi-offboarding`);
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForTimeout(3000);
  await page.screenshot({ path: path.join(SHOTS, '4-platform.png') });
  await page
    .getByText(new RegExp(`component:(default/)?${ENTITY}(?![\\w-])`))
    .first()
    .waitFor({ timeout: 60_000 });
  // The discovery sweep (every 15 s here) finds the deprecated component's
  // live credentials once the catalog has ingested the examples.
  const residual = page.getByText(/component:legacy-ledger-sync/).first();
  for (let i = 0; i < 8 && !(await residual.isVisible()); i++) {
    await page.waitForTimeout(5000);
    await page.reload();
    await page
      .getByText('Residual access')
      .first()
      .waitFor({ timeout: 30_000 });
    await page.waitForTimeout(2000);
  }
  assert.ok(
    await residual.isVisible(),
    `residual access lists legacy-ledger-sync\n--- portal output ---\n${log.slice(
      -4000,
    )}`,
  );
  await page.screenshot({
    path: path.join(SHOTS, '4-platform.png'),
    fullPage: true,
  });

  // Governance sections: anchor findings with counts and filters, drift,
  // time-to-revoke breaches with the period export.
  const anchorsCard = page.getByRole('region', { name: 'Anchor governance' });
  await anchorsCard.getByText(/Stale: \d+/).waitFor({ timeout: 30_000 });
  await anchorsCard.getByText(/Owner missing: \d+/).waitFor();
  await page
    .getByRole('region', { name: 'Drift' })
    .getByText('No drift: every re-verified credential is still untrusted.')
    .waitFor({ timeout: 30_000 });
  const breaches = page.getByRole('region', {
    name: 'Time-to-revoke breaches',
  });
  await breaches.getByText(/than the 4 h objective/).waitFor();
  await anchorsCard.getByLabel('Owned by my teams').check();
  await page.waitForTimeout(1500);
  const [periodDownload] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    breaches.getByRole('button', { name: 'Last 30 days' }).click(),
  ]);
  const periodFile = path.join(dataDir, 'period.json');
  await periodDownload.saveAs(periodFile);
  const period = JSON.parse(fs.readFileSync(periodFile, 'utf8'));
  assert.ok(
    period.summary.retirements >= 1,
    'the period export holds the retirement',
  );
  assert.equal(period.summary.chainsValid, period.summary.retirements);
  await anchorsCard.scrollIntoViewIfNeeded();
  await page.screenshot({
    path: path.join(SHOTS, '5-governance.png'),
    fullPage: true,
  });
});

test("a trigger's proposal shows on the platform page and the owner confirms it on the Retire tab", async () => {
  // What a template's nhi:retire with `propose: true` does, as Alice.
  const signIn = await fetch(`${backendUrl}/api/auth/guest/refresh`, {
    method: 'POST',
    headers: { 'x-requested-with': 'XMLHttpRequest' },
  });
  const { token } = (await signIn.json()).backstageIdentity;
  const proposed = await fetch(
    `${backendUrl}/api/nhi-offboarding/triggers/scaffolder`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        key: 'e2e-destroy-invoice-bot',
        entityRef: 'component:default/invoice-bot',
        action: 'propose',
        mode: 'revoke',
        reason: 'Destroyed by its template (CHG-2077)',
      }),
    },
  );
  assert.equal(proposed.status, 201, await proposed.text());

  await page.goto(`${appUrl}/nhi-offboarding`);
  const card = page.getByRole('region', { name: 'Proposals from triggers' });
  await card
    .getByText(/invoice-bot/)
    .first()
    .waitFor({ timeout: 60_000 });
  await card.getByText('scaffolder template').waitFor();
  await card.scrollIntoViewIfNeeded();
  await card.screenshot({ path: path.join(SHOTS, '6-proposals.png') });

  await page.goto(`${appUrl}/catalog/default/component/invoice-bot/retire`);
  const banner = page.getByText(/Proposed by the scaffolder template trigger/);
  await banner.waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await page
    .getByText(/Started by the scaffolder template trigger/)
    .waitFor({ timeout: 60_000 });
  await page.screenshot({ path: path.join(SHOTS, '7-confirmed.png') });
  // One retirement, started by the trigger and confirmed by Alice (it then
  // waits for her attestation of the bank portal password, a manual anchor).
  const list = await fetch(
    `${backendUrl}/api/nhi-offboarding/retirements?entityRef=${encodeURIComponent(
      'component:default/invoice-bot',
    )}`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  const { items } = await list.json();
  assert.equal(items.length, 1);
  assert.equal(items[0].origin?.trigger, 'scaffolder');
  assert.equal(items[0].origin?.confirmedBy, 'user:default/alice');
});
