import type { EvidenceRecord } from '@nhi-offboarding/plugin-nhi-offboarding-common';
import { canonicalJson } from './canonicalJson';

const COLUMNS: (keyof EvidenceRecord)[] = [
  'seq',
  'at',
  'kind',
  'actor',
  'summary',
  'stepId',
  'anchorId',
  'data',
  'prevHash',
  'hash',
];

/** RFC 4180 quoting; cells that a spreadsheet would run as a formula are prefixed with '. */
function cell(value: unknown): string {
  let text = '';
  if (typeof value === 'object' && value !== null) {
    text = canonicalJson(value);
  } else if (value !== undefined && value !== null) {
    text = String(value);
  }
  if (/^[=+\-@\t\r]/.test(text)) {
    text = `'${text}`;
  }
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function evidenceToCsv(records: EvidenceRecord[]): string {
  const lines = [COLUMNS.join(',')];
  for (const record of records) {
    lines.push(COLUMNS.map(c => cell(record[c])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
