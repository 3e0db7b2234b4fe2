import express from 'express';
import request from 'supertest';
import { TaggedBodies } from './TaggedBodies';

/** An app answering GET /:tag with the text `texts[tag]`, counting builds. */
function app(bodies: TaggedBodies, texts: Record<string, string>) {
  const builds: string[] = [];
  const server = express();
  server.get('/:tag', async (req, res) => {
    const tag = `W/"${req.params.tag}"`;
    await bodies.send(req, res, tag, async () => {
      builds.push(req.params.tag);
      return texts[req.params.tag];
    });
  });
  return { server, builds };
}

describe('TaggedBodies', () => {
  it('builds the body of a tag once and sends the same bytes and headers to every reader', async () => {
    const texts = { a: '{"name":"zürich-bot","n":1}', b: '{"n":2}' };
    const { server, builds } = app(new TaggedBodies(), texts);
    const first = await request(server).get('/a');
    const second = await request(server).get('/a');
    for (const res of [first, second]) {
      expect(res.status).toBe(200);
      expect(res.text).toBe(texts.a);
      expect(res.headers['content-type']).toBe(
        'application/json; charset=utf-8',
      );
      // Bytes, not characters: ü is two.
      expect(res.headers['content-length']).toBe(
        String(Buffer.byteLength(texts.a)),
      );
      expect(res.headers.etag).toBe('W/"a"');
      expect(res.headers['cache-control']).toBe('private, no-cache');
    }
    expect(builds).toEqual(['a']);
    // Another tag is another body.
    expect((await request(server).get('/b')).text).toBe(texts.b);
    expect(builds).toEqual(['a', 'b']);
  });

  it('answers 304 to a client holding the tag, without building', async () => {
    const { server, builds } = app(new TaggedBodies(), { a: '{}' });
    const res = await request(server).get('/a').set('If-None-Match', 'W/"a"');
    expect(res.status).toBe(304);
    expect(res.text).toBeFalsy();
    expect(builds).toEqual([]);
  });

  it('keeps no more bytes than its bound: the oldest body goes first, a larger one is never kept', async () => {
    // JSON strings of 40 bytes, and one of 101.
    const json = (c: string, bytes: number) => `"${c.repeat(bytes - 2)}"`;
    const texts = {
      a: json('a', 40),
      b: json('b', 40),
      huge: json('h', 101),
    };
    const { server, builds } = app(new TaggedBodies(100), texts);
    for (const tag of ['a', 'b', 'a', 'huge', 'huge']) {
      expect((await request(server).get(`/${tag}`)).text).toBe(
        texts[tag as 'a'],
      );
    }
    expect(builds).toEqual(['a', 'b', 'huge', 'huge']);
    // a and b (80 bytes) fit together; a third of 40 pushes out the oldest.
    const more = app(new TaggedBodies(100), { ...texts, c: json('c', 40) });
    for (const tag of ['a', 'b', 'c', 'b', 'a']) {
      await request(more.server).get(`/${tag}`);
    }
    expect(more.builds).toEqual(['a', 'b', 'c', 'a']);
  });
});
