/*
 * The CA database of `openssl ca` (index.txt): one certificate per line,
 * six tab-separated fields: status (V valid, R revoked, E expired), expiry
 * date, revocation date[,reason], serial (hex), file name (usually
 * `unknown`) and subject DN.
 */

/** One line of index.txt. */
export interface IndexEntry {
  status: 'V' | 'R' | 'E' | string;
  expires: string;
  /** `YYMMDDHHMMSSZ[,reason]`, empty unless revoked. */
  revocation: string;
  serial: string;
  file: string;
  subject: string;
  /** Line number (0-based) in the file. */
  line: number;
}

export function parseIndex(text: string): IndexEntry[] {
  const entries: IndexEntry[] = [];
  text.split('\n').forEach((raw, line) => {
    if (!raw.trim()) return;
    const f = raw.split('\t');
    if (f.length < 6) return;
    entries.push({
      status: f[0],
      expires: f[1],
      revocation: f[2],
      serial: f[3].toUpperCase(),
      file: f[4],
      subject: f.slice(5).join('\t'),
      line,
    });
  });
  return entries;
}

/** Serial in a comparable form: upper-case hex without separators or leading zeros. */
export function normalizeSerial(value: string): string | undefined {
  const hex = value
    .trim()
    .replace(/^0x/i, '')
    .replace(/[:\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex)) return undefined;
  return hex.replace(/^0+(?=.)/, '');
}

export function revocationReason(entry: IndexEntry): string | undefined {
  if (entry.status !== 'R') return undefined;
  const [, reason] = entry.revocation.split(',');
  return reason || 'unspecified';
}

export function isOnHold(entry: IndexEntry): boolean {
  return revocationReason(entry) === 'certificateHold';
}

/** `YYMMDDHHMMSSZ` or `YYYYMMDDHHMMSSZ` as ISO 8601. */
export function asnTimeToIso(value: string): string | undefined {
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(
    value.split(',')[0],
  );
  if (!m) return undefined;
  let year = Number(m[1]);
  if (m[1].length === 2) year += year >= 50 ? 1900 : 2000;
  return new Date(
    Date.UTC(year, +m[2] - 1, +m[3], +m[4], +m[5], +m[6]),
  ).toISOString();
}

/**
 * index.txt with the hold of one entry lifted: status V and no revocation
 * date. Every other line is kept byte for byte.
 */
export function releaseHold(text: string, serial: string): string {
  const lines = text.split('\n');
  return lines
    .map(raw => {
      const f = raw.split('\t');
      if (f.length < 6 || normalizeSerial(f[3]) !== serial) return raw;
      if (f[0] !== 'R' || !/,certificateHold$/.test(f[2])) return raw;
      return ['V', f[1], '', ...f.slice(3)].join('\t');
    })
    .join('\n');
}
