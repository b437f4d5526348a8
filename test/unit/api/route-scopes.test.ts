import { describe, expect, it } from 'vitest';
import { API_CONTRACTS } from '../../../src/api/openapi-routes.js';
import { requiredScope, type RouteContract } from '../../../src/api/route-contract.js';

const route = (method: 'GET' | 'POST', auth = true): RouteContract => ({
  method,
  url: '/v1/x',
  operationId: 'x',
  summary: 'x',
  tag: 'x',
  auth,
  responses: { 200: { description: 'x' } },
});

describe('route scopes', () => {
  it('default to read for GET and admin for anything else, so a route that says nothing is closed', () => {
    expect(requiredScope(route('GET'))).toBe('read');
    expect(requiredScope(route('POST'))).toBe('admin');
    expect(requiredScope(route('GET', false))).toBeUndefined();
  });

  it('give every GET route read, and the POST routes the scopes of docs/api.md', () => {
    const scopes = Object.fromEntries(
      API_CONTRACTS.filter((c) => c.auth).map((c) => [`${c.method} ${c.url}`, requiredScope(c)]),
    );
    for (const [name, scope] of Object.entries(scopes))
      if (name.startsWith('GET ')) expect(scope, name).toBe('read');
    expect(scopes).toMatchObject({
      'POST /v1/deletions': 'enqueue',
      'POST /v1/events': 'enqueue',
      'POST /v1/purges': 'purge',
      'POST /v1/dead-letters/:id/replay': 'admin',
    });
  });
});
