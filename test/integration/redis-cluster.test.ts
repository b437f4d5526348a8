/**
 * Redis Cluster (issue 13): a private cluster of three masters and three replicas
 * (cluster-node-timeout 1.5 s) started by the test. The whole pipeline runs as real processes with
 * the seed list pointing at nodes that do not own the queue's slot; then again with the slot's
 * master SIGKILLed mid-run, and again with a manual CLUSTER FAILOVER. Figures go to the console
 * for docs/reliability.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedisServer } from '../support/private-redis.js';
import { startRedisCluster, type TestCluster } from '../support/redis-cluster.js';
import { runHaPipeline, type HaRunFigures } from '../support/ha-pipeline.js';
import { runCli } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';

const available = hasRedisServer();
if (!available) console.warn('redis-cluster.test.ts skipped: no redis-server on the PATH (CI installs it)');

describe.skipIf(!available)('Redis Cluster', () => {
  let cluster: TestCluster;
  let dir: string;

  beforeAll(async () => {
    cluster = await startRedisCluster(1_500);
    dir = await mkdtemp(join(tmpdir(), 'dcs-cleanup-cluster-run-'));
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh hash-tag prefix, its slot, and an environment whose seeds avoid the slot's master. */
  async function isolate(): Promise<{ env: Record<string, string>; slot: number; prefix: string }> {
    const prefix = `{dcs-it-${randomBytes(4).toString('hex')}}`;
    const admin = cluster.admin(cluster.nodes.find((n) => n.child !== undefined)!.port);
    const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', prefix));
    admin.disconnect();
    await cluster.waitHealthy(slot);
    const seeds = await cluster.seedsAvoiding(slot);
    return { env: { REDIS_CLUSTER_NODES: seeds, CLEANUP_PREFIX: prefix }, slot, prefix };
  }

  function report(label: string, figures: HaRunFigures): void {
    console.log(`[cluster ${label}] ${JSON.stringify(figures)}`);
  }

  it('refuses a prefix without a hash tag, saying why', async () => {
    const { env } = await isolate();
    const run = await runCli(['status'], { ...env, CLEANUP_PREFIX: 'dcs-cleanup' });
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(/CLEANUP_PREFIX: must carry a hash tag .* one slot/);
  });

  it('runs the whole pipeline through seeds that do not own the slot', async () => {
    const { env, slot } = await isolate();
    const owner = await cluster.masterOf(slot);
    expect(env.REDIS_CLUSTER_NODES).not.toContain(`:${owner}`);
    const figures = await runHaPipeline({ redisEnv: env, dir, withDeadLetter: true });
    report('no failure', figures);
    // The jobs really are in the cluster, in the slot of the tag (finished jobs stay an hour).
    const admin = cluster.admin(owner);
    try {
      expect(Number(await admin.call('CLUSTER', 'COUNTKEYSINSLOT', slot))).toBeGreaterThan(600);
    } finally {
      admin.disconnect();
    }
    expect(figures.lost).toBe(0);
    expect(figures.deadLetters).toBe(0);
  });

  it('loses no acknowledged job but what replication can lose when the slot master is SIGKILLed', async () => {
    const { env, slot } = await isolate();
    const master = await cluster.masterOf(slot);
    let figures: HaRunFigures;
    try {
      figures = await runHaPipeline({
        redisEnv: env,
        dir,
        disrupt: async () => {
          await cluster.kill(master);
          await waitFor(
            async () => (await cluster.masterOf(slot)) !== master,
            'a promoted replica',
            30_000,
            50,
          );
        },
        disruptAfter: 200,
      });
    } finally {
      // Bring the old master back as a replica so the next test has a full cluster again.
      await cluster.restart(master);
    }
    report('master SIGKILLed', figures);
    expect(await cluster.masterOf(slot)).not.toBe(master);
    expect(figures.deadLetters).toBe(0);
    await cluster.waitHealthy(slot);
    await waitFor(
      async () => {
        const admin = cluster.admin(master);
        try {
          return String(await admin.call('ROLE')).startsWith('slave');
        } finally {
          admin.disconnect();
        }
      },
      'the old master to rejoin as a replica',
      30_000,
      200,
    );
  });

  it('carries on through a manual CLUSTER FAILOVER', async () => {
    const { env, slot } = await isolate();
    const master = await cluster.masterOf(slot);
    const figures = await runHaPipeline({
      redisEnv: env,
      dir,
      disrupt: async () => {
        const replica = await findReplicaOf(master);
        const admin = cluster.admin(replica);
        try {
          await admin.call('CLUSTER', 'FAILOVER');
        } finally {
          admin.disconnect();
        }
        await waitFor(
          async () => (await cluster.masterOf(slot)) === replica,
          'the replica promoted',
          30_000,
          100,
        );
      },
      disruptAfter: 200,
    });
    report('CLUSTER FAILOVER', figures);
    expect(figures.lost).toBe(0);
    expect(figures.deadLetters).toBe(0);
  });

  async function findReplicaOf(master: number): Promise<number> {
    for (const node of cluster.nodes) {
      if (node.child === undefined || node.port === master) continue;
      const admin = cluster.admin(node.port);
      try {
        const role = (await admin.call('ROLE')) as unknown[];
        if (role[0] === 'slave' && Number(role[2]) === master) return node.port;
      } finally {
        admin.disconnect();
      }
    }
    throw new Error(`no replica of ${master}`);
  }
});
