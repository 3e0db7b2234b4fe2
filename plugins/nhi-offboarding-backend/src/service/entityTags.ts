import * as crypto from 'node:crypto';

/**
 * Entity tags (ETag) the plugin sets itself, so express does not hash the
 * body of every answer for its own: of a key a text is kept under, or of a
 * text hashed once when it is kept and given to many readers.
 */

/** JSON text with its entity tag. */
export interface TaggedText {
  text: string;
  etag: string;
}

/**
 * A read whose tag (when it has one of ours) is known before its text is
 * built: a client holding that version gets a 304 and nothing is built.
 */
export interface TaggedRead {
  etag?: string;
  text: () => Promise<string>;
}

const SALT = crypto.randomBytes(6).toString('base64url');

/**
 * A weak tag of the key a read's text is kept under. Salted per process:
 * another version of this code may write other text under the same key.
 */
export function etagOfKey(key: string): string {
  return weak(`${SALT}|${key}`);
}

/** A text with the weak tag of its content. */
export function tagged(text: string): TaggedText {
  return { text, etag: weak(text) };
}

/** One-shot where Node has it (20.12+): a Hash object per tag costs more. */
const sha1: (text: string) => string =
  typeof crypto.hash === 'function'
    ? text => crypto.hash('sha1', text, 'base64url')
    : text => crypto.createHash('sha1').update(text).digest('base64url');

function weak(content: string): string {
  return `W/"${sha1(content)}"`;
}
