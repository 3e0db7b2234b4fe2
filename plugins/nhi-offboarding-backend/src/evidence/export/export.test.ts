import { execFile } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';
import {
  EVIDENCE_KINDS,
  EvidenceRecord,
  Retirement,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { chainEvidence } from '../evidenceChain';
import { deadlineOf } from '../../governance/deadlines';
import { buildPeriodExport, buildRetirementExport } from './buildExport';
import { CONTROLS, controlsOf } from './controls';

const run = promisify(execFile);
const CHECKER = join(__dirname, '../../../bin/nhi-evidence-check.mjs');

const retirement: Retirement = {
  id: 'ret_00000000-0000-4000-8000-000000000001',
  entityRef: 'component:default/payments-ci',
  mode: 'revoke',
  reason: 'replaced',
  status: 'completed',
  requestedBy: 'user:default/alice',
  legalHold: false,
  released: false,
  restoring: false,
  currentStage: 7,
  createdAt: '2026-11-01T10:00:00.000Z',
  updatedAt: '2026-11-01T15:00:00.000Z',
  completedAt: '2026-11-01T15:00:00.000Z',
  progress: { total: 3, done: 3, failed: 0, anchors: 1, verified: 1 },
};

function chain(): EvidenceRecord[] {
  const facts = [
    { kind: 'planned' as const, data: {} },
    { kind: 'action' as const, data: { action: 'disable' } },
    { kind: 'action' as const, data: { action: 'rotate' } },
    { kind: 'verification' as const, data: { outcome: 'untrusted' } },
    { kind: 'completion' as const, data: {} },
  ];
  const records: EvidenceRecord[] = [];
  facts.forEach((f, i) =>
    records.push(
      chainEvidence(
        {
          retirementId: retirement.id,
          actor: 'engine',
          at: `2026-11-01T1${i}:00:00.000Z`,
          summary: `record ${i + 1}`,
          ...f,
        },
        records[i - 1],
      ),
    ),
  );
  return records;
}

function exportOf(records = chain()) {
  return buildRetirementExport({
    retirement,
    deadline: deadlineOf(
      retirement,
      retirement.completedAt,
      4 * 3600_000,
      new Date(),
    ),
    records,
    exportedBy: 'user:default/auditor',
    now: new Date('2026-11-02T00:00:00Z'),
  });
}

describe('controls mapping', () => {
  it('maps every evidence kind to known controls', () => {
    const ids = new Set(CONTROLS.map(c => c.id));
    for (const kind of EVIDENCE_KINDS) {
      const controls = controlsOf({ kind, data: {} });
      expect({ kind, mapped: controls.length > 0 }).toEqual({
        kind,
        mapped: true,
      });
      expect(controls.every(c => ids.has(c))).toBe(true);
    }
  });

  it('refines provider actions: disabling is AC-2(3), rotating a shared secret IA-5(i)', () => {
    expect(
      controlsOf({ kind: 'action', data: { action: 'disable' } }),
    ).toContain('NIST-800-53-AC-2(3)');
    expect(
      controlsOf({ kind: 'action', data: { action: 'rotate' } }),
    ).toContain('NIST-800-53-IA-5(i)');
    expect(
      controlsOf({ kind: 'action', data: { action: 'remove-memberships' } }),
    ).toContain('SOC2-CC6.3');
  });
});

describe('audit export and its offline check', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nhi-export-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function check(content: unknown, ...args: string[]) {
    const file = join(dir, `e-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(content));
    return run(process.execPath, [CHECKER, file, ...args]).then(
      r => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({
        code: e.code,
        out: e.stdout,
      }),
    );
  }

  it('states the objective, the elapsed time, a breach and the head hash', () => {
    const e = exportOf();
    expect(e.deadline).toMatchObject({
      elapsedMs: 5 * 3600_000,
      objectiveMs: 4 * 3600_000,
      breached: true,
    });
    expect(e.chain).toEqual({
      valid: true,
      count: 5,
      headHash: e.records[4].hash,
    });
    expect(e.retirement).not.toHaveProperty('steps');
  });

  it('accepts an untouched export and prints its head hash', async () => {
    const e = exportOf();
    const result = await check(e, '--head', e.chain.headHash!);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`head hash ${e.chain.headHash}`);
  });

  it('rejects an altered record, a removed record and a cut-off tail', async () => {
    const altered = exportOf();
    altered.records[2].summary = 'nothing was rotated';
    expect(await check(altered)).toMatchObject({
      code: 1,
      out: expect.stringMatching(/record 3 was altered/),
    });

    const removed = exportOf();
    removed.records.splice(1, 1);
    expect((await check(removed)).code).toBe(1);

    const cut = exportOf();
    const head = cut.chain.headHash!;
    cut.records.pop();
    cut.chain = { valid: true, count: 4, headHash: cut.records[3].hash };
    expect(await check(cut, '--head', head)).toMatchObject({
      code: 1,
      out: expect.stringMatching(/expected head hash/),
    });
  });

  it('checks every retirement of a period export', async () => {
    const good = exportOf();
    const bad = exportOf();
    bad.records[0].actor = 'user:default/mallory';
    const period = buildPeriodExport({
      exports: [good, bad],
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-12-01T00:00:00Z'),
      objectiveMs: 4 * 3600_000,
      truncated: false,
      exportedBy: 'user:default/auditor',
      now: new Date(),
    });
    const result = await check(period);
    expect(result.code).toBe(1);
    expect(result.out.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^valid/),
      expect.stringMatching(/^INVALID .*record 1 was altered/),
    ]);
  });

  it('refuses a file that is not an export', async () => {
    expect((await check({ hello: 'world' })).code).toBe(2);
  });
});
