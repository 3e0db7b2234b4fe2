/**
 * PostgreSQL truncates identifiers to NAMEDATALEN - 1 = 63 bytes, both in
 * SQL and in the user name of a login. A longer name can therefore never be
 * matched exactly and must not be acted on: it would silently hit the role
 * named by its first 63 bytes.
 */
export const MAX_ROLE_NAME_BYTES = 63;

/** Why a role name cannot be used, or undefined when it can. */
export function roleNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) {
    return 'the role name is empty';
  }
  if (name.includes('\0')) {
    return 'the role name contains a NUL character';
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_ROLE_NAME_BYTES) {
    return `the role name is ${bytes} bytes long; PostgreSQL truncates names to ${MAX_ROLE_NAME_BYTES} bytes, so it cannot name a role exactly`;
  }
  return undefined;
}

/**
 * Quotes a role name as an SQL identifier.
 *
 * Double quotes are doubled, as usual. Knex rewrites every `?` of the final
 * SQL text into a positional parameter (`$1`) and eats backslashes in front
 * of it, even inside a quoted identifier, and knex's own `??` binding
 * splits names on dots. So a name that contains `?` is written as a Unicode
 * escape identifier (`U&"a\003Fb"`), in which `?` and `\` are spelled as
 * code points and no `?` reaches knex. The result is a single identifier
 * whatever the name holds.
 */
export function quoteIdent(name: string): string {
  const problem = roleNameProblem(name);
  if (problem) {
    throw new Error(`Cannot quote role name: ${problem}`);
  }
  const doubled = name.replace(/"/g, '""');
  if (!name.includes('?')) {
    return `"${doubled}"`;
  }
  const escaped = doubled.replace(/\\/g, '\\005C').replace(/\?/g, '\\003F');
  return `U&"${escaped}"`;
}

/** Escapes `%`, `_` and `\` for a LIKE/ILIKE pattern (default escape `\`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, c => `\\${c}`);
}
