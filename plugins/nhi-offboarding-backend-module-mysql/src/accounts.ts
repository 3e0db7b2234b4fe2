/*
 * Account names of MySQL / MariaDB: `user@host`, where host is a pattern
 * (`%`, `10.0.0.%`, `db_.example.com`, `10.0.0.0/255.255.255.0`).
 */

/** One account: a user name and the host pattern it may connect from. @public */
export interface MysqlAccount {
  user: string;
  host: string;
}

/** MariaDB allows user names of 128 characters (MySQL: 32), hosts of 255. */
const MAX_USER_CHARS = 128;
const MAX_HOST_CHARS = 255;

/**
 * Reads a quoted part (`'a''b'`, `"a"`, `` `a` ``) at `start`. Returns the
 * unquoted text and the index after the closing quote.
 */
function readQuoted(
  text: string,
  start: number,
): { value: string; end: number } | undefined {
  const quote = text[start];
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quote !== '`' && i + 1 < text.length) {
      value += text[++i];
    } else if (c === quote) {
      if (text[i + 1] === quote) {
        value += quote;
        i++;
      } else {
        return { value, end: i + 1 };
      }
    } else {
      value += c;
    }
  }
  return undefined;
}

const QUOTES = new Set(["'", '"', '`']);

/**
 * Parses an account as an annotation or a person writes it: `app@%`,
 * `reporting@10.0.0.%`, `'app'@'%'`, `` `app`@`localhost` `` or just `app`
 * (host `%`, as in CREATE USER). Unquoted names are split at the last `@`.
 * Returns a reason when the text cannot name an account.
 */
export function parseAccount(
  text: string,
): { account: MysqlAccount } | { problem: string } {
  const raw = typeof text === 'string' ? text.trim() : '';
  if (!raw) return { problem: 'the account name is empty' };
  let user: string;
  let host: string;
  if (QUOTES.has(raw[0])) {
    const u = readQuoted(raw, 0);
    if (!u) return { problem: 'the quoted user name is not closed' };
    user = u.value;
    const rest = raw.slice(u.end);
    if (rest === '') {
      host = '%';
    } else if (!rest.startsWith('@')) {
      return { problem: 'expected @ after the quoted user name' };
    } else if (QUOTES.has(rest[1])) {
      const h = readQuoted(rest, 1);
      if (!h || h.end !== rest.length) {
        return { problem: 'the quoted host is not closed properly' };
      }
      host = h.value;
    } else {
      host = rest.slice(1);
    }
  } else {
    const at = raw.lastIndexOf('@');
    if (at < 0) {
      user = raw;
      host = '%';
    } else {
      user = raw.slice(0, at);
      host = raw.slice(at + 1);
    }
  }
  if (!user) {
    return {
      problem: 'the user name is empty (anonymous accounts are not acted on)',
    };
  }
  if (user.includes('\0') || host.includes('\0')) {
    return { problem: 'the account name contains a NUL character' };
  }
  if ([...user].length > MAX_USER_CHARS) {
    return {
      problem: `the user name is longer than ${MAX_USER_CHARS} characters`,
    };
  }
  if ([...host].length > MAX_HOST_CHARS) {
    return { problem: `the host is longer than ${MAX_HOST_CHARS} characters` };
  }
  return { account: { user, host } };
}

/** `'user'@'host'`, the way MySQL prints accounts (for people). */
export function formatAccount(account: MysqlAccount): string {
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `${q(account.user)}@${q(account.host)}`;
}

/** `user@host` when that reads back unambiguously, else the quoted form. */
export function accountId(account: MysqlAccount): string {
  return /^[A-Za-z0-9_.$-]+$/.test(account.user) &&
    /^[A-Za-z0-9_.%:/-]*$/.test(account.host)
    ? `${account.user}@${account.host}`
    : formatAccount(account);
}

/**
 * The account in SQL, as two backtick-quoted identifiers. Inside backticks
 * only the backtick is special (doubled), whatever the sql_mode (backslash
 * escapes and ANSI_QUOTES do not apply), so any name stays one account.
 * Statements with these names are sent without placeholders, so a `?` in a
 * name is never taken for one.
 */
export function quoteAccount(account: MysqlAccount): string {
  const q = (s: string) => {
    if (s.includes('\0')) throw new Error('Cannot quote a NUL character');
    return `\`${s.replace(/`/g, '``')}\``;
  };
  return `${q(account.user)}@${q(account.host)}`;
}

