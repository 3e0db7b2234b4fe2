import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DemoCredentialStore } from './DemoCredentialStore';

describe('DemoCredentialStore', () => {
  it('removes temp files left by a killed process, and keeps live ones', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nhi-demo-store-'));
    try {
      const file = path.join(dir, 'state.json');
      const dead = `${file}.2147483646.1.ab12.tmp`; // no such pid
      const live = `${file}.${process.pid}.1.cd34.tmp`;
      const other = path.join(dir, 'unrelated.2147483646.1.ab12.tmp');
      for (const f of [dead, live, other]) fs.writeFileSync(f, '{}');

      const store = new DemoCredentialStore({ file });
      await store.ensure('api-key:stripe');

      expect(fs.existsSync(dead)).toBe(false);
      expect(fs.existsSync(live)).toBe(true);
      expect(fs.existsSync(other)).toBe(true);
      expect(
        new DemoCredentialStore({ file }).get('api-key:stripe'),
      ).toMatchObject({
        status: 'active',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
