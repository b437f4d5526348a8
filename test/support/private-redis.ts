/**
 * A redis-server of the test's own, on a free loopback port, for tests that kill Redis or every
 * connection to it: the shared Redis on 6379 is never touched by them. Needs `redis-server` on the
 * PATH (.ci/run installs it when missing); `hasRedisServer()` tells whether it is there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/demo/private-redis.js';
import { redisAnswers } from '../../src/demo/private-redis.js';

/** True when `redis-server` can be run from the PATH. */
export function hasRedisServer(): boolean {
  const result = spawnSync('redis-server', ['--version'], { stdio: 'ignore', timeout: 10_000 });
  return result.error === undefined && result.status === 0;
}

export interface PrivateRedisOptions {
  /** Append-only file with `appendfsync always`: every acknowledged write survives a SIGKILL. */
  appendOnly?: boolean;
  /** More redis-server arguments, after the defaults (so they win): `['--maxmemory-policy', 'allkeys-lru']`. */
  extraArgs?: string[];
}

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** The server's process id while it runs. */
  pid(): number | undefined;
  /** Sends `signal` (default SIGKILL) and resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory (the append-only file is replayed). */
  restart(): Promise<void>;
  /** Opens a plain connection for the test's own inspection (the caller disconnects it). */
  admin(): Redis;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** Resolves once PING answers PONG (a server replaying its AOF answers LOADING until done). */
async function waitUntilAnswering(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 0; tries < 1_000; tries++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    if (await redisAnswers(url, 500)) return;
    if (Date.now() > deadline)
      throw new Error(`redis-server did not answer on ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a private redis-server; `stop()` it in an afterAll. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'dcs-cleanup-test-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    ...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(options.extraArgs ?? []),
  ];
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const started = spawn('redis-server', args, { stdio: 'ignore' });
    child = started;
    const failed = new Promise<never>((_, reject) => started.once('error', reject));
    await Promise.race([waitUntilAnswering(url, started, 20_000), failed]);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill(signal);
    await exited;
  };

  await launch();
  return {
    url,
    port,
    pid: () => child?.pid,
    kill,
    restart: launch,
    admin: () => new Redis(url, { maxRetriesPerRequest: 1 }),
    async stop() {
      await kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