/** A role name, backtick-quoted. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('Cannot quote a NUL character');
  return `\`${name.replace(/`/g, '``')}\``;
}

export function sameAccount(a: MysqlAccount, b: MysqlAccount): boolean {
  // Host patterns compare case-insensitively on the server.
  return a.user === b.user && a.host.toLowerCase() === b.host.toLowerCase();
}

// ------------------------------------------------------- connection matching

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function isIpAddress(host: string): boolean {
  return IPV4.test(host) || host.includes(':');
}

/** True when a host pattern can only match IP addresses. */
function isIpPattern(pattern: string): boolean {
  return /^[0-9.%_]+(\/[0-9.]+)?$/.test(pattern) || pattern.includes(':');
}

function ipv4ToInt(ip: string): number | undefined {
  if (!IPV4.test(ip)) return undefined;
  const parts = ip.split('.').map(Number);
  if (parts.some(p => p > 255)) return undefined;
  return (
    ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3]
  );
}

function likeToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (c === '%') {
      re += '.*';
    } else if (c === '_') {
      re += '.';
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`, 'is');
}

/** Whether a host pattern matches a client host: yes, no, or cannot tell. */
export type HostMatch = 'yes' | 'no' | 'maybe';

/**
 * Matches an account's host pattern against the client host that the
 * processlist shows (the port already removed). The server matches a
 * pattern against the client's host name and its IP address, but the
 * processlist shows only one of them: the name when it resolved one, else
 * the address. What cannot be decided from that is `maybe`.
 */
export function hostMatches(pattern: string, clientHost: string): HostMatch {
  const client = clientHost.toLowerCase();
  if (pattern === '%' || pattern === '') return 'yes';
  const candidates = [client];
  // The loopback address and `localhost` are the same client.
  if (client === 'localhost') candidates.push('127.0.0.1', '::1');
  if (client === '127.0.0.1' || client === '::1') candidates.push('localhost');

  const mask = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,3}(?:\.\d{1,3}){3})$/.exec(
    pattern,
  );
  const test = (c: string): boolean => {
    if (mask) {
      const ip = ipv4ToInt(c);
      const net = ipv4ToInt(mask[1]);
      const m = ipv4ToInt(mask[2]);
      return (
        ip !== undefined &&
        net !== undefined &&
        m !== undefined &&
        (ip & m) >>> 0 === net
      );
    }
    return likeToRegExp(pattern).test(c);
  };
  if (candidates.some(test)) return 'yes';
  // A client shown by name also has an address we do not see, which an IP
  // pattern may match. A client shown by address has no name the server
  // knew of (or names are not resolved), so a name pattern cannot match.
  if (!isIpAddress(client) && client !== 'localhost' && isIpPattern(pattern)) {
    return 'maybe';
  }
  return 'no';
}

/**
 * How general a host pattern is; lower is more specific. The server tries
 * accounts from the most specific host pattern to the most general and uses
 * the first that matches. This follows that order in its main lines: a
 * literal host (or address/netmask) first, then patterns with only `_`
 * (fewer first), then patterns with `%` (more literal characters first).
 * Patterns this cannot order compare as equal.
 */
export function hostGenerality(pattern: string): [number, number] {
  let literal = 0;
  let one = 0;
  let many = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      i++;
      literal++;
    } else if (c === '%') {
      many++;
    } else if (c === '_') {
      one++;
    } else {
      literal++;
    }
  }
  if (many === 0 && one === 0) return [0, 0];
  if (many === 0) return [1, one];
  return [2, -literal];
}

function compareGenerality(a: [number, number], b: [number, number]): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}

/** The client host of a processlist HOST value (`host:port`, `[v6]:port`, `localhost`). */
export function clientHostOf(processlistHost: string): string {
  const h = (processlistHost ?? '').trim();
  const bracketed = /^\[(.*)\](:\d+)?$/.exec(h);
  if (bracketed) return bracketed[1];
  return h.replace(/:\d+$/, '');
}

/**
 * Whether a connection of `user` from `clientHost` may have logged in as
 * `account`. The processlist shows the user name a client logged in with,
 * not the account the server matched, so this redoes the server's choice
 * among the accounts with that user name (`sameName`, which may or may not
 * include `account`): the connection belongs to `account` when its pattern
 * matches (or may match) and no other account of the name surely matches
 * with a more specific pattern. When unsure it answers true: ending a
 * session too many is safer than leaving one open.
 */
export function connectionMayBelongTo(
  account: MysqlAccount,
  clientHost: string,
  sameName: MysqlAccount[],
): boolean {
  const own = hostMatches(account.host, clientHost);
  const others = sameName.filter(a => !sameAccount(a, account));
  if (own === 'no') {
    // No account of the name matches what we see: the client's real
    // address is unknown to us, so any of them may have been used.
    return others.every(o => hostMatches(o.host, clientHost) === 'no');
  }
  const mine = hostGenerality(account.host);
  return !others.some(
    o =>
      hostMatches(o.host, clientHost) === 'yes' &&
      compareGenerality(hostGenerality(o.host), mine) < 0,
  );
}
