/**
 * A Redis Sentinel set of the test's own: one master, one replica and three sentinels on free
 * loopback ports, with down-after-milliseconds 1000 and a short failover-timeout, so a killed
 * master is replaced within a few seconds. `stop()` kills every process and removes the files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/demo/private-redis.js';
import { waitFor } from './wait-for.js';
import { redisAnswers } from '../../src/demo/private-redis.js';

export const SENTINEL_MASTER = 'dcs-test-master';

export interface TestSentinelSet {
  /** `127.0.0.1:port,...` of the three sentinels. */
  readonly sentinels: string;
  /** The port of the current master, as the sentinels report it. */
  masterPort(): Promise<number>;
  /** SIGKILLs the data server on `port`. */
  kill(port: number): Promise<void>;
  admin(port: number): Redis;
  stop(): Promise<void>;
}

/** True when the server on `port` answers PING. */
const answersPing = (port: number): Promise<boolean> => redisAnswers(`redis://127.0.0.1:${port}`, 500);

export async function startRedisSentinelSet(): Promise<TestSentinelSet> {
  const dir = await mkdtemp(join(tmpdir(), 'dcs-cleanup-test-sentinel-'));
  const children = new Map<number, ChildProcess>();
  const start = async (port: number, args: string[]): Promise<void> => {
    children.set(port, spawn('redis-server', args, { stdio: 'ignore' }));
    await waitFor(() => answersPing(port), `redis on ${port}`, 20_000, 50);
  };
  const data = (port: number): string[] => [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
    ...['--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dbfilename', `dump-${port}.rdb`],
  ];
  const masterPort = await freePort();
  const replicaPort = await freePort();
  await start(masterPort, data(masterPort));
  await start(replicaPort, [...data(replicaPort), '--replicaof', '127.0.0.1', String(masterPort)]);
  const sentinelPorts = [await freePort(), await freePort(), await freePort()];
  await Promise.all(
    sentinelPorts.map(async (port) => {
      const conf = join(dir, `sentinel-${port}.conf`);
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
          `sentinel failover-timeout ${SENTINEL_MASTER} 3000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
          '',
        ].join('\n'),
      );
      await start(port, [conf, '--sentinel']);
    }),
  );
  const set: TestSentinelSet = {
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    async masterPort() {
      const sentinel = new Redis(sentinelPorts[0]!, '127.0.0.1', { maxRetriesPerRequest: 1 });
      try {
        const reply = (await sentinel.call(
          'SENTINEL',
          'get-master-addr-by-name',
          SENTINEL_MASTER,
        )) as string[];
        return Number(reply[1]);
      } finally {
        sentinel.disconnect();
      }
    },
    async kill(port) {
      const child = children.get(port);
      children.delete(port);
      if (child === undefined || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    admin: (port) => new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 }),
    async stop() {
      await Promise.all([...children.keys()].map((port) => set.kill(port)));
      await rm(dir, { recursive: true, force: true });
    },
  };
  // The sentinels must know the replica and each other before a failover can happen.
  await waitFor(
    async () => {
      const sentinel = new Redis(sentinelPorts[0]!, '127.0.0.1', { maxRetriesPerRequest: 1 });
      try {
        const master = (await sentinel.call('SENTINEL', 'master', SENTINEL_MASTER)) as string[];
        const field = (name: string): number => Number(master[master.indexOf(name) + 1]);
        return field('num-slaves') >= 1 && field('num-other-sentinels') >= 2;
      } finally {
        sentinel.disconnect();
      }
    },
    'the sentinels to see the replica and each other',
    30_000,
    200,
  );
  return set;
}
