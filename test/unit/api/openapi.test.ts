import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { API_CONTRACTS, buildApiDocument, formatApiDocument } from '../../../src/api/openapi-routes.js';
import { MAX_TASKS_PER_REQUEST } from '../../../src/api/deletion-routes.js';
import { API_ERROR_STATUS } from '../../../src/api/api-error.js';

const doc = buildApiDocument() as any;

describe('the OpenAPI document', () => {
  it('is the checked-in docs/openapi.json (run `npm run openapi` after changing a route)', async () => {
    const checkedIn = await readFile(new URL('../../../docs/openapi.json', import.meta.url), 'utf8');
    expect(checkedIn).toBe(formatApiDocument());
  });

  it('describes every route once, with the token required exactly on /v1', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods as Record<string, any>).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations).toHaveLength(API_CONTRACTS.length);
    for (const { path, op } of operations) {
      expect(op.security).toEqual(path.startsWith('/v1/') ? [{ bearerAuth: [] }] : []);
      if (path.startsWith('/v1/')) expect(op.responses['401']).toBeDefined();
      expect(op.responses['503']).toBeDefined();
    }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/deletions',
        '/v1/deletions/{job_id}',
        '/v1/dead-letters',
        '/v1/dead-letters/{id}/replay',
        '/v1/purges',
        '/v1/runs',
        '/v1/runs/{run_id}',
        '/v1/runs/{run_id}/cancel',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    );
  });

  it('carries the same limits the server validates with', () => {
    const body = doc.paths['/v1/deletions'].post.requestBody.content['application/json'].schema;
    expect(body.properties.tasks.maxItems).toBe(MAX_TASKS_PER_REQUEST);
    expect(body.properties.tasks.items.required).toEqual(['project_id', 'instance_id', 'task_id']);
    expect(body.properties.tasks.items.properties.task_id.pattern).toBe('^[A-Za-z0-9-]{1,64}$');
    expect(body.additionalProperties).toBe(false);
    const purge = doc.paths['/v1/purges'].post.requestBody.content['application/json'].schema;
    expect(purge.properties.dry_run.default).toBe(true);
    expect(purge.properties.verify.default).toBe(false);
    const accepted = doc.paths['/v1/purges'].post.responses['202'].content['application/json'].schema;
    expect(accepted.required).toEqual(expect.arrayContaining(['run_id', 'state', 'run_url']));
    const batch = doc.paths['/v1/deletions'].post.responses['202'].content['application/json'].schema;
    expect(batch.required).toContain('run_id');
    const run = doc.paths['/v1/runs/{run_id}'].get.responses['200'].content['application/json'].schema;
    expect(run.properties.state.enum).toEqual([
      'listing',
      'enqueued',
      'running',
      'finished',
      'cancelled',
      'failed',
    ]);
    expect(Object.keys(run.properties.counts.properties)).toEqual(
      expect.arrayContaining([
        'selected',
        'deleted',
        'already_gone',
        'dead_lettered',
        'pending',
        'still_present',
      ]),
    );
    const list = doc.paths['/v1/dead-letters'].get.parameters;
    expect(list.find((p: any) => p.name === 'limit')).toMatchObject({ in: 'query', required: false });
    expect(doc.paths['/v1/deletions/{job_id}'].get.parameters[0]).toMatchObject({
      name: 'job_id',
      in: 'path',
      required: true,
    });
  });

  it('lists every error code in the shared error schema', () => {
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual(
      Object.keys(API_ERROR_STATUS),
    );
  });
});
