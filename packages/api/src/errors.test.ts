import { ErrorCode } from '@alphaswarm/contracts';
import { TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { getStatusCodeFromKey } from '@trpc/server/unstable-core-do-not-import';
import { describe, expect, it } from 'vitest';
import { AppError, toAppError, toTrpcError, trpcErrorBody } from './errors';

describe('one error boundary', () => {
  it('every AppError gets the tRPC code of its HTTP status, and keeps its app code', () => {
    for (const code of ErrorCode.options) {
      const app = new AppError(code, 'message');
      const body = trpcErrorBody(app, 'some.path');
      expect(getStatusCodeFromKey(body.error.data.code), code).toBe(app.status);
      expect(body.error.code, code).toBe(TRPC_ERROR_CODES_BY_KEY[body.error.data.code]);
      expect(body.error.data.httpStatus).toBe(app.status);
      expect(toTrpcError(app).code, code).toBe(body.error.data.code);
      expect(body.error.data.app_code).toBe(code === 'upstream_timeout' ? 'upstream_unavailable' : code);
    }
  });

  it("tRPC's own refusals become typed errors; a parser's wording never reaches the caller", () => {
    const cases: [TRPCError, string, number][] = [
      [new TRPCError({ code: 'METHOD_NOT_SUPPORTED', message: 'Unsupported GET-request' }), 'method_not_allowed', 405],
      [
        new TRPCError({ code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported content-type' }),
        'unsupported_media_type',
        415,
      ],
      [new TRPCError({ code: 'PAYLOAD_TOO_LARGE' }), 'payload_too_large', 413],
      [new TRPCError({ code: 'NOT_FOUND', message: 'No procedure found' }), 'not_found', 404],
      [new TRPCError({ code: 'TOO_MANY_REQUESTS' }), 'rate_limited', 429],
    ];
    for (const [error, code, status] of cases) expect(toAppError(error)).toMatchObject({ code, status });
    const parse = new TRPCError({
      code: 'BAD_REQUEST',
      message: 'Unexpected token } in JSON at position 3',
      cause: new SyntaxError('x'),
    });
    expect(toAppError(parse).message).not.toMatch(/Unexpected token|position/);
    const v8 = new TRPCError({
      code: 'BAD_REQUEST',
      message: 'Cannot create a string longer than 0x1fffffe8 characters',
      cause: new RangeError('x'),
    });
    expect(toAppError(v8)).toMatchObject({ code: 'invalid_request' });
    expect(toAppError(v8).message).not.toMatch(/Cannot create a string/);
  });
});
