/**
 * Helpers providers share so that no secret reaches a log line, an error or
 * the evidence, and so that "does this text name the entity?" is decided the
 * same way everywhere.
 */

/** A pattern a system prints secrets in, and what to put in their place. */
export type RedactionPattern = [pattern: RegExp, replacement: string];

/**
 * Builds a function that removes the given secrets (also URL-encoded, as
 * they appear in connection strings) and anything matching the system's
 * own patterns from a text.
 * @public
 */
export function createSecretRedactor(
  secrets: Array<string | undefined>,
  patterns: RedactionPattern[] = [],
): (text: string) => string {
  const needles = [
    ...new Set(
      secrets
        .filter((s): s is string => typeof s === 'string' && s.length >= 3)
        .flatMap(s => [s, encodeURIComponent(s)]),
    ),
  ].sort((a, b) => b.length - a.length); // longest first: no partial leftovers
  return (text: string): string => {
    let out = text;
    for (const needle of needles) out = out.split(needle).join('***');
    for (const [pattern, replacement] of patterns) {
      out = out.replace(pattern, replacement);
    }
    return out;
  };
}

/** Credentials in URLs (`scheme://user:secret@host`). @public */
export const URL_PASSWORD_PATTERN: RedactionPattern = [
  /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@\s/]*@/gi,
  '$1***@',
];

/** `password=...` in connection strings and messages. @public */
export const PASSWORD_ASSIGNMENT_PATTERN: RedactionPattern = [
  /(\bpassword\s*=\s*)('[^']*'|\S+)/gi,
  '$1***',
];

/**
 * The ways a text may name an entity: its full ref (lower-cased) and, in
 * the default namespace, the short `kind:name`.
 * @public
 */
export function entityRefForms(entityRef: string): string[] {
  const ref = entityRef.toLowerCase();
  const forms = [ref];
  const short = /^([^:]+):default\/(.+)$/.exec(ref);
  if (short) forms.push(`${short[1]}:${short[2]}`);
  return forms;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * True when `text` names one of the forms as a whole word (a `backstage:`
 * prefix allowed): `payments-api` does not match inside `payments-api-v2`
 * or `my-payments-api`. A `.` only continues a name when a letter or digit
 * follows it.
 * @public
 */
export function mentionsEntity(text: string, forms: string[]): boolean {
  return forms.some(form =>
    new RegExp(
      `(?:^|[^a-z0-9_.\\-/:]|backstage:)${escapeRegExp(form)}(?![a-z0-9_\\-]|\\.[a-z0-9])`,
      'i',
    ).test(text),
  );
}
