import {
  createSecretRedactor,
  entityRefForms,
  mentionsEntity,
  PASSWORD_ASSIGNMENT_PATTERN,
  URL_PASSWORD_PATTERN,
} from './redaction';

describe('createSecretRedactor', () => {
  it('removes secrets, their URL-encoded form and system patterns', () => {
    const redact = createSecretRedactor(
      ['p@ss/word!', 'ab', undefined],
      [
        URL_PASSWORD_PATTERN,
        PASSWORD_ASSIGNMENT_PATTERN,
        [/tok_[a-z0-9]+/g, 'tok_***'],
      ],
    );
    expect(redact('login p@ss/word! failed')).toBe('login *** failed');
    expect(redact('postgresql://admin:p%40ss%2Fword!@db:5432/x')).toBe(
      'postgresql://admin:***@db:5432/x',
    );
    expect(redact('postgresql://admin:other@db')).toBe(
      'postgresql://admin:***@db',
    );
    expect(redact("password='x y' host=db")).toBe('password=*** host=db');
    expect(redact('bearer tok_abc123')).toBe('bearer tok_***');
    // Too short to be a secret worth hiding (and hiding it would mangle text).
    expect(redact('ab cd')).toBe('ab cd');
  });
});

describe('mentionsEntity', () => {
  const forms = entityRefForms('Component:default/payments-api');

  it('knows the full and the short form', () => {
    expect(forms).toEqual([
      'component:default/payments-api',
      'component:payments-api',
    ]);
  });

  it.each([
    ['owned by backstage:component:default/payments-api', true],
    ['component:payments-api.', true],
    ['COMPONENT:PAYMENTS-API', true],
    ['component:payments-api-v2', false],
    ['component:default/payments-api.v2', false],
    ['xcomponent:payments-api', false],
  ])('%s → %s', (text, expected) => {
    expect(mentionsEntity(text, forms)).toBe(expected);
  });
});
