// @ts-check
'use strict';

/*
 * The pure evidence-chain rules (canonical JSON, record hash, chain check),
 * written as dependency-free CommonJS so that the backend (through
 * evidenceChain.ts) and the offline checker (bin/nhi-evidence-check.mjs)
 * run exactly the same code. Node's crypto is the only import.
 */

const crypto = require('crypto');

/** The hash the first record of every chain points back to. */
const GENESIS_HASH = '0'.repeat(64);

/**
 * Deterministic JSON: object keys sorted, no whitespace, undefined dropped.
 * The evidence hash is taken over this form so that the same facts always
 * hash the same, whatever order a database or a client returns keys in.
 *
 * @param {unknown} value
 * @returns {string}
 */
function canonicalJson(value) {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      return 'null';
    }
    return JSON.stringify(value) ?? 'null';
  }
  // Plain loops rather than filter/map callbacks: verifying a chain is
  // mostly this function (bench/README.md, benchmark 3). The parts are
  // joined, so the text is one flat string, not a rope of appends.
  /** @type {string[]} */
  const parts = [];
  if (Array.isArray(value)) {
    for (const v of value) {
      parts.push(v === undefined ? 'null' : canonicalJson(v));
    }
    return `[${parts.join(',')}]`;
  }
  const object = /** @type {Record<string, unknown>} */ (value);
  for (const key of Object.keys(object).sort()) {
    const v = object[key];
    if (v !== undefined)
      parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * @typedef {object} ChainRecord
 * @property {string} retirementId
 * @property {number} seq
 * @property {string} kind
 * @property {string} [stepId]
 * @property {string} [anchorId]
 * @property {string} actor
 * @property {string} at
 * @property {string} summary
 * @property {Record<string, unknown>} [data]
 * @property {string} [dataText] data as stored text (see hashMatches)
 * @property {string} prevHash
 * @property {string} [hash]
 */

/** The fields a record's hash covers, in canonicalJson's (sorted) order. */
const HASHED_KEYS = [
  'actor',
  'anchorId',
  'at',
  'data',
  'kind',
  'prevHash',
  'retirementId',
  'seq',
  'stepId',
  'summary',
];

/**
 * The text a record's hash is taken over: canonicalJson of every field
 * except the hash, written out in sorted key order (without building and
 * sorting an object per record), with `dataText` as the text of `data`
 * (undefined: the record has no data, and the text no "data" key).
 *
 * @param {ChainRecord} record
 * @param {string | undefined} dataText
 * @returns {string}
 */
function hashedText(record, dataText) {
  /** @type {Record<string, unknown>} */
  const fields = {
    actor: record.actor,
    anchorId: record.anchorId ?? null,
    at: record.at,
    kind: record.kind,
    prevHash: record.prevHash,
    retirementId: record.retirementId,
    seq: record.seq,
    stepId: record.stepId ?? null,
    summary: record.summary,
  };
  let text = '{';
  for (const key of HASHED_KEYS) {
    const value = key === 'data' ? dataText : fields[key];
    if (value === undefined) continue;
    if (text.length > 1) text += ',';
    text += `"${key}":${key === 'data' ? value : canonicalJson(value)}`;
  }
  return `${text}}`;
}

/**
 * Node's one-shot hash where it has one (20.12 and later): a Hash object
 * per record cost as much as the hashing itself (bench/README.md, benchmark 3).
 *
 * @type {(text: string) => string}
 */
const sha256 =
  typeof crypto.hash === 'function'
    ? text => crypto.hash('sha256', text, 'hex')
    : text => crypto.createHash('sha256').update(text).digest('hex');

/**
 * SHA-256 over the canonical form of every field except the hash itself.
 *
 * @param {ChainRecord} record
 * @returns {string}
 */
function hashRecord(record) {
  const { data } = record;
  return sha256(
    hashedText(record, data === undefined ? undefined : canonicalJson(data)),
  );
}

/**
 * Whether a record's content gives its hash. A record read from a database
 * may carry its data as the stored text (`dataText`): the backend stores
 * data in canonical form, so that text is hashed as it is, without parsing
 * and writing it out again (most of a verify's time). If that does not
 * match (a record stored before data was kept canonical, or altered), the
 * text is parsed and the record checked by the rule above: a match of
 * either is the same proof, since both hash the canonical text.
 *
 * @param {ChainRecord} record
 * @returns {boolean}
 */
function hashMatches(record) {
  if (typeof record.dataText !== 'string') {
    return hashRecord(record) === record.hash;
  }
  if (sha256(hashedText(record, record.dataText)) === record.hash) return true;
  let data;
  try {
    data = JSON.parse(record.dataText);
  } catch {
    return false;
  }
  return hashRecord({ ...record, data }) === record.hash;
}

/**
 * @typedef {object} ChainCheck
 * @property {boolean} valid
 * @property {number} count
 * @property {string} [headHash]
 * @property {number} [firstInvalidSeq]
 * @property {string} [problem]
 */

/**
 * Recomputes the chain. Any altered field, deleted or reordered record is
 * found: sequence numbers must run 1..n, each record must point at the hash
 * of the one before, and each hash must match the record's content.
 *
 * @param {ChainRecord[]} records
 * @returns {ChainCheck}
 */
function verifyChain(records) {
  return verifyChainFrom(records, { count: 0, hash: GENESIS_HASH });
}

/**
 * verifyChain for the part of a chain that follows `previous` records whose
 * last hash is `previous.hash`: a long chain checked page by page. `count`
 * is `previous.count` plus the records given.
 *
 * @param {ChainRecord[]} records
 * @param {{ count: number, hash: string }} previous
 * @returns {ChainCheck}
 */
function verifyChainFrom(records, previous) {
  let previousHash = previous.hash;
  const total = previous.count + records.length;
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const expectedSeq = previous.count + i + 1;
    /** @param {string} problem */
    const fail = problem => ({
      valid: false,
      count: total,
      firstInvalidSeq: expectedSeq,
      problem,
    });
    if (record.seq !== expectedSeq) {
      return fail(
        `record ${expectedSeq} is missing or out of order (found sequence number ${record.seq})`,
      );
    }
    if (record.prevHash !== previousHash) {
      return fail(
        `record ${expectedSeq} does not link to the record before it`,
      );
    }
    if (!hashMatches(record)) {
      return fail(`record ${expectedSeq} was altered after it was written`);
    }
    previousHash = /** @type {string} */ (record.hash);
  }
  return total
    ? { valid: true, count: total, headHash: previousHash }
    : { valid: true, count: 0 };
}

module.exports = {
  GENESIS_HASH,
  canonicalJson,
  hashRecord,
  verifyChain,
  verifyChainFrom,
};
