/*
 * The crash-anywhere chaos run, small: 100 simulated credentials, SQLite, at
 * least 2 SIGKILLs of the real backend while the retirement runs. Passes when
 * chaos/crash.mjs exits 0 (every check it prints passed).
 *
 *   node --test chaos/crash.test.mjs
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

test(
  'a retirement survives SIGKILLs of the backend with exactly one result per step',
  { timeout: 240_000 },
  async t => {
    let output = '';
    const child = spawn(
      process.execPath,
      [
        path.join(here, 'crash.mjs'),
        '--size',
        'small',
        '--db',
        'sqlite',
        '--kills',
        '2',
      ],
      // On a timeout the run gets SIGTERM and ends its backends itself.
      { stdio: ['ignore', 'pipe', 'pipe'], signal: t.signal },
    );
    child.stdout.on('data', d => (output += d));
    child.stderr.on('data', d => (output += d));
    child.on('error', () => {}); // the abort on timeout; reported by node:test
    const code = await new Promise(resolve => child.on('exit', resolve));
    // On failure the whole report (figures, failed checks, log folder) shows.
    assert.equal(code, 0, output);
    assert.match(output, /PASS/);
  },
);
