/**
 * A Docker engine and a Compose for the container test: the one that answers, else `dockerd` started
 * here (installed with apt-get where it is missing and this runs as root), and `docker compose` (v2)
 * or else `docker-compose` (v1, Debian 12's 1.29). When none can be had, `reason` says why and the
 * test is skipped, saying so.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const DOCKERD_LOG = '/tmp/dcs-cleanup-container-test-dockerd.log';

export interface DockerEngine {
  /** The Compose command line: `['docker', 'compose']` or `['docker-compose']`. */
  compose: string[];
  /** True when this process started dockerd (and `stop()` stops it). */
  started: boolean;
  stop(): Promise<void>;
}

/** Runs a command; rejects with its stderr on a non-zero exit or after `timeoutMs`. */
export async function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, {
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 64 * 1024 * 1024,
      env: options.env ?? process.env,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(e.stderr ?? '').slice(-4_000) || e.message}`);
  }
}

const succeeds = (command: string, args: string[], timeoutMs = 20_000) =>
  run(command, args, { timeoutMs }).then(
    () => true,
    () => false,
  );

const isRoot = () => process.getuid?.() === 0;

async function aptInstall(packages: string[]): Promise<boolean> {
  if (!isRoot() || !(await succeeds('apt-get', ['--version']))) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { timeoutMs: 300_000, env }).catch(() => undefined);
  return run('apt-get', ['install', '-y', '-qq', ...packages], { timeoutMs: 600_000, env }).then(
    () => true,
    () => false,
  );
}

async function startDockerd(): Promise<ChildProcess | string> {
  if (!(await succeeds('dockerd', ['--version'])) && !(await aptInstall(['docker.io']))) {
    return isRoot()
      ? 'dockerd is missing and could not be installed (apt-get install docker.io)'
      : 'no Docker engine answers, and starting one needs root';
  }
  const log = openSync(DOCKERD_LOG, 'a');
  const child = spawn('dockerd', [], { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  child.unref();
  for (let i = 0; i < 60; i++) {
    if (await succeeds('docker', ['info'], 5_000)) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  child.kill('SIGTERM');
  const tail = existsSync(DOCKERD_LOG) ? readFileSync(DOCKERD_LOG, 'utf8').slice(-1_000) : '';
  return `dockerd did not come up (${DOCKERD_LOG}): ${tail}`;
}

async function findCompose(): Promise<string[] | undefined> {
  if (await succeeds('docker', ['compose', 'version'])) return ['docker', 'compose'];
  if (await succeeds('docker-compose', ['version'])) return ['docker-compose'];
  if ((await aptInstall(['docker-compose'])) && (await succeeds('docker-compose', ['version'])))
    return ['docker-compose'];
  return undefined;
}

/** The engine to use, or why there is none. */
export async function prepareDockerEngine(): Promise<{ engine: DockerEngine } | { reason: string }> {
  let dockerd: ChildProcess | undefined;
  if (!(await succeeds('docker', ['info']))) {
    const started = await startDockerd();
    if (typeof started === 'string') return { reason: started };
    dockerd = started;
  }
  const stop = async (): Promise<void> => {
    if (dockerd === undefined || dockerd.exitCode !== null) return;
    const exited = new Promise((r) => dockerd.once('exit', r));
    dockerd.kill('SIGTERM');
    await exited;
  };
  const compose = await findCompose();
  if (compose === undefined) {
    await stop();
    return { reason: 'neither `docker compose` nor `docker-compose` is available' };
  }
  return { engine: { compose, started: dockerd !== undefined, stop } };
}
