import type {
  EvidenceRecord,
  Retirement,
  RetirementEvidenceExport,
  RevocationDeadline,
} from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { verifyEvidenceChain } from '../evidenceChain';
import { evidenceToCsv } from '../evidenceCsv';
import { CONTROLS, controlsOf } from './controls';

export const EXPORT_FORMAT = 'nhi-offboarding-evidence/v1' as const;

/**
 * The audit download of one retirement: every record with the controls it
 * evidences, the time-to-revoke objective and elapsed time, and the chain's
 * verification with its head hash. The records keep every hashed field
 * unchanged so `bin/nhi-evidence-check.mjs` can recompute the chain offline.
 */
export function buildRetirementExport(input: {
  retirement: Retirement;
  deadline: RevocationDeadline;
  records: EvidenceRecord[];
  exportedBy: string;
  now: Date;
}): RetirementEvidenceExport {
  const { steps: _steps, ...retirement } = input.retirement;
  return {
    format: EXPORT_FORMAT,
    exportedAt: input.now.toISOString(),
    exportedBy: input.exportedBy,
    retirement,
    deadline: input.deadline,
    chain: verifyEvidenceChain(input.records),
    controls: CONTROLS,
    records: input.records.map(r => ({ ...r, controls: controlsOf(r) })),
  };
}

/** The period download: one export per retirement, and totals. */
export interface PeriodEvidenceExport {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  exportedBy: string;
  period: { from: string; to: string };
  objectiveMs: number;
  summary: {
    retirements: number;
    breaches: number;
    chainsValid: number;
    records: number;
    /** Retirements beyond the export's cap are left out: narrow the period. */
    truncated: boolean;
  };
  controls: typeof CONTROLS;
  retirements: Omit<
    RetirementEvidenceExport,
    'format' | 'exportedAt' | 'exportedBy' | 'controls'
  >[];
}

export function buildPeriodExport(input: {
  exports: RetirementEvidenceExport[];
  from: Date;
  to: Date;
  objectiveMs: number;
  truncated: boolean;
  exportedBy: string;
  now: Date;
}): PeriodEvidenceExport {
  return {
    format: EXPORT_FORMAT,
    exportedAt: input.now.toISOString(),
    exportedBy: input.exportedBy,
    period: { from: input.from.toISOString(), to: input.to.toISOString() },
    objectiveMs: input.objectiveMs,
    summary: {
      retirements: input.exports.length,
      breaches: input.exports.filter(e => e.deadline.breached).length,
      chainsValid: input.exports.filter(e => e.chain.valid).length,
      records: input.exports.reduce((n, e) => n + e.records.length, 0),
      truncated: input.truncated,
    },
    controls: CONTROLS,
    retirements: input.exports.map(
      ({ format: _f, exportedAt: _a, exportedBy: _b, controls: _c, ...rest }) =>
        rest,
    ),
  };
}

/**
 * CSV flavour of a retirement export: a header block (objective, elapsed,
 * head hash) as comment lines, then the evidence CSV with a controls column.
 */
export function retirementExportToCsv(e: RetirementEvidenceExport): string {
  const header = [
    `# ${EXPORT_FORMAT} retirement ${e.retirement.id} of ${e.retirement.entityRef}`,
    `# exported ${e.exportedAt} by ${e.exportedBy}`,
    `# chain ${e.chain.valid ? 'valid' : 'INVALID'}, ${
      e.chain.count
    } records, head hash ${e.chain.headHash ?? 'none'}`,
    `# time to revoke: ${Math.round(
      e.deadline.elapsedMs / 60000,
    )} min elapsed of ${Math.round(
      e.deadline.objectiveMs / 60000,
    )} min objective${e.deadline.breached ? ' (BREACHED)' : ''}`,
  ];
  const csv = evidenceToCsv(e.records).split('\r\n');
  const controls = ['controls', ...e.records.map(r => r.controls.join(' '))];
  const body = csv
    .filter(line => line.length > 0)
    .map((line, i) => `${line},${controls[i]}`);
  return `${[...header, ...body].join('\r\n')}\r\n`;
}
