import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DemoCredentialStore } from './DemoCredentialStore';

/* Several real OS processes share one state file (two backend replicas do):
 * no change is lost, and an idempotent change is applied exactly once. */

jest.setTimeout(120_000);

const transform = require.resolve(
  '@backstage/cli-node/config/nodeTransform.cjs',
);

/** Runs `code` (TypeScript) in `n` child processes at once. */
async function inProcesses(dir: string, n: number, code: string) {
  const script = path.join(dir, 'child.ts');
  fs.writeFileSync(script, code);
  const outputs = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const child = spawn(
        process.execPath,
        ['--require', transform, script, String(i)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', d => (out += d));
      child.stderr.on('data', d => (err += d));
      return new Promise<string>((resolve, reject) =>
        child.on('exit', c =>
          c === 0 ? resolve(out) : reject(new Error(`child ${i}: ${err}`)),
        ),
      );
    }),
  );
  return outputs;
}

describe('DemoCredentialStore shared by processes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-demo-mp-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loses no change and applies a revoke once', async () => {
    const file = path.join(dir, 'state.json');
    const seed = new DemoCredentialStore({ file });
    await seed.ensure('api-key:shared');
    await seed.ensure('api-key:contended');
    const storeModule = path.join(__dirname, 'DemoCredentialStore.ts');
    const outputs = await inProcesses(
      dir,
      3,
      `
import { DemoCredentialStore } from ${JSON.stringify(storeModule)};
const me = process.argv[2];
const store = new DemoCredentialStore({ file: ${JSON.stringify(file)} });
async function main() {
  let revoked = 0;
  await Promise.all(Array.from({ length: 30 }, async (_, i) => {
    // A change that always changes: one more rotation per call.
    await store.update('api-key:shared', c => {
      c.rotations.push({ at: '', fromFingerprint: me, toFingerprint: String(i) });
      return true;
    });
    // An idempotent change all processes race for.
    const r = await store.update('api-key:contended', c => {
      if (c.status === 'revoked') return false;
      c.status = 'revoked';
      return true;
    });
    if (r.changed) revoked++;
  }));
  process.stdout.write(String(revoked));
}
main().catch(e => { console.error(e); process.exit(1); });
`,
    );
    const fresh = new DemoCredentialStore({ file });
    expect(fresh.get('api-key:shared')?.rotations).toHaveLength(90);
    expect(fresh.get('api-key:contended')?.status).toBe('revoked');
    expect(outputs.map(Number).reduce((a, b) => a + b, 0)).toBe(1);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  });

  it('breaks the lock of a killed holder', async () => {
    const file = path.join(dir, 'state.json');
    // A lock left by a process that no longer runs.
    fs.writeFileSync(`${file}.lock`, '2147483646 deadbeef');
    const store = new DemoCredentialStore({ file });
    await store.ensure('api-key:after-crash');
    expect(store.get('api-key:after-crash')?.status).toBe('active');
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  });
});
