/*
 * Two replicas, small: two real backends on one PostgreSQL database work one
 * retirement of 100 simulated credentials; one is SIGKILLed while it holds
 * leases and started again. Passes when chaos/replicas.mjs exits 0 (every
 * check it prints passed). Then the same under 30% injected provider faults.
 *
 *   node --test chaos/replicas.test.mjs
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function runReplicas(args, signal) {
  return new Promise(resolve => {
    let output = '';
    const child = spawn(
      process.execPath,
      [path.join(here, 'replicas.mjs'), '--size', 'small', ...args],
      // On a timeout the run gets SIGTERM and ends its backends itself.
      { stdio: ['ignore', 'pipe', 'pipe'], signal },
    );
    child.stdout.on('data', d => (output += d));
    child.stderr.on('data', d => (output += d));
    child.on('error', () => {}); // the abort on timeout; reported by node:test
    child.on('exit', code => resolve({ code, output }));
  });
}

test(
  'two replicas: the killed one’s leased steps are taken over, no step runs twice at once, no effect twice',
  { timeout: 240_000 },
  async t => {
    const { code, output } = await runReplicas(['--kills', '1'], t.signal);
    // On failure the whole report (figures, failed checks, log folder) shows.
    assert.equal(code, 0, output);
    assert.match(output, /PASS/);
    assert.match(
      output,
      /ok {3}every step leased by a killed process was taken over/,
    );
  },
);

test(
  'two replicas under 30% provider faults: completed and revoked, or needs attention with the reason',
  { timeout: 240_000 },
  async t => {
    const { code, output } = await runReplicas(
      ['--kills', '1', '--faults', '0.3'],
      t.signal,
    );
    assert.equal(code, 0, output);
    assert.match(output, /PASS/);
    assert.match(output, /ok {3}faults were injected/);
    assert.match(output, /ok {3}no call longer than the cut-off/);
  },
);
