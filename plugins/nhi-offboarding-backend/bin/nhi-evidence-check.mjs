#!/usr/bin/env node
// Checks an NHI Offboarding evidence export offline: recomputes every hash
// chain in the file and compares the head hash with the one the file states
// (and, if given, with one you got from elsewhere, e.g. the audit log).
//
//   node nhi-evidence-check.mjs export.json [--head <sha256>]
//
// Exit code 0: valid; 1: invalid; 2: the file could not be read.
// Uses only Node's standard library and the same chain rules as the backend.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { verifyChain } = require('../src/evidence/chainCore.js');

function checkOne(exported, expectedHead) {
  const records = (exported.records ?? []).map(({ controls: _c, ...r }) => r);
  const result = verifyChain(records);
  const label = `${exported.retirement?.id ?? '?'} (${
    exported.retirement?.entityRef ?? '?'
  })`;
  const problems = [];
  if (!result.valid) problems.push(result.problem);
  if (exported.chain?.headHash !== result.headHash) {
    problems.push(
      `the file states head hash ${
        exported.chain?.headHash ?? 'none'
      } but its records end in ${result.headHash ?? 'none'}`,
    );
  }
  if (expectedHead && expectedHead !== result.headHash) {
    problems.push(
      `expected head hash ${expectedHead}, records end in ${
        result.headHash ?? 'none'
      }`,
    );
  }
  return { label, count: result.count, headHash: result.headHash, problems };
}

function main(argv) {
  const args = argv.slice(2);
  const file = args.find(a => !a.startsWith('--'));
  const headIndex = args.indexOf('--head');
  const expectedHead = headIndex >= 0 ? args[headIndex + 1] : undefined;
  if (!file || (headIndex >= 0 && !expectedHead)) {
    console.error('usage: nhi-evidence-check <export.json> [--head <sha256>]');
    return 2;
  }
  let exported;
  try {
    exported = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`cannot read ${file}: ${error.message}`);
    return 2;
  }
  if (exported?.format !== 'nhi-offboarding-evidence/v1') {
    console.error(
      `${file} is not an NHI Offboarding evidence export (format ${exported?.format})`,
    );
    return 2;
  }
  // A period export holds many retirements; a retirement export is one.
  const items = Array.isArray(exported.retirements)
    ? exported.retirements
    : [exported];
  let ok = true;
  for (const item of items) {
    const r = checkOne(item, items.length === 1 ? expectedHead : undefined);
    if (r.problems.length) {
      ok = false;
      console.log(`INVALID ${r.label}: ${r.problems.join('; ')}`);
    } else {
      console.log(
        `valid   ${r.label}: ${r.count} records, head hash ${
          r.headHash ?? 'none'
        }`,
      );
    }
  }
  return ok ? 0 : 1;
}

process.exitCode = main(process.argv);
