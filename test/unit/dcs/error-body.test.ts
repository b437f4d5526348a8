import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ERROR_MSG_CHARS, parseErrorBody } from '../../../src/dcs/error-body.js';

describe('parseErrorBody', () => {
  it('reads the DCS shape {"error_code","error_msg","error_ext_msg"}', () => {
    const body = '{"error_code":"111400070","error_msg":"Invalid task id.","error_ext_msg":null}';
    expect(parseErrorBody(body)).toEqual({
      errorCode: '111400070',
      errorMsg: 'Invalid task id.',
      requestId: undefined,
    });
  });

  it('reads the older shape {"error":{"code","message"}}', () => {
    const body = JSON.stringify({ error: { code: '111404022', message: 'The instance does not exist.' } });
    expect(parseErrorBody(body)).toMatchObject({
      errorCode: '111404022',
      errorMsg: 'The instance does not exist.',
    });
  });

  it('reads the gateway shape with its request_id', () => {
    const body = JSON.stringify({
      error_code: 'APIGW.0308',
      error_msg:
        'The throttling threshold has been reached: policy user over ratelimit,limit:200,time:1 second',
      request_id: 'b4a8a8f6d1b2c0e3f4a5b6c7d8e9f001',
    });
    expect(parseErrorBody(body)).toEqual({
      errorCode: 'APIGW.0308',
      errorMsg:
        'The throttling threshold has been reached: policy user over ratelimit,limit:200,time:1 second',
      requestId: 'b4a8a8f6d1b2c0e3f4a5b6c7d8e9f001',
    });
  });

  it('prefers top-level error_code over a nested error.code', () => {
    expect(parseErrorBody('{"error_code":"A","error":{"code":"B","message":"m"}}')).toMatchObject({
      errorCode: 'A',
      errorMsg: 'm',
    });
  });

  it('reads a numeric code as its decimal string', () => {
    expect(parseErrorBody('{"error_code":111400070}').errorCode).toBe('111400070');
  });

  it('tolerates leading whitespace and a byte-order mark', () => {
    expect(parseErrorBody('\uFEFF \n {"error_code":"111400017"}').errorCode).toBe('111400017');
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['whitespace', '  \r\n '],
    ['an HTML page', '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>'],
    ['plain text', 'Service Unavailable'],
    ['truncated JSON', '{"error_code":"111400063","error_msg":"xxxxx'],
    ['a JSON array', '[{"error_code":"111400063"}]'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
    ['a JSON string', '"error"'],
    ['an object without codes', '{"message":"nope"}'],
    ['an empty error_code', '{"error_code":"  "}'],
    ['a code of the wrong type', '{"error_code":{"x":1},"error":"oops"}'],
  ])('gives nothing for %s', (_what, body) => {
    const fields = parseErrorBody(body);
    expect(fields.errorCode).toBeUndefined();
    expect(fields.errorMsg).toBeUndefined();
  });

  it(`caps error_msg at ${MAX_ERROR_MSG_CHARS} characters`, () => {
    const fields = parseErrorBody(
      JSON.stringify({ error_code: '111500000', error_msg: 'x'.repeat(100_000) }),
    );
    expect(fields.errorCode).toBe('111500000');
    expect(fields.errorMsg).toHaveLength(MAX_ERROR_MSG_CHARS);
  });

  it('reads a huge (8 MB) well-formed body and caps what it keeps', () => {
    const body = JSON.stringify({ error_code: 'APIGW.0101', error_msg: 'y'.repeat(8 * 1024 * 1024) });
    const fields = parseErrorBody(body);
    expect(fields.errorCode).toBe('APIGW.0101');
    expect(fields.errorMsg?.length).toBe(MAX_ERROR_MSG_CHARS);
  });

  it('never throws, and keeps fields bounded, whatever the text', () => {
    const anyText = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1)),
      fc
        .record({ error_code: fc.jsonValue(), error_msg: fc.jsonValue(), error: fc.jsonValue() })
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(anyText, (text) => {
        const fields = parseErrorBody(text);
        expect((fields.errorMsg ?? '').length).toBeLessThanOrEqual(MAX_ERROR_MSG_CHARS);
        expect((fields.errorCode ?? '').length).toBeLessThanOrEqual(64);
        if (fields.errorCode !== undefined) expect(fields.errorCode).not.toBe('');
      }),
    );
  });
});
