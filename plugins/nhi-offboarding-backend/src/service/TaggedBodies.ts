import type express from 'express';
import { LruCache } from './LruCache';

/**
 * The bodies of tagged reads as sent (UTF-8 bytes), kept under their entity
 * tag. A tag names one content (entityTags.ts: the key the text is kept
 * under, or the text's own hash), so every reader of a version after the
 * first is sent the bytes already encoded: express would otherwise turn the
 * 20-45 KiB text into a new buffer for each answer (copying a spliced text
 * into one string first), work and garbage on every read of the Retire tab.
 * One per router: the keys behind the tags are those of its store.
 */
export class TaggedBodies {
  private readonly bodies: LruCache<Buffer>;

  constructor(maxBytes: number = 32 * 1024 * 1024) {
    this.bodies = new LruCache<Buffer>(maxBytes, body => body.length);
  }

  /**
   * Answers with the entity tag `etag`: 304 when the client holds that
   * version; else the body kept under it, or the text `build` gives, kept.
   */
  async send(
    req: express.Request,
    res: express.Response,
    etag: string,
    build: () => Promise<string>,
  ): Promise<void> {
    if (notModified(req, res, etag)) return;
    sendJsonBody(res, this.bodies.get(etag) ?? this.keep(etag, await build()));
  }

  /** The body kept under `etag`, if any (sent as it is). */
  get(etag: string): Buffer | undefined {
    return this.bodies.get(etag);
  }

  /** Keeps `text` as the body of `etag` and returns it encoded. */
  keep(etag: string, text: string): Buffer {
    const body = Buffer.from(text, 'utf8');
    this.bodies.set(etag, body);
    return body;
  }
}

/**
 * Sets a read's entity tag (entityTags.ts) and answers 304 when the client
 * holds that version (If-None-Match); says whether it did. `no-cache`: a
 * browser keeps the answer but asks again every time (the Retire tab polls
 * a running retirement).
 */
export function notModified(
  req: express.Request,
  res: express.Response,
  etag: string,
): boolean {
  res.set({ ETag: etag, 'Cache-Control': 'private, no-cache' });
  if (!req.fresh) return false;
  res.status(304).end();
  return true;
}

/** JSON already encoded, with the headers res.json gives a text. */
export function sendJsonBody(res: express.Response, body: Buffer): void {
  res.set('Content-Type', 'application/json; charset=utf-8').send(body);
}
