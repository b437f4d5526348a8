import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { startCli, type CliProcess } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { DEMO_CREDENTIALS, startEmulator } from '../../src/emulator/emulator.js';

let h: Harness | undefined;
let dir: string | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const TASKS = 150;
/** 150 deletions at 25/s: a run of about 6 s, so 2-second tokens expire several times mid-run. */
const WORKER_ARGS = ['worker', '--concurrency', '8', '--rate-limit', '25', '--exit-when-idle'];

async function seedAndEnqueue(harness: Harness): Promise<void> {
  const tasks = harness.emulator.addTasks(
    harness.instanceId,
    Array.from({ length: TASKS }, () => ({ status: 'SUCCESS' as const })),
  );
  await harness.producer.enqueueMany(
    tasks.map((t) => ({ project_id: harness.projectId, instance_id: harness.instanceId, task_id: t.id })),
  );
}

function baseEnv(harness: Harness): Record<string, string> {
  return {
    REDIS_URL,
    CLEANUP_PREFIX: harness.prefix,
    DCS_ENDPOINT: harness.emulator.url,
    LOG_LEVEL: 'info',
  };
}

/** Every job deleted, none dead-lettered or failed, no breaker record: the run a user wants. */
async function expectCleanRun(harness: Harness, worker: CliProcess): Promise<void> {
  expect(await worker.exited, worker.stderr()).toBe(0);
  expect(harness.emulator.remainingTasks({ instanceId: harness.instanceId })).toHaveLength(0);
  const counts = await harness.queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'completed');
  expect(counts).toMatchObject({ wait: 0, active: 0, delayed: 0, failed: 0, completed: TASKS });
  const records = worker
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string });
  expect(records.filter((r) => r.level >= 50)).toEqual([]);
  expect(records.some((r) => r.reason !== undefined && r.msg.includes('dead'))).toBe(false);
  expect(await harness.queue.isPaused()).toBe(false);
}

describe('temporary credentials expiring mid-run', () => {
  it('metadata source: refreshes the ECS agency credentials before they expire, deletes every job', async () => {
    h = await createHarness('tmp-metadata', {
      seed: { instances: 1, tasksPerInstance: 0 },
      temporaryCredentials: { lifetimeMs: 2_000 },
    });
    await seedAndEnqueue(h);
    const worker = startCli(WORKER_ARGS, {
      ...baseEnv(h),
      CLOUD_SDK_CREDENTIALS_SOURCE: 'metadata',
      HUAWEICLOUD_METADATA_URL: h.emulator.url,
    });
    await expectCleanRun(h, worker);
    // Tokens of 2 s over a run of about 6 s: fetched again and again, shared by the 8 slots.
    expect(h.emulator.credentialsIssued()).toBeGreaterThanOrEqual(3);
    expect(h.emulator.credentialsIssued()).toBeLessThan(TASKS / 4);
  }, 60_000);

  it('assume_role source: asks IAM (signed with the base keys) again before expiry, deletes every job', async () => {
    h = await createHarness('tmp-assume', {
      seed: { instances: 1, tasksPerInstance: 0 },
      temporaryCredentials: { lifetimeMs: 2_000 },
    });
    await seedAndEnqueue(h);
    const worker = startCli(WORKER_ARGS, {
      ...baseEnv(h),
      CLOUD_SDK_CREDENTIALS_SOURCE: 'assume_role',
      CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
      CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
      HUAWEICLOUD_IAM_ENDPOINT: h.emulator.url,
      CLOUD_SDK_ASSUME_ROLE_DOMAIN_NAME: 'platform-team',
      CLOUD_SDK_ASSUME_ROLE_AGENCY_NAME: 'dcs-cleanup-agency',
      CLOUD_SDK_ASSUME_ROLE_DURATION_SECONDS: '900',
    });
    await expectCleanRun(h, worker);
    expect(h.emulator.credentialsIssued()).toBeGreaterThanOrEqual(3);
    expect(h.emulator.stats().authFailures).toBe(0);
  }, 60_000);

  it('file source: picks up a rotated key (the old one revoked) without a restart or a breaker', async () => {
    h = await createHarness('tmp-file', { seed: { instances: 1, tasksPerInstance: 0 } });
    dir = mkdtempSync(join(tmpdir(), 'dcs-cleanup-creds-'));
    const file = join(dir, 'credentials');
    const writeProfile = (ak: string, sk: string): void => {
      writeFileSync(
        `${file}.tmp`,
        `# rotated by the test\n[other]\nak = NOTTHISONE\nsk = nope\n\n[cleanup]\nak = ${ak}\nsk = ${sk}\n`,
      );
      renameSync(`${file}.tmp`, file);
    };
    writeProfile(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk);
    await seedAndEnqueue(h);
    const worker = startCli(WORKER_ARGS, {
      ...baseEnv(h),
      CLOUD_SDK_CREDENTIALS_SOURCE: 'file',
      CLOUD_SDK_CREDENTIALS_FILE: file,
      CLOUD_SDK_PROFILE: 'cleanup',
      // Far longer than the run: the new key can only be found by the re-read after the first 401.
      CLOUD_SDK_FILE_RECHECK_MS: '3600000',
    });
    await waitFor(
      () => h!.emulator.stats().deletions.count >= 30,
      'some deletions with the first key',
      30_000,
      50,
    );
    const rotated = { ak: 'ROTATEDKEY0000000002', sk: 'the-rotated-secret-key-of-the-test' };
    h.emulator.addKey(rotated);
    writeProfile(rotated.ak, rotated.sk);
    expect(h.emulator.revokeKey(DEMO_CREDENTIALS.ak)).toBe(true);
    await expectCleanRun(h, worker);
    // The old key was refused at least once (that is how the worker learnt), and nothing was lost.
    expect(h.emulator.stats().authFailures).toBeGreaterThan(0);
  }, 60_000);
});

