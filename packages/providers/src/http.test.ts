import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeJson, type HttpResponse } from './http';
import { rejection } from './testing/assertions';

const res = (body: string): HttpResponse => ({ status: 200, headers: {}, body, url: 'https://up.example/list' });
const Schema = z.object({ items: z.array(z.object({ id: z.string() })) });

describe('decodeJson', () => {
  it('returns the parsed body', () => {
    expect(decodeJson('Up', res('{"items":[{"id":"a"}]}'), Schema)).toEqual({ items: [{ id: 'a' }] });
  });

  it('says where the shape differs, with the answer named and the hint appended when given', async () => {
    const wrong = res('{"items":[{"id":1}]}');
    const bare = await rejection((async () => decodeJson('Up', wrong, Schema))());
    expect(bare).toMatchObject({ code: 'upstream_unavailable', upstream: 'Up', details: { status: 200 } });
    expect(bare.message).toBe('Up answered with a body of an unexpected shape (at "items.0.id").');
    const named = await rejection(
      (async () => decodeJson('Up', wrong, Schema, { what: 'the list', hint: 'Check it.' }))(),
    );
    expect(named.message).toBe('Up answered the list with a body of an unexpected shape (at "items.0.id"). Check it.');
  });
});
