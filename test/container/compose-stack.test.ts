/**
 * The image and the compose stack, built and run for real (issue 17), as README's "Deploying with
 * Docker Compose" tells a user: base images pulled when a registry answers, else made offline by
 * scripts/build-base-images.sh; `up -d --build` of the emulator profile; a purge through the API
 * published on 127.0.0.1:8080 with the demo token, until every selected task is deleted; the worker
 * container killed mid-run and started again; the emulator container restarted; `stop` with every
 * service exiting 0. Everything is torn down after; the images stay as a build cache.
 *
 * Not in `npm test`: it needs a Docker engine (root to start one), the host's port 8080, and
 * minutes of CPU. `npm run test:container` runs it, and `.ci/run` counts it with the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { prepareDockerEngine, run, type DockerEngine } from '../support/docker-engine.js';
import { waitFor } from '../support/wait-for.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROJECT = 'dcs-cleanup-container-test';
const API = 'http://127.0.0.1:8080';
const AUTH = { authorization: 'Bearer emulator-demo-token-not-a-secret' };
const PROJECT_ID = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const prepared = await prepareDockerEngine();
const engine: DockerEngine | undefined = 'engine' in prepared ? prepared.engine : undefined;
const skipReason = 'reason' in prepared ? prepared.reason : '';
if (engine === undefined) process.stderr.write(`[container] SKIPPED, no Docker engine: ${skipReason}\n`);

let env: NodeJS.ProcessEnv = {};
const log = (line: string) => process.stderr.write(`[container] ${line}\n`);

function compose(args: string[], timeoutMs = 120_000): Promise<string> {
  const [command, ...prefix] = engine!.compose;
  return run(command!, [...prefix, '-p', PROJECT, '--profile', 'emulator', ...args], { env, timeoutMs });
}

async function containerId(service: string): Promise<string> {
  const id = (await compose(['ps', '-q', service])).trim();
  expect(id, `${service} container`).not.toBe('');
  return id;
}

async function inspect(id: string, format: string): Promise<string> {
  return (await run('docker', ['inspect', '-f', format, id])).trim();
}

/** `GET /__emulator/stats` from inside the emulator's namespace (the emulator is not published). */
async function emulatorGet<T>(path: string): Promise<T> {
  const script = `fetch('http://127.0.0.1:18080${path}').then((r) => r.text()).then((t) => process.stdout.write(t))`;
  return JSON.parse(await run('docker', ['exec', await containerId('emulator'), 'node', '-e', script])) as T;
}

interface Stats {
  deletions: { count: number };
  tasksLeft: { byStatus: Record<string, number> };
  requests: { byRoute: Record<string, Record<string, number>> };
}

interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  dead_letters: number;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${API}${path}`, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function waitHealthy(services: string[], timeoutMs = 180_000): Promise<void> {
  await waitFor(
    async () => {
      const states = await Promise.all(
        services.map(async (s) => inspect(await containerId(s), '{{.State.Health.Status}}')),
      );
      return states.every((s) => s === 'healthy');
    },
    `${services.join(', ')} healthy`,
    timeoutMs,
    1_000,
  );
}

/** The official base images when a registry gives them, else the offline stand-ins. */
async function chooseBaseImages(): Promise<{ NODE_IMAGE: string; REDIS_IMAGE: string }> {
  const node = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(`${ROOT}Dockerfile`, 'utf8'))![1]!;
  const redis = /\$\{REDIS_IMAGE:-([^}]+)\}/.exec(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'))![1]!;
  const pulled = await Promise.all(
    [node, redis].map((image) =>
      run('docker', ['pull', '-q', image], { timeoutMs: 180_000 }).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (pulled.every(Boolean)) {
    log(`official base images ${node}, ${redis}`);
    return { NODE_IMAGE: node, REDIS_IMAGE: redis };
  }
  log('no registry gives the official base images: scripts/build-base-images.sh');
  const output = await run('bash', [`${ROOT}scripts/build-base-images.sh`], {
    timeoutMs: 900_000,
    env: { ...process.env, ...(existsSync(HOST_CA_BUNDLE) ? { EXTRA_CA_BUNDLE: HOST_CA_BUNDLE } : {}) },
  });
  const images = Object.fromEntries(
    output
      .split('\n')
      .map((line) => /^(NODE_IMAGE|REDIS_IMAGE)=(\S+)$/.exec(line))
      .filter((m) => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  ) as { NODE_IMAGE: string; REDIS_IMAGE: string };
  expect(images.NODE_IMAGE).toBeDefined();
  expect(images.REDIS_IMAGE).toBeDefined();
  return images;
}

const title = engine
  ? 'the compose stack, emulator profile'
  : `the compose stack, SKIPPED: no Docker engine (${skipReason})`;

describe.skipIf(engine === undefined)(title, () => {
  let ids: string[] = [];
  const startedAt = Date.now();
  const elapsed = () => `${Math.round((Date.now() - startedAt) / 1000)} s`;

  beforeAll(async () => {
    const images = await chooseBaseImages();
    // Docker's own variables (DOCKER_HOST, DOCKER_CONFIG...) pass; ours would change the stack.
    const docker = Object.entries(process.env).filter(([name]) => /^(DOCKER_|COMPOSE_)/.test(name));
    env = { PATH: process.env.PATH, HOME: process.env.HOME, ...Object.fromEntries(docker), ...images };
    log(`base images ready after ${elapsed()}`);
    // Leftovers of an interrupted run would hold port 8080.
    await compose(['down', '-v', '--remove-orphans']).catch(() => undefined);
  });

  afterAll(async () => {
    if (engine === undefined) return;
    await compose(['down', '-v', '--remove-orphans']).catch((err: unknown) => log(String(err)));
    await engine.stop();
    log(`torn down after ${elapsed()}`);
  });

  it('builds the image and brings the emulator profile up healthy', async () => {
    await compose(['up', '-d', '--build'], 900_000);
    await waitHealthy(['redis', 'emulator', 'emulator-worker', 'emulator-api']);
    ids = await Promise.all(
      ['emulator-network', 'redis', 'emulator', 'emulator-worker', 'emulator-api'].map(containerId),
    );
    log(`up and healthy after ${elapsed()}`);
  });

  it('purges through the published API until every selected task is deleted, a killed worker notwithstanding', async () => {
    const purge = await api<{ run_id: string }>('POST', '/v1/purges', {
      all_instances: true,
      dry_run: false,
    });
    expect(purge.status).toBe(202);
    // The worker lists and enqueues: the run's record says how many it selected.
    type Run = {
      state: string;
      counts: { selected: number; enqueued: number; deleted: number; already_gone: number; pending: number };
    };
    const readRun = async (): Promise<Run> => (await api<Run>('GET', `/v1/runs/${purge.body.run_id}`)).body;
    const listed = await waitFor(
      async () => {
        const r = await readRun();
        return r.state === 'listing' ? undefined : r;
      },
      'the run listed and enqueued',
      120_000,
      250,
    );
    const selected = listed.counts.selected;
    expect(selected).toBeGreaterThan(900);
    expect(listed.counts.enqueued).toBe(selected);

    await waitFor(
      async () => (await emulatorGet<Stats>('/__emulator/stats')).deletions.count >= 150,
      '150 deletions before the kill',
      120_000,
      250,
    );
    const worker = await containerId('emulator-worker');
    await run('docker', ['kill', worker]);
    expect(await inspect(worker, '{{.State.Status}}')).toBe('exited');
    const atKill = (await emulatorGet<Stats>('/__emulator/stats')).deletions.count;
    expect(atKill, 'the kill came mid-run').toBeLessThan(selected);
    await compose(['start', 'emulator-worker']);

    // Done when the emulator has lost every selected task and the queue holds nothing: the jobs the
    // killed worker held come back after their lock expires, and end already gone.
    const queueStatus = async (): Promise<QueueCounts> =>
      JSON.parse(
        await compose(['exec', '-T', 'emulator-api', 'dcs-cleanup', 'status', '--json']),
      ) as QueueCounts;
    const stats = await waitFor(
      async () => {
        const s = await emulatorGet<Stats>('/__emulator/stats');
        if (s.deletions.count < selected) return undefined;
        const q = await queueStatus();
        return q.waiting + q.active + q.delayed === 0 ? s : undefined;
      },
      'every selected task deleted and nothing left in the queue',
      300_000,
      1_000,
    );
    expect(stats.deletions.count).toBe(selected);
    expect(stats.tasksLeft.byStatus.SUCCESS! + stats.tasksLeft.byStatus.FAILED!).toBe(0);
    expect(await queueStatus()).toMatchObject({ failed: 0, dead_letters: 0 });
    const finished = await waitFor(
      async () => {
        const r = await readRun();
        return r.state === 'finished' ? r : undefined;
      },
      'the run finished',
      60_000,
      500,
    );
    // Jobs the killed worker held end already gone: deleted and gone together are the selection.
    expect(finished.counts.deleted + finished.counts.already_gone).toBe(selected);
    expect(finished.counts.pending).toBe(0);
    log(`${selected} tasks deleted, worker killed at ${atKill}, after ${elapsed()}`);
  });

  it('keeps deleting after the emulator container restarts', async () => {
    await compose(['restart', 'emulator']);
    await waitHealthy(['emulator', 'emulator-worker', 'emulator-api']);
    const { tasks } = await emulatorGet<{ tasks: { instance_id: string }[] }>('/__emulator/tasks');
    // A task id (32 hex digits, like DCS's) the restarted emulator does not have: DCS's "task gone"
    // answer ends it as already_gone.
    const task = {
      project_id: PROJECT_ID,
      instance_id: tasks[0]!.instance_id,
      task_id: Date.now().toString(16).padStart(32, 'f'),
    };
    const enqueued = await api<{ jobs: { job_id: string }[] }>('POST', '/v1/deletions', { tasks: [task] });
    expect(enqueued.status).toBe(202);
    const jobId = enqueued.body.jobs[0]!.job_id;
    const job = await waitFor(
      async () => {
        const r = await api<{ state: string; result?: { outcome: string } }>('GET', `/v1/deletions/${jobId}`);
        return r.body.state === 'completed' ? r.body : undefined;
      },
      'the deletion after the restart',
      120_000,
      500,
    );
    expect(job.result?.outcome).toBe('already_gone');
    const stats = await emulatorGet<Stats>('/__emulator/stats');
    expect(stats.requests.byRoute.delete?.['404']).toBe(1);
    log(`the worker reached the restarted emulator, after ${elapsed()}`);
  });

  it('stops every service with exit code 0', async () => {
    await compose(['stop'], 180_000);
    for (const id of ids) {
      const name = await inspect(id, '{{.Name}}');
      expect(`${name} ${await inspect(id, '{{.State.Status}} {{.State.ExitCode}}')}`).toBe(
        `${name} exited 0`,
      );
    }
    log(`stopped after ${elapsed()}`);
  });
});
