import {
  credentialFingerprint,
  fingerprintParts,
  parseAclUser,
  parseClientList,
  userNameProblem,
} from './acl';
import { makeRedactor } from './errors';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

function reply(flags: string[], passwords: string[]) {
  return [
    'flags',
    flags,
    'passwords',
    passwords,
    'commands',
    '-@all +get',
    'keys',
    '~app:*',
    'channels',
    '',
    'selectors',
    [],
  ];
}

describe('ACL helpers', () => {
  it('reads ACL GETUSER (RESP2 pairs and RESP3 maps)', () => {
    const user = parseAclUser('app', reply(['on'], [HASH_A]));
    expect(user).toMatchObject({
      name: 'app',
      on: true,
      nopass: false,
      passwordHashes: [HASH_A],
      commands: '-@all +get',
      keys: '~app:*',
    });
    const fromMap = parseAclUser(
      'app',
      new Map<string, unknown>([
        ['flags', ['off', 'nopass']],
        ['passwords', []],
      ]),
    );
    expect(fromMap).toMatchObject({ on: false, nopass: true });
    expect(parseAclUser('app', null)).toBeUndefined();
  });

  it('fingerprints each password without revealing its hash, per user', () => {
    const one = credentialFingerprint(
      parseAclUser('app', reply(['on'], [HASH_A]))!,
    );
    expect(one).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(one).not.toContain(HASH_A);
    const other = credentialFingerprint(
      parseAclUser('app2', reply(['on'], [HASH_A]))!,
    );
    expect(other).not.toBe(one);
    const two = credentialFingerprint(
      parseAclUser('app', reply(['on'], [HASH_B, HASH_A]))!,
    );
    expect(fingerprintParts(two)).toHaveLength(2);
    expect(fingerprintParts(two)).toContain(one);
    const none = credentialFingerprint(parseAclUser('app', reply(['on'], []))!);
    const nopass = credentialFingerprint(
      parseAclUser('app', reply(['on', 'nopass'], []))!,
    );
    expect(new Set([one, none, nopass]).size).toBe(3);
    expect(fingerprintParts('not a fingerprint')).toEqual([]);
  });

  it('reads CLIENT LIST', () => {
    const clients = parseClientList(
      'id=4 addr=127.0.0.1:1 laddr=127.0.0.1:2 fd=7 name= age=12 idle=3 flags=N db=0 cmd=ping user=app resp=2\n' +
        'id=5 addr=127.0.0.1:3 name=worker age=1 idle=0 user=default\n',
    );
    expect(clients).toEqual([
      { id: '4', addr: '127.0.0.1:1', name: '', user: 'app', age: 12, idle: 3 },
      {
        id: '5',
        addr: '127.0.0.1:3',
        name: 'worker',
        user: 'default',
        age: 1,
        idle: 0,
      },
    ]);
  });

  it('checks user names and redacts password rules', () => {
    expect(userNameProblem('')).toContain('empty');
    expect(userNameProblem('a b')).toContain('spaces');
    expect(userNameProblem('app:reader')).toBeUndefined();
    const redact = makeRedactor(['s3cret-value']);
    expect(
      redact(
        `ACL SETUSER u >hunter2 #${HASH_A} redis://u:s3cret-value@h:6379 s3cret-value`,
      ),
    ).toBe('ACL SETUSER u >*** #*** redis://u:***@h:6379 ***');
  });
});
