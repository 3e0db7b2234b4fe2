import { canonicalJson } from './canonicalJson';
import {
  chainEvidence,
  hashEvidence,
  GENESIS_HASH,
  verifyEvidenceChain,
  verifyEvidenceChainFrom,
  StoredEvidenceRecord,
} from './evidenceChain';
import type { EvidenceRecord } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { evidenceToCsv } from './evidenceCsv';

function buildChain(n: number): EvidenceRecord[] {
  const records: EvidenceRecord[] = [];
  for (let i = 0; i < n; i++) {
    records.push(
      chainEvidence(
        {
          retirementId: 'ret_1',
          kind: i === 0 ? 'planned' : 'action',
          actor: 'user:default/alice',
          at: `2026-11-26T10:00:0${i}.000Z`,
          summary: `record ${i + 1}`,
          data: { i, nested: { b: 2, a: 1 } },
        },
        records[i - 1],
      ),
    );
  }
  return records;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(
      canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } }),
    ).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });

  it('gives the same text whatever the key order', () => {
    expect(canonicalJson({ x: 1, y: [2, 3] })).toBe(
      canonicalJson({ y: [2, 3], x: 1 }),
    );
  });
});

describe('record hash', () => {
  // Hashes of chains written before must never change: these were
  // computed by the first implementation (object built, keys sorted).
  const record = {
    retirementId: 'ret_golden',
    seq: 7,
    kind: 'step',
    stepId: 'stp_1',
    actor: 'engine',
    at: '2026-11-01T00:00:00.000Z',
    summary: 'Revoked "key" é',
    data: { z: 1, a: [1, 'x', null, { b: true, a: undefined }], n: NaN },
    prevHash: 'a'.repeat(64),
  } as any;

  it('is the same as it always was', () => {
    expect(hashEvidence(record)).toBe(
      'ac81818581030617d0339b28de05bcf6acdd48cc026da2117af2bf7cc58a89ff',
    );
    const { stepId, data, ...bare } = record;
    expect(hashEvidence(bare)).toBe(
      '23239d37b3a94f77f61ce9867a22e31790d3a51d1a888f87b22140b3d3d705bb',
    );
  });
});

describe('evidence chain', () => {
  it('links each record to the one before and verifies', () => {
    const chain = buildChain(5);
    expect(chain[0].prevHash).toBe(GENESIS_HASH);
    expect(chain[3].prevHash).toBe(chain[2].hash);
    expect(chain.map(r => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(verifyEvidenceChain(chain)).toEqual({
      valid: true,
      count: 5,
      headHash: chain[4].hash,
    });
  });

  it('an empty chain is valid', () => {
    expect(verifyEvidenceChain([])).toEqual({ valid: true, count: 0 });
  });

  it.each([
    ['summary', (r: EvidenceRecord) => ({ ...r, summary: 'nothing happened' })],
    ['actor', (r: EvidenceRecord) => ({ ...r, actor: 'user:default/mallory' })],
    ['data', (r: EvidenceRecord) => ({ ...r, data: { ...r.data, i: 99 } })],
    ['time', (r: EvidenceRecord) => ({ ...r, at: '2020-01-01T00:00:00.000Z' })],
    ['kind', (r: EvidenceRecord) => ({ ...r, kind: 'attestation' as const })],
  ])(
    'detects an altered %s at the record that was changed',
    (_field, alter) => {
      const chain = buildChain(5);
      chain[2] = alter(chain[2]);
      const result = verifyEvidenceChain(chain);
      expect(result.valid).toBe(false);
      expect(result.firstInvalidSeq).toBe(3);
      expect(result.problem).toMatch(/altered/);
    },
  );

  it('detects a record rewritten with a recomputed hash (the next link breaks)', () => {
    const chain = buildChain(5);
    const forged = chainEvidence({ ...chain[1], summary: 'forged' }, chain[0]);
    chain[1] = forged;
    const result = verifyEvidenceChain(chain);
    expect(result).toMatchObject({ valid: false, firstInvalidSeq: 3 });
    expect(result.problem).toMatch(/does not link/);
  });

  it('detects a deleted record', () => {
    const chain = buildChain(5);
    chain.splice(1, 1);
    expect(verifyEvidenceChain(chain)).toMatchObject({
      valid: false,
      firstInvalidSeq: 2,
    });
  });

  it('detects reordered records', () => {
    const chain = buildChain(5);
    [chain[1], chain[2]] = [chain[2], chain[1]];
    expect(verifyEvidenceChain(chain)).toMatchObject({
      valid: false,
      firstInvalidSeq: 2,
    });
  });

  it('detects a truncated tail only through the head hash', () => {
    const chain = buildChain(5);
    const head = verifyEvidenceChain(chain).headHash;
    const truncated = verifyEvidenceChain(chain.slice(0, 4));
    expect(truncated.valid).toBe(true);
    expect(truncated.headHash).not.toBe(head);
  });
});

describe('records read with their data as stored text', () => {
  const stored = (
    r: EvidenceRecord,
    dataText = canonicalJson(r.data),
  ): StoredEvidenceRecord => {
    const { data: _data, ...rest } = r;
    return { ...rest, dataText };
  };
  const genesis = { count: 0, hash: GENESIS_HASH };

  it('verifies canonical text as the parsed records do', () => {
    const chain = buildChain(5);
    expect(
      verifyEvidenceChainFrom(
        chain.map(r => stored(r)),
        genesis,
      ),
    ).toEqual(verifyEvidenceChain(chain));
  });

  it('verifies text stored in another key order (rows written before data was kept canonical)', () => {
    const chain = buildChain(5);
    const asWrittenBefore = chain.map(r => stored(r, JSON.stringify(r.data)));
    expect(asWrittenBefore[2].dataText).not.toBe(canonicalJson(chain[2].data));
    expect(verifyEvidenceChainFrom(asWrittenBefore, genesis)).toEqual(
      verifyEvidenceChain(chain),
    );
  });

  it.each([
    ['a changed value', '{"i":2,"nested":{"a":1,"b":3}}'],
    ['an added key', '{"extra":true,"i":2,"nested":{"a":1,"b":2}}'],
    ['text that is not JSON', '{"i":2,"nested":'],
    ['nothing', ''],
  ])('finds %s in the stored data', (_what, text) => {
    const records = buildChain(5).map(r => stored(r));
    expect(records[2].dataText).toBe('{"i":2,"nested":{"a":1,"b":2}}');
    records[2] = { ...records[2], dataText: text };
    expect(verifyEvidenceChainFrom(records, genesis)).toEqual({
      valid: false,
      count: 5,
      firstInvalidSeq: 3,
      problem: 'record 3 was altered after it was written',
    });
  });

  it('finds an altered field beside untouched data text', () => {
    const records = buildChain(5).map(r => stored(r));
    records[1] = { ...records[1], actor: 'user:default/mallory' };
    expect(verifyEvidenceChainFrom(records, genesis)).toMatchObject({
      valid: false,
      firstInvalidSeq: 2,
    });
  });
});

describe('evidenceToCsv', () => {
  it('quotes commas and quotes, and defuses spreadsheet formulas', () => {
    const [record] = buildChain(1);
    const csv = evidenceToCsv([
      { ...record, summary: '=HYPERLINK("x"), boom', actor: '+1' },
    ]);
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'seq,at,kind,actor,summary,stepId,anchorId,data,prevHash,hash',
    );
    expect(lines[1]).toContain(`"'=HYPERLINK(""x""), boom"`);
    expect(lines[1]).toContain(",'+1,");
    expect(lines[1]).toContain(record.hash);
  });
});