describe('credentials that cannot be fetched', () => {
  it('delays the jobs without spending attempts while the metadata service is down, then deletes them all', async () => {
    h = await createHarness('tmp-down', { seed: { instances: 1, tasksPerInstance: 0 } });
    const ids = Array.from({ length: 5 }, (_, i) => `${'c'.repeat(31)}${i}`);
    await h.producer.enqueueMany(
      ids.map((id) => ({ project_id: h!.projectId, instance_id: h!.instanceId, task_id: id })),
    );
    // Nothing listens there yet: the metadata service and DCS both start later on that port.
    const later = await startEmulator({ rateLimitPerSecond: 0, port: 0 });
    const port = later.port;
    await later.close();
    const url = `http://127.0.0.1:${port}`;
    const worker = startCli(['worker', '--concurrency', '4', '--rate-limit', '0', '--exit-when-idle'], {
      ...baseEnv(h),
      DCS_ENDPOINT: url,
      CLOUD_SDK_CREDENTIALS_SOURCE: 'metadata',
      HUAWEICLOUD_METADATA_URL: url,
      RETRY_BUSY_FLOOR_MS: '300',
      RETRY_BUSY_JITTER_MS: '300',
    });
    await waitFor(
      () => worker.stdout().includes('credentials_unavailable'),
      'a job delayed without credentials',
      30_000,
      50,
    );
    expect(await h.queue.getJobCounts('failed')).toMatchObject({ failed: 0 });
    const emulator = await startEmulator({ rateLimitPerSecond: 0, port });
    try {
      emulator.addInstance(h.projectId, { instance_id: h.instanceId });
      emulator.addTasks(
        h.instanceId,
        ids.map((id) => ({ id, status: 'SUCCESS' as const })),
      );
      expect(await worker.exited, worker.stderr()).toBe(0);
      expect(emulator.remainingTasks()).toHaveLength(0);
      const counts = await h.queue.getJobCounts('failed', 'completed');
      expect(counts).toMatchObject({ failed: 0, completed: ids.length });
      const jobs = await h.queue.getJobs(['completed']);
      // attemptsMade counts the completing run only: the delays without credentials spent none.
      expect(jobs.map((j) => j.attemptsMade)).toEqual(ids.map(() => 1));
      expect(worker.stdout()).not.toContain('"level":60');
    } finally {
      await emulator.close();
    }
  }, 60_000);
});
