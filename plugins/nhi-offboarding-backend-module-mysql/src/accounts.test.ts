import {
  accountId,
  clientHostOf,
  connectionMayBelongTo,
  formatAccount,
  hostMatches,
  parseAccount,
  quoteAccount,
} from './accounts';

describe('parseAccount', () => {
  it.each([
    ['app@%', { user: 'app', host: '%' }],
    ['reporting@10.0.0.%', { user: 'reporting', host: '10.0.0.%' }],
    ['app', { user: 'app', host: '%' }],
    [' app@localhost ', { user: 'app', host: 'localhost' }],
    ["'app'@'%'", { user: 'app', host: '%' }],
    ['`app`@`db.example.com`', { user: 'app', host: 'db.example.com' }],
    ['"app"@"%"', { user: 'app', host: '%' }],
    ["'it''s'@'%'", { user: "it's", host: '%' }],
    ["'a\\'b'@'%'", { user: "a'b", host: '%' }],
    ['`a``b`@`%`', { user: 'a`b', host: '%' }],
    ['mail@example.com@%', { user: 'mail@example.com', host: '%' }],
    ["'mail@x'", { user: 'mail@x', host: '%' }],
    ['role@', { user: 'role', host: '' }],
  ])('%s', (text, account) => {
    expect(parseAccount(text)).toEqual({ account });
  });

  it.each([
    ['', 'empty'],
    ['@%', 'anonymous'],
    ["'app@%", 'not closed'],
    ["'app'x", 'expected @'],
    ["'app'@'%", 'not closed'],
    [`${'u'.repeat(129)}@%`, 'longer than 128'],
  ])('refuses %j', (text, problem) => {
    const result = parseAccount(text);
    expect('problem' in result && result.problem).toContain(problem);
  });

  it('formats for people and as ids that parse back', () => {
    expect(formatAccount({ user: "a'b", host: '%' })).toBe("'a\\'b'@'%'");
    expect(accountId({ user: 'app', host: '10.0.0.%' })).toBe('app@10.0.0.%');
    for (const account of [
      { user: 'we ird', host: '%' },
      { user: "a'b\\c", host: 'h' },
      { user: 'x@y', host: '%' },
    ]) {
      expect(parseAccount(accountId(account))).toEqual({ account });
    }
  });

  it('quotes with backticks only', () => {
    expect(quoteAccount({ user: 'a`b\\?', host: '%' })).toBe('`a``b\\?`@`%`');
    expect(() => quoteAccount({ user: 'a\0', host: '%' })).toThrow();
  });
});

describe('matching connections to accounts', () => {
  it('reads the client host of a processlist row', () => {
    expect(clientHostOf('localhost:50144')).toBe('localhost');
    expect(clientHostOf('localhost')).toBe('localhost');
    expect(clientHostOf('10.0.0.5:3306')).toBe('10.0.0.5');
    expect(clientHostOf('[::1]:3306')).toBe('::1');
    expect(clientHostOf('app-1.example.com:41000')).toBe('app-1.example.com');
  });

  it.each([
    ['%', 'anything', 'yes'],
    ['10.0.0.%', '10.0.0.5', 'yes'],
    ['10.0.0.%', '10.0.1.5', 'no'],
    ['10.0.0.%', 'app-1.example.com', 'maybe'],
    ['10.0.0.0/255.255.255.0', '10.0.0.77', 'yes'],
    ['10.0.0.0/255.255.255.0', '10.0.1.77', 'no'],
    ['%.example.com', 'APP-1.example.com', 'yes'],
    ['%.example.com', '10.0.0.5', 'no'],
    ['db_.example.com', 'db1.example.com', 'yes'],
    ['db\\_.example.com', 'db1.example.com', 'no'],
    ['localhost', '127.0.0.1', 'yes'],
    ['127.0.0.1', 'localhost', 'yes'],
    ['::1', 'localhost', 'yes'],
  ])('host pattern %s against %s: %s', (pattern, client, expected) => {
    expect(hostMatches(pattern, client)).toBe(expected);
  });

  const app = (host: string) => ({ user: 'app', host });

  it('gives a connection to the most specific matching account', () => {
    const all = [app('%'), app('10.0.0.%'), app('10.0.0.5')];
    expect(connectionMayBelongTo(app('10.0.0.5'), '10.0.0.5', all)).toBe(true);
    expect(connectionMayBelongTo(app('10.0.0.%'), '10.0.0.5', all)).toBe(false);
    expect(connectionMayBelongTo(app('%'), '10.0.0.5', all)).toBe(false);
    expect(connectionMayBelongTo(app('10.0.0.%'), '10.0.0.6', all)).toBe(true);
    expect(connectionMayBelongTo(app('%'), '10.0.0.6', all)).toBe(false);
    expect(connectionMayBelongTo(app('%'), '192.168.1.1', all)).toBe(true);
  });

  it('counts a connection for every account it may belong to when unsure', () => {
    // Shown by name: its address is unknown, so an IP pattern may have matched.
    const all = [app('%'), app('10.0.0.%')];
    expect(
      connectionMayBelongTo(app('10.0.0.%'), 'app-1.example.com', all),
    ).toBe(true);
    expect(connectionMayBelongTo(app('%'), 'app-1.example.com', all)).toBe(
      true,
    );
    // Two patterns this cannot order: both.
    const tie = [app('10.0.%.5'), app('10.%.0.5')];
    expect(connectionMayBelongTo(tie[0], '10.0.0.5', tie)).toBe(true);
    // No account of the name matches what is shown (e.g. it was dropped): all.
    expect(connectionMayBelongTo(app('10.0.0.%'), '172.16.0.1', [])).toBe(true);
    expect(
      connectionMayBelongTo(app('10.0.0.%'), '172.16.0.1', [app('10.1.%')]),
    ).toBe(true);
    // A dropped wide account whose connection a narrower account explains.
    expect(connectionMayBelongTo(app('%'), '10.0.0.5', [app('10.0.0.5')])).toBe(
      false,
    );
  });
});
