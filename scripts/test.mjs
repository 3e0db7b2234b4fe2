#!/usr/bin/env node
/*
 * The whole test suite: type check, lint, then every package's tests on
 * SQLite and on PostgreSQL. PostgreSQL is required (the store is tested on
 * both databases); the machine's server on 127.0.0.1:5432 is used unless
 * BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING names another.
 *
 *   npm test                 everything
 *   npm test -- <pattern>    only test files matching <pattern> (no type check or lint)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const PG_ENV = 'BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING';
const env = { ...process.env, CI: 'true' };
env[PG_ENV] ||= 'postgresql://postgres@127.0.0.1:5432';

function run(title, command, args, { exitOnFailure = true } = {}) {
  const started = Date.now();
  console.log(`\n== ${title}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`\n== ${title} failed after ${seconds} s`);
    if (exitOnFailure) process.exit(result.status ?? 1);
  } else {
    console.log(`== ${title} passed in ${seconds} s`);
  }
  return result.status ?? 1;
}

function reachable(url) {
  const { hostname, port } = new URL(url);
  return new Promise(resolve => {
    const socket = net.connect({ host: hostname, port: Number(port || 5432) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function ensurePostgres() {
  if (await reachable(env[PG_ENV])) return;
  // The machine's cluster may simply be stopped: start it the Debian way.
  spawnSync(
    'sh',
    [
      '-c',
      'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | tail -1) main start',
    ],
    { stdio: 'inherit' },
  );
  for (let i = 0; i < 20; i++) {
    if (await reachable(env[PG_ENV])) return;
    await new Promise(r => setTimeout(r, 500));
  }
  console.error(
    `PostgreSQL is not reachable at ${env[PG_ENV]}. Start a PostgreSQL 15+ server with a superuser that needs no password from this host, ` +
      `or set ${PG_ENV} to one (e.g. postgresql://postgres:secret@db.example:5432).`,
  );
  process.exit(1);
}

/**
 * Servers some tests start for themselves (slapd, sshd, Chromium, ...) come
 * from Debian: install the missing ones when we may (root), else say which.
 */
function ensureSystemPackages() {
  const wanted = fs
    .readFileSync(
      new URL('./test-system-packages.txt', import.meta.url),
      'utf8',
    )
    .split('\n')
    .map(line => line.replace(/#.*/, '').trim())
    .filter(Boolean);
  const missing = wanted.filter(
    name =>
      spawnSync('dpkg-query', ['-W', '-f=${Status}', name], {
        encoding: 'utf8',
      }).stdout?.includes('install ok installed') !== true,
  );
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(
      `Install these Debian packages first: sudo apt-get install -y ${missing.join(
        ' ',
      )}`,
    );
    process.exit(1);
  }
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  console.log(
    `\n== installing Debian packages the tests need: ${missing.join(' ')}`,
  );
  spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env: aptEnv });
  const install = spawnSync(
    'apt-get',
    ['install', '-y', '-q', '--no-install-recommends', ...missing],
    { stdio: 'inherit', env: aptEnv },
  );
  if (install.status !== 0) {
    console.error(`apt-get could not install ${missing.join(' ')}`);
    process.exit(1);
  }
}

const only = process.argv.slice(2);
ensureSystemPackages();
await ensurePostgres();
if (only.length === 0) {
  run('type check', 'npx', ['tsc', '--noEmit', '-p', '.']);
  // The benchmarks import the plugin's internals; a rename must not
  // break them unnoticed until the next benchmark run.
  run('type check of the benchmarks', 'npx', [
    'tsc',
    '--noEmit',
    '-p',
    'bench/tsconfig.check.json',
  ]);
  run('lint', 'npx', ['backstage-cli', 'repo', 'lint']);
}
// Jest's own summary is not the plain form CI reads, so the counts are taken
// from its JSON report and printed as 'N passed, N failed, N skipped'.
const resultsFile = path.join(
  fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-test-')),
  'results.json',
);
const jestStatus = run(
  'tests',
  'npx',
  [
    'backstage-cli',
    'repo',
    'test',
    '--watchAll=false',
    '--json',
    `--outputFile=${resultsFile}`,
    ...only,
  ],
  { exitOnFailure: false },
);
const counts = { passed: 0, failed: 0, skipped: 0 };
if (fs.existsSync(resultsFile)) {
  const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  counts.passed += results.numPassedTests;
  counts.failed += results.numFailedTests;
  counts.skipped += results.numPendingTests + results.numTodoTests;
}

// The browser test and the crash test start the real backend (and the
// portal): only in a full run.
let e2eStatus = 0;
if (only.length === 0) {
  const tapFile = path.join(path.dirname(resultsFile), 'e2e.tap');
  e2eStatus = run(
    'browser end-to-end and crash tests',
    'node',
    [
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      'e2e/',
      'chaos/',
    ],
    { exitOnFailure: false },
  );
  const tap = fs.existsSync(tapFile) ? fs.readFileSync(tapFile, 'utf8') : '';
  const count = name =>
    Number(tap.match(new RegExp(`^# ${name} (\\d+)`, 'm'))?.[1] ?? 0);
  counts.passed += count('pass');
  counts.failed +=
    count('fail') + (e2eStatus !== 0 && count('fail') === 0 ? 1 : 0);
  counts.skipped += count('skipped') + count('todo');
}

console.log(
  `\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
);
process.exit(jestStatus || e2eStatus);
