/*
 * authorized_keys lines as sshd reads them (sshd(8) "AUTHORIZED_KEYS FILE
 * FORMAT"): optional options, key type, base64 key, optional comment.
 */
import { createHash } from 'node:crypto';

/** The prefix `disable` puts in front of a key line: sshd ignores comment lines. */
export const DISABLED_PREFIX = '#nhi-offboarding-disabled ';

export interface KeyLine {
  /** True when the line was commented out by `disable`. */
  disabled: boolean;
  keyType: string;
  /** `SHA256:<base64 without padding>` as ssh-keygen prints it. */
  fingerprint: string;
  comment: string;
  options: string;
}

const KEY_TYPE =
  /^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|[a-z0-9-]+-cert-v01@openssh\.com)$/;

/** `SHA256:` + unpadded base64 of the SHA-256 of the key blob. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256')
    .update(blob)
    .digest('base64')
    .replace(/=+$/, '')}`;
}

/** `SHA256:abc` (or `abc`, with or without padding) → `SHA256:abc`, or undefined. */
export function normalizeFingerprint(value: string): string | undefined {
  const m = /^(?:SHA256:)?([A-Za-z0-9+/]{43})=?$/.exec(value.trim());
  return m ? `SHA256:${m[1]}` : undefined;
}

/** Splits off the options field, which may contain quoted spaces. */
function splitOptions(line: string): [string, string] {
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && inQuote) {
      i++;
      continue;
    }
    if (c === '"') inQuote = !inQuote;
    else if (!inQuote && (c === ' ' || c === '\t')) {
      return [line.slice(0, i), line.slice(i).replace(/^[ \t]+/, '')];
    }
  }
  return [line, ''];
}

/** Parses one line (without its newline); undefined for blank lines, comments and garbage. */
export function parseKeyLine(raw: string): KeyLine | undefined {
  let line = raw.replace(/\r$/, '');
  let disabled = false;
  if (line.startsWith(DISABLED_PREFIX)) {
    disabled = true;
    line = line.slice(DISABLED_PREFIX.length);
  }
  line = line.replace(/^[ \t]+/, '');
  if (!line || line.startsWith('#')) return undefined;
  let options = '';
  let rest = line;
  const first = line.split(/[ \t]/, 1)[0];
  if (!KEY_TYPE.test(first)) {
    [options, rest] = splitOptions(line);
  }
  const [keyType, b64, ...comment] = rest.split(/[ \t]+/);
  if (!keyType || !KEY_TYPE.test(keyType) || !b64) return undefined;
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 16) return undefined;
  return {
    disabled,
    keyType,
    fingerprint: keyFingerprint(blob),
    comment: comment.join(' '),
    options,
  };
}

/** Lines with their line endings, so that a file can be put back byte for byte. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function body(line: string): [string, string] {
  const m = /^(.*?)(\r?\n)?$/s.exec(line)!;
  return [m[1], m[2] ?? ''];
}

export type Edit = 'disable' | 'enable' | 'remove';

/**
 * Applies an edit to the lines of one key. Every other line is kept byte
 * for byte. Returns the new text and how many lines were changed.
 */
export function editKeys(
  text: string,
  fingerprint: string,
  edit: Edit,
): { text: string; changed: number } {
  let changed = 0;
  const out: string[] = [];
  for (const line of splitLines(text)) {
    const [content, eol] = body(line);
    const parsed = parseKeyLine(content);
    if (!parsed || parsed.fingerprint !== fingerprint) {
      out.push(line);
      continue;
    }
    if (edit === 'remove') {
      changed++;
      continue;
    }
    if (edit === 'disable' && !parsed.disabled) {
      out.push(`${DISABLED_PREFIX}${content}${eol}`);
      changed++;
    } else if (edit === 'enable' && parsed.disabled) {
      out.push(`${content.slice(DISABLED_PREFIX.length)}${eol}`);
      changed++;
    } else {
      out.push(line);
    }
  }
  return { text: out.join(''), changed };
}

/** The key lines of a file. */
export function keyLines(text: string): KeyLine[] {
  return splitLines(text)
    .map(l => parseKeyLine(body(l)[0]))
    .filter((k): k is KeyLine => Boolean(k));
}

/** Quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * "Accepted publickey for USER from IP port N ssh2: TYPE SHA256:FP" lines
 * of sshd's log that name the fingerprint.
 */
export function acceptedLogins(
  log: string,
  fingerprint: string,
): Array<{ user: string; address: string; port: number }> {
  const found = new Map<
    string,
    { user: string; address: string; port: number }
  >();
  const re =
    /Accepted publickey for (\S+) from (\S+) port (\d+) ssh2: \S+ (SHA256:[A-Za-z0-9+/]+)/g;
  for (const m of log.matchAll(re)) {
    if (m[4] !== fingerprint) continue;
    found.set(`${m[2]}:${m[3]}`, {
      user: m[1],
      address: m[2],
      port: Number(m[3]),
    });
  }
  return [...found.values()];
}
