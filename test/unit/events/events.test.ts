import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../../src/events/webhook-worker.js';
import { resolveWebhookTargets, targetId } from '../../../src/events/webhook-targets.js';
import { EVENT_TYPES } from '../../../src/events/event-types.js';
import { findTraceparentProblem, traceFields } from '../../../src/observability/trace-context.js';
import { loadConfig } from '../../../src/config/config.js';
import { configError } from '../../support/config-error.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('webhook signature', () => {
  it('is sha256=<hex HMAC-SHA256 of the raw body>', () => {
    const body = '{"type":"run.finished"}';
    const expected = createHmac('sha256', 'k').update(body).digest('hex');
    expect(signWebhookBody(body, 'k')).toBe(`sha256=${expected}`);
    // RFC 4231 test case 2.
    expect(signWebhookBody('what do ya want for nothing?', 'Jefe')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});

describe('webhook targets', () => {
  it('one URL gets every event; a file names the events of each', () => {
    const [one] = resolveWebhookTargets({
      CLEANUP_WEBHOOK_URL: 'https://a.example/h',
      CLEANUP_WEBHOOKS_FILE: undefined,
    });
    expect(one?.events).toEqual(new Set(EVENT_TYPES));
    const path = join(mkdtempSync(join(tmpdir(), 'hooks-')), 'hooks.yaml');
    writeFileSync(
      path,
      'webhooks:\n  - url: https://b.example/h\n    events: [breaker.opened]\n  - url: http://c.example/\n    events: ["*"]\n',
    );
    const targets = resolveWebhookTargets({ CLEANUP_WEBHOOK_URL: undefined, CLEANUP_WEBHOOKS_FILE: path });
    expect([...targets[0]!.events]).toEqual(['breaker.opened']);
    expect(targets[1]!.events).toEqual(new Set(EVENT_TYPES));
    expect(targetId('https://b.example/h')).toMatch(/^[0-9a-f]{16}$/);
    writeFileSync(path, 'webhooks:\n  - url: ftp://x\n    events: [run.started]\n');
    const { message } = configError(() =>
      resolveWebhookTargets({ CLEANUP_WEBHOOK_URL: undefined, CLEANUP_WEBHOOKS_FILE: path }),
    );
    expect(message).toContain('webhooks[0].url');
    expect(message).toContain('webhooks[0].events[0]');
  });

  it('a webhook needs CLEANUP_WEBHOOK_SECRET, and only one of the URL and the file', () => {
    const { message } = configError(() =>
      loadConfig({ CLEANUP_WEBHOOK_URL: 'https://a.example/h', CLEANUP_WEBHOOKS_FILE: '/x.yaml' }),
    );
    expect(message).toContain('CLEANUP_WEBHOOK_SECRET: required');
    expect(message).toContain('CLEANUP_WEBHOOKS_FILE: set CLEANUP_WEBHOOK_URL or CLEANUP_WEBHOOKS_FILE');
    expect(configError(() => loadConfig({ CLEANUP_WEBHOOK_URL: 'mailto:x' })).message).toContain(
      'CLEANUP_WEBHOOK_URL: must be an absolute http',
    );
  });
});

describe('traceparent', () => {
  it('accepts the W3C example and names what is wrong otherwise', () => {
    const good = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(findTraceparentProblem(good)).toBeUndefined();
    expect(traceFields(good)).toEqual({ traceparent: good, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(findTraceparentProblem('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toContain('ff');
    expect(findTraceparentProblem('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01')).toBeDefined();
    expect(findTraceparentProblem('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01')).toContain(
      'parent-id',
    );
    expect(findTraceparentProblem(`${good}-extra`)).toContain('four fields');
    // A later version may add fields: its first four are kept.
    expect(
      findTraceparentProblem('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-zz'),
    ).toBeUndefined();
    expect(traceFields(undefined)).toEqual({});
  });
});
