import { ConfigReader } from '@backstage/config';
import { readOauthProviderConfig } from './readConfig';

describe('readOauthProviderConfig', () => {
  const base = { id: 'auth', type: 'oauth', issuer: 'https://auth.example' };

  it('reads clients whose ids are not valid config keys (UUIDs, base64url)', () => {
    const ids = ['3f1c9a52-0d6e-4c36-9d0b-7f1e2a9c8b11', 'g10ELgqLya-6PJj5q-'];
    const config = readOauthProviderConfig(
      new ConfigReader({
        ...base,
        clients: ids.map((clientId, i) => ({
          clientId,
          registrationAccessToken: `rat-${i}`,
        })),
      }),
    );
    expect(config.clients).toEqual({
      [ids[0]]: { registrationAccessToken: 'rat-0' },
      [ids[1]]: { registrationAccessToken: 'rat-1' },
    });
  });

  it('refuses the map form with what to write instead', () => {
    expect(() =>
      readOauthProviderConfig(
        new ConfigReader({
          ...base,
          clients: { payments: { registrationAccessToken: 'x' } },
        }),
      ),
    ).toThrow(
      'Invalid oauth provider config: clients must be a list of { clientId, registrationAccessToken, registrationClientUri }',
    );
  });

  it('refuses a client listed twice', () => {
    expect(() =>
      readOauthProviderConfig(
        new ConfigReader({
          ...base,
          clients: [{ clientId: 'a' }, { clientId: 'a' }],
        }),
      ),
    ).toThrow('client a is listed twice');
  });
});
