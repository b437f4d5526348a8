import { errors } from 'undici';
import { describe, expect, it } from 'vitest';
import { classifyNetworkError } from '../../../src/dcs/network-error.js';

function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

describe('classifyNetworkError', () => {
  it.each([
    ['ConnectTimeoutError', new errors.ConnectTimeoutError(), 'timeout'],
    ['HeadersTimeoutError', new errors.HeadersTimeoutError(), 'timeout'],
    ['BodyTimeoutError', new errors.BodyTimeoutError(), 'timeout'],
    ['SocketError other side closed', new errors.SocketError('other side closed'), 'reset'],
    ['ECONNRESET', systemError('ECONNRESET'), 'reset'],
    ['EPIPE', systemError('EPIPE'), 'reset'],
    ['a bare "other side closed"', new Error('other side closed'), 'reset'],
    ['ECONNREFUSED', systemError('ECONNREFUSED'), 'refused'],
    ['ENOTFOUND', systemError('ENOTFOUND'), 'dns'],
    ['EAI_AGAIN', systemError('EAI_AGAIN'), 'dns'],
    ['RequestAbortedError', new errors.RequestAbortedError(), 'aborted'],
    ['a DOMException AbortError', new DOMException('This operation was aborted', 'AbortError'), 'aborted'],
    [
      'ECONNREFUSED as a cause',
      new TypeError('fetch failed', { cause: systemError('ECONNREFUSED') }),
      'refused',
    ],
    ['an AggregateError of refusals', new AggregateError([systemError('ECONNREFUSED')]), 'refused'],
    ['ClientDestroyedError', new errors.ClientDestroyedError(), 'other'],
    ['a plain Error', new Error('boom'), 'other'],
    ['a string', 'boom', 'other'],
    ['undefined', undefined, 'other'],
  ])('maps %s', (_what, err, kind) => {
    expect(classifyNetworkError(err)).toBe(kind);
  });

  it('says aborted whenever the caller aborted, whatever undici reported', () => {
    expect(classifyNetworkError(new errors.SocketError('other side closed'), true)).toBe('aborted');
  });

  it('survives a cause cycle', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    a.cause = a;
    expect(classifyNetworkError(a)).toBe('other');
  });
});
