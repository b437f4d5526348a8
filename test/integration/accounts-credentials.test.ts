/**
 * An account of CLEANUP_ACCOUNTS_FILE whose keys are assumed from another account's (`assume_role`,
 * `base: prod`): the worker process (dist/: `npm run build` first) asks the emulator's IAM with prod's
 * keys, again before the 2-second tokens expire, and drains the partner's queue with no 401.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';
import { loadConfig } from '../../src/config/config.js';
import { loadAccountsSettings } from '../../src/config/accounts-file.js';
import { createAccountRegistry } from '../../src/accounts/account-registry.js';
import { createProducer } from '../../src/queue/producer.js';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { startCli } from '../support/cli-process.js';
import { REDIS_URL } from '../support/redis-prefix.js';

let h: Harness | undefined;
let dir: string | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const TASKS = 120;

describe('accounts file: assume_role signed with another account', () => {
  it("refreshes the partner's assumed credentials mid-run with prod's keys; every job deleted, no 401", async () => {
    h = await createHarness('acc-assume', {
      seed: { instances: 1, tasksPerInstance: 0 },
      temporaryCredentials: { lifetimeMs: 2_000 },
    });
    dir = mkdtempSync(join(tmpdir(), 'accounts-assume-'));
    const file = join(dir, 'accounts.yaml');
    writeFileSync(
      file,
      [
        'default_account: prod',
        'accounts:',
        '  prod:',
        '    credentials: { source: env, ak_env: PROD_AK, sk_env: PROD_SK }',
        '  partner:',
        `    credentials: { source: assume_role, base: prod, domain_name: partner-corp, agency_name: cleanup, duration_seconds: 900, iam_endpoint: "${h.emulator.url}" }`,
        `    projects: ["${h.projectId}"]`,
      ].join('\n'),
    );
    const env = {
      REDIS_URL,
      CLEANUP_PREFIX: h.prefix,
      DCS_ENDPOINT: h.emulator.url,
      CLEANUP_ACCOUNTS_FILE: file,
      PROD_AK: DEMO_CREDENTIALS.ak,
      PROD_SK: DEMO_CREDENTIALS.sk,
      LOG_LEVEL: 'info',
    };
    const tasks = h.emulator.addTasks(
      h.instanceId,
      Array.from({ length: TASKS }, () => ({ status: 'SUCCESS' as const })),
    );
    const config = loadConfig(env);
    const registry = createAccountRegistry(config, { settings: loadAccountsSettings(config, env) });
    const producer = createProducer({ connection: h.connection, prefix: h.prefix, accounts: registry });
    await producer.enqueueMany(
      tasks.map((t) => ({ project_id: h!.projectId, instance_id: h!.instanceId, task_id: t.id })),
    );
    await producer.close();
    await registry.close();

    const worker = startCli(['worker', '--concurrency', '8', '--rate-limit', '25', '--exit-when-idle'], env);
    expect(await worker.exited, worker.stderr()).toBe(0);
    expect(h.emulator.remainingTasks({ instanceId: h.instanceId })).toHaveLength(0);
    const partner = new Queue('dcs-cleanup@partner', { connection: h.connection, prefix: h.prefix });
    try {
      expect(await partner.getJobCounts('completed', 'failed', 'wait')).toEqual({
        completed: TASKS,
        failed: 0,
        wait: 0,
      });
    } finally {
      await partner.close();
    }
    expect(await h.queue.getJobCounts('completed')).toEqual({ completed: 0 });
    // Tokens of 2 s over a run of about 5 s: asked again and again, signed with prod's keys.
    expect(h.emulator.credentialsIssued()).toBeGreaterThanOrEqual(2);
    expect(h.emulator.stats().authFailures).toBe(0);
    const records = worker
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; account?: string; msg: string });
    expect(records.filter((r) => r.level >= 50)).toEqual([]);
    expect(records.filter((r) => r.msg === 'task deleted').every((r) => r.account === 'partner')).toBe(true);
    expect(records.filter((r) => r.msg === 'task deleted')).toHaveLength(TASKS);
    expect(worker.stdout()).not.toContain(DEMO_CREDENTIALS.sk);
  }, 60_000);
});
