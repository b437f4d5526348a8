import { afterAll, describe, expect, it } from 'vitest';
import { fastify } from 'fastify';
import { ApiError, buildErrorHandler, notFoundHandler } from '../../../src/api/api-error.js';
import { CleanupError } from '../../../src/errors.js';
import { captureLogger } from '../../support/log-capture.js';

describe('the API error handler', () => {
  const logs = captureLogger('error');
  const app = fastify();
  app.setErrorHandler(buildErrorHandler(logs.logger));
  app.setNotFoundHandler(notFoundHandler);
  app.get('/internal', () => {
    throw new Error('ENOENT: open /srv/app/src/secret-place.ts');
  });
  app.get('/dcs', () => {
    throw new CleanupError(
      'DCS_AUTH_FAILED',
      'GET /v2/p/instances failed: HTTP 401 APIGW.0301, request_id r1',
    );
  });
  app.get('/credentials', () => {
    throw new CleanupError('CREDENTIALS_UNAVAILABLE', 'IAM answered HTTP 503: POST https://iam.example/v3.0');
  });
  app.get('/redis', () => {
    throw new CleanupError('REDIS_UNAVAILABLE', 'Redis did not answer');
  });
  app.get('/api', () => {
    throw new ApiError('INVALID_INPUT', 'bad', [{ field: 'tasks[0].task_id', message: 'required' }]);
  });
  afterAll(() => app.close());

  it('answers unexpected errors 500 INTERNAL with no message, stack or path, and logs them in full', async () => {
    const res = await app.inject({ url: '/internal' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(logs.text()).toContain('secret-place.ts');
    expect(logs.records.at(-1)).toMatchObject({
      msg: 'request failed',
      route: '/internal',
      code: 'INTERNAL',
    });
  });

  it('maps our own error codes onto statuses', async () => {
    expect((await app.inject({ url: '/dcs' })).json()).toEqual({
      error: { code: 'DCS_ERROR', message: 'GET /v2/p/instances failed: HTTP 401 APIGW.0301, request_id r1' },
    });
    expect((await app.inject({ url: '/dcs' })).statusCode).toBe(502);
    expect((await app.inject({ url: '/redis' })).statusCode).toBe(503);
    const credentials = await app.inject({ url: '/credentials' });
    expect(credentials.statusCode).toBe(502);
    expect(credentials.json().error.code).toBe('DCS_ERROR');
    const api = await app.inject({ url: '/api' });
    expect(api.statusCode).toBe(400);
    expect(api.json().error.fields).toEqual([{ field: 'tasks[0].task_id', message: 'required' }]);
  });

  it('answers unknown routes in the same shape', async () => {
    const res = await app.inject({ url: '/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /nothing' } });
  });
});
