/**
 * Private redis-server processes for the cluster scenario: one standalone server and a cluster of
 * three masters and three replicas, on free loopback ports, same settings (no persistence,
 * noeviction). Everything is killed and its directory removed by `stop()`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sleep } from './proc.js';

export function hasRedisServer() {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore', timeout: 10_000 });
  return r.error === undefined && r.status === 0;
}

const isFree = (port) =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A port free together with its cluster bus port (port + 10000). */
async function freePortPair(taken) {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (!taken.has(port) && (await isFree(port)) && (await isFree(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
}

async function waitUntil(check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const plain = (port) => {
  const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on('error', () => undefined);
  return redis;
};

async function answers(port) {
  const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } finally {
    redis.disconnect();
  }
}

/** Starts a standalone server and a 3+3 cluster. `plain(port)` connects to one server directly. */
export async function startPrivateRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'dcs-cleanup-bench-redis-'));
  const taken = new Set();
  const children = [];
  const pids = new Map();
  const server = async (port, extra) => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    args.push('--maxmemory-policy', 'noeviction', '--dbfilename', `dump-${port}.rdb`, ...extra);
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    children.push(child);
    pids.set(port, child.pid);
    await waitUntil(() => answers(port), `redis-server on ${port}`);
  };
  const stop = () => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const standalonePort = await freePortPair(taken);
    await server(standalonePort, []);
    const ports = [];
    for (let i = 0; i < 6; i++) ports.push(await freePortPair(taken));
    const clusterArgs = (p) => ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${p}.conf`];
    await Promise.all(ports.map((p) => server(p, clusterArgs(p))));
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes, '--cluster-replicas', '1', '--cluster-yes'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    if (created.status !== 0)
      throw new Error(`redis-cli --cluster create: ${created.stdout}${created.stderr}`);
    await waitUntil(async () => {
      for (const p of ports) {
        const redis = plain(p);
        try {
          if (!String(await redis.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
        } finally {
          redis.disconnect();
        }
      }
      return true;
    }, 'the cluster');
    return {
      standaloneUrl: `redis://127.0.0.1:${standalonePort}`,
      clusterNodes: nodes.join(','),
      plain,
      /** The process id of the server on `port` (for its CPU time). */
      pidOf: (port) => pids.get(port),
      /** The port of the master serving `key`'s slot. */
      async masterOf(key) {
        const redis = plain(ports[0]);
        try {
          const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
          const ranges = await redis.call('CLUSTER', 'SLOTS');
          return ranges.find(([from, to]) => slot >= from && slot <= to)[2][1];
        } finally {
          redis.disconnect();
        }
      },
      stop,
    };
  } catch (err) {
    stop();
    throw err;
  }
}
