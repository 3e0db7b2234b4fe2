import { createHash } from 'node:crypto';

/** An ACL user as `ACL GETUSER` describes it. Password hashes, never passwords. */
export interface AclUser {
  name: string;
  on: boolean;
  nopass: boolean;
  flags: string[];
  /** SHA-256 hashes (hex) of the user's passwords, as Redis stores them. */
  passwordHashes: string[];
  /** Command rules, e.g. `+@all` or `-@all +get`. */
  commands: string;
  /** Key patterns, e.g. `~*` or `~app:*` (Redis 7; `keys` in 6 is a list). */
  keys: string;
  /** Pub/Sub channel patterns, e.g. `&*`. */
  channels: string;
  /** Number of selectors (Redis 7). */
  selectors: number;
}

/** One client of `CLIENT LIST`. */
export interface RedisClientInfo {
  id: string;
  addr: string;
  name: string;
  user: string;
  /** Seconds since the connection was opened. */
  age: number;
  /** Seconds since its last command. */
  idle: number;
}

/** Why a text cannot be an ACL user name, or undefined when it can. */
export function userNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) {
    return 'the user name is empty';
  }
  if (/[\s\0]/.test(name)) {
    return 'Redis user names cannot contain spaces or NUL characters';
  }
  return undefined;
}

function asText(value: unknown): string {
  if (Array.isArray(value)) return value.map(asText).join(' ');
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return value === null || value === undefined ? '' : String(value);
}

/** Reads the reply of `ACL GETUSER` (RESP2 list of pairs, or a RESP3 map). */
export function parseAclUser(
  name: string,
  reply: unknown,
): AclUser | undefined {
  if (reply === null || reply === undefined) return undefined;
  const fields = new Map<string, unknown>();
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      fields.set(asText(reply[i]), reply[i + 1]);
    }
  } else if (reply instanceof Map) {
    for (const [k, v] of reply) fields.set(asText(k), v);
  } else if (typeof reply === 'object') {
    for (const [k, v] of Object.entries(reply as object)) fields.set(k, v);
  }
  const list = (key: string) => {
    const v = fields.get(key);
    return Array.isArray(v) ? v.map(asText) : [];
  };
  const flags = list('flags');
  const selectors = fields.get('selectors');
  return {
    name,
    on: flags.includes('on'),
    nopass: flags.includes('nopass'),
    flags,
    passwordHashes: list('passwords'),
    commands: asText(fields.get('commands')),
    keys: asText(fields.get('keys')),
    channels: asText(fields.get('channels')),
    selectors: Array.isArray(selectors) ? selectors.length : 0,
  };
}

/** Reads `CLIENT LIST` (one `key=value ...` line per client). */
export function parseClientList(text: string): RedisClientInfo[] {
  const clients: RedisClientInfo[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const fields = new Map<string, string>();
    for (const part of line.trim().split(' ')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
    }
    clients.push({
      id: fields.get('id') ?? '',
      addr: fields.get('addr') ?? '',
      name: fields.get('name') ?? '',
      user: fields.get('user') ?? 'default',
      age: Number(fields.get('age') ?? 0),
      idle: Number(fields.get('idle') ?? 0),
    });
  }
  return clients;
}

function digest(user: string, item: string): string {
  return `sha256:${createHash('sha256')
    .update(`redis-acl-user\0${user}\0${item}`)
    .digest('hex')}`;
}

/**
 * The fingerprint of a user's credentials: one `sha256:<hex>` per password
 * hash Redis reports (and one for `nopass`, or for "no password at all"),
 * sorted and joined with commas. Each is the SHA-256 of the user name and
 * the stored hash, so it names the password without revealing it, differs
 * between users that share a password, and changes when the password does.
 * Usually a user has one password, hence one `sha256:` value.
 */
export function credentialFingerprint(user: AclUser): string {
  const items = [
    ...user.passwordHashes.map(h => `password:${h.toLowerCase()}`),
    ...(user.nopass ? ['nopass'] : []),
  ];
  if (items.length === 0) items.push('no-password');
  return items
    .map(item => digest(user.name, item))
    .sort()
    .join(',');
}

/** The `sha256:` values of a fingerprint. */
export function fingerprintParts(fingerprint: string | undefined): string[] {
  return (fingerprint ?? '')
    .split(',')
    .map(p => p.trim())
    .filter(p => /^sha256:[0-9a-f]{64}$/.test(p));
}

/** What the user may do, for the anchor's scopes. */
export function scopesOf(user: AclUser): string[] {
  const scopes: string[] = [];
  if (user.commands) scopes.push(`commands ${user.commands}`);
  if (user.keys) scopes.push(`keys ${user.keys}`);
  if (user.channels) scopes.push(`channels ${user.channels}`);
  if (user.selectors > 0) {
    scopes.push(`${user.selectors} selector${user.selectors === 1 ? '' : 's'}`);
  }
  if (user.nopass) scopes.push('nopass: any password is accepted');
  return scopes;
}
