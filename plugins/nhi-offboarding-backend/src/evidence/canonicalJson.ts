/**
 * Deterministic JSON: object keys sorted, no whitespace, undefined dropped.
 * The evidence hash is taken over this form so that the same facts always
 * hash the same, whatever order a database or a client returns keys in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      return 'null';
    }
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    return `[${value
      .map(v => (v === undefined ? 'null' : canonicalJson(v)))
      .join(',')}]`;
  }
  const entries = Object.keys(value as Record<string, unknown>)
    .filter(k => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map(
      k =>
        `${JSON.stringify(k)}:${canonicalJson(
          (value as Record<string, unknown>)[k],
        )}`,
    );
  return `{${entries.join(',')}}`;
}
