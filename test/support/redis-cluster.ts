/**
 * A Redis Cluster of the test's own: three masters and three replicas on free loopback ports
 * (each also needs port + 10000 for the cluster bus), a short cluster-node-timeout so a killed
 * master is replaced within a few seconds. `stop()` kills every server and removes its directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './wait-for.js';
import { redisAnswers } from '../../src/demo/private-redis.js';

export interface ClusterNode {
  port: number;
  /** The server process while it runs. */
  child: ChildProcess | undefined;
}

export interface TestCluster {
  readonly nodes: ClusterNode[];
  /** `127.0.0.1:port,...` of every node but the master of `slot`: a seed list that must be followed. */
  seedsAvoiding(slot: number): Promise<string>;
  /** The port of the master that serves `slot` now (asked of any live node). */
  masterOf(slot: number): Promise<number>;
  /** SIGKILLs the server on `port`; resolves once it is gone. */
  kill(port: number): Promise<void>;
  /** Starts the server on `port` again (it rejoins as a replica once it sees the new master). */
  restart(port: number): Promise<void>;
  /** Resolves once every live node reports cluster_state:ok, every replica is in sync, and `slot` has a live master. */
  waitHealthy(slot: number, timeoutMs?: number): Promise<void>;
  /** A plain connection to one node, for the test's own inspection (the caller disconnects it). */
  admin(port: number): Redis;
  stop(): Promise<void>;
}

/** A loopback port free with its cluster-bus port (port + 10000) too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  const free = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.has(port)) continue;
    if ((await free(port)) && (await free(port + 10_000))) return port;
  }
}

/** True when the server on `port` answers PING. */
const answersPing = (port: number): Promise<boolean> => redisAnswers(`redis://127.0.0.1:${port}`, 500);

/** Asks `port` which master serves `slot`; undefined when it cannot tell. */
async function askMasterOf(port: number, slot: number): Promise<number | undefined> {
  const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    const ranges = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    return range?.[2][1];
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

export async function startRedisCluster(nodeTimeoutMs = 1_500): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'dcs-cleanup-test-cluster-'));
  const taken = new Set<number>();
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < 6; i++) {
    const port = await freeClusterPort(taken);
    taken.add(port);
    nodes.push({ port, child: undefined });
  }
  let stopped = false;
  const launch = async (node: ClusterNode): Promise<void> => {
    // A test that timed out may restart a node after stop(): that server would be left behind.
    if (stopped) throw new Error('the cluster is stopped');
    const args = [
      ...['--port', String(node.port), '--bind', '127.0.0.1', '--dir', dir],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${node.port}.conf`],
      ...['--cluster-node-timeout', String(nodeTimeoutMs), '--save', '', '--appendonly', 'no'],
      ...['--maxmemory-policy', 'noeviction', '--dbfilename', `dump-${node.port}.rdb`],
    ];
    node.child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(() => answersPing(node.port), `redis-server on ${node.port}`, 20_000, 50);
  };
  const live = (): ClusterNode[] => nodes.filter((n) => n.child !== undefined);
  const killAll = async (): Promise<void> => {
    for (const node of nodes) node.child?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map(launch));
  } catch (err) {
    await killAll();
    throw err;
  }
  const created = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ],
    { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '' } },
  );
  if (created.status !== 0) {
    await killAll();
    throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
  }

  const cluster: TestCluster = {
    nodes,
    async seedsAvoiding(slot) {
      const master = await cluster.masterOf(slot);
      return nodes
        .filter((n) => n.port !== master)
        .map((n) => `127.0.0.1:${n.port}`)
        .join(',');
    },
    async masterOf(slot) {
      for (const node of live()) {
        const port = await askMasterOf(node.port, slot);
        if (port !== undefined) return port;
      }
      throw new Error(`no live node knows the master of slot ${slot}`);
    },
    async kill(port) {
      const node = nodes.find((n) => n.port === port)!;
      const child = node.child;
      node.child = undefined;
      if (child === undefined || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    restart: (port) => launch(nodes.find((n) => n.port === port)!),
    async waitHealthy(slot, timeoutMs = 30_000) {
      await waitFor(
        async () => {
          for (const node of live()) {
            const admin = cluster.admin(node.port);
            try {
              const info = String(await admin.call('CLUSTER', 'INFO'));
              if (!info.includes('cluster_state:ok')) return false;
              // A replica that has not synced yet could not take over from its master.
              const replication = await admin.info('replication');
              if (replication.includes('role:slave') && !replication.includes('master_link_status:up'))
                return false;
            } finally {
              admin.disconnect();
            }
          }
          const master = await cluster.masterOf(slot);
          return live().some((n) => n.port === master) && (await answersPing(master));
        },
        `a healthy cluster serving slot ${slot}`,
        timeoutMs,
        100,
      );
    },
    admin(port) {
      const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => null });
      redis.on('error', () => undefined);
      return redis;
    },
    async stop() {
      stopped = true;
      await Promise.all(nodes.map((n) => cluster.kill(n.port)));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.waitHealthy(0, 30_000);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
