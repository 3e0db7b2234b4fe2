/**
 * The ways a comment may name an entity: its full ref
 * (`component:default/payments-api`, often written with a `backstage:`
 * prefix) and, in the default namespace, `component:payments-api`.
 */
export function refForms(entityRef: string): string[] {
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
 * True when `text` names one of the forms as a whole: `payments-api` does
 * not match inside `payments-api-v2` or `my-payments-api`. Entity names
 * join letters and digits with `-`, `_` and `.`, so a `.` only continues a
 * name when a letter or digit follows it.
 */
export function mentionsEntity(text: string, forms: string[]): boolean {
  return forms.some(form =>
    new RegExp(
      `(?:^|[^a-z0-9_.\\-/:])${escapeRegExp(form)}(?![a-z0-9_\\-]|\\.[a-z0-9])`,
      'i',
    ).test(text),
  );
}
