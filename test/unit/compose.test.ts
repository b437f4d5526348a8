import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { Command } from 'commander';
import { buildProgramFor } from '../../src/cli/command-index.js';
import { configSchema, loadConfig } from '../../src/config/config.js';
import { SECRET_FILE_VARIABLES } from '../../src/config/secret-files.js';
import { parseAccountsFile } from '../../src/config/accounts-file.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';

/**
 * The compose files and the Dockerfile checked against the code: every command a container runs
 * exists in the CLI with the flags given, every environment variable is one the configuration reads,
 * and the shape that makes them work with both Compose v2 and docker-compose 1.29, on any base image,
 * hardened. `npm run test:container` (test/container) builds and runs them for real.
 */
const root = new URL('../../', import.meta.url);
const read = (name: string) => readFile(new URL(name, root), 'utf8');
const compose = parse(await read('docker-compose.yml'), { merge: true }) as ComposeFile;
const secretsOverride = parse(await read('docker-compose.secrets.yml'), { merge: true }) as ComposeFile;
const dockerfile = await read('Dockerfile');
const dockerignore = await read('.dockerignore');

interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file: string }>;
}

interface Service {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test: string[]; interval?: string };
  profiles?: string[];
  ports?: string[];
  network_mode?: string;
  container_name?: string;
  volumes?: string[];
  secrets?: string[];
  user?: string;
  init?: boolean;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  stop_grace_period?: string;
  mem_limit?: string;
}

const ourServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
const knownVariables = new Set([
  ...Object.keys(configSchema.shape),
  ...SECRET_FILE_VARIABLES.map((name) => `${name}_FILE`),
]);

/** Every command, as `dcs-cleanup --help` loads them. */
const program = await buildProgramFor(['node', 'dcs-cleanup']);

/** What compose fills in for `${VAR:-default}` when VAR is unset. */
const composeDefault = (value: string | number) => String(value).replace(/^\$\{[A-Z_]+:-(.*)\}$/, '$1');

/** Finds `args` (a command line without `dcs-cleanup`) in the CLI and checks its flags. */
function expectCliCommand(args: string[], where: string): void {
  let command: Command = program;
  const rest = [...args];
  while (rest.length > 0 && !rest[0]!.startsWith('-')) {
    const sub = command.commands.find((c) => c.name() === rest[0]);
    if (!sub) break;
    command = sub;
    rest.shift();
  }
  expect(command.name(), `${where}: ${args.join(' ')}`).not.toBe('dcs-cleanup');
  const flags = new Set(command.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
  for (const arg of rest.filter((a) => a.startsWith('--'))) {
    expect(flags.has(arg), `${where}: \`${command.name()}\` has no ${arg}`).toBe(true);
  }
}

/** `256mb`, `512m`, `1g` in bytes. */
function bytes(size: string): number {
  const match = /^(\d+)\s*([kmg]?)b?$/i.exec(size.trim());
  expect(match, size).not.toBeNull();
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[
    match![2]!.toLowerCase() as '' | 'k' | 'm' | 'g'
  ];
  return Number(match![1]) * unit;
}

const seconds = (duration: string) => Number(/^(\d+)s$/.exec(duration)?.[1] ?? NaN);

describe('docker-compose.yml', () => {
  it('has no top-level name (docker-compose 1.29 refuses the file with one)', () => {
    expect(compose.name).toBeUndefined();
  });

  it('runs only commands and flags the CLI has, and a health check of its own in every service', () => {
    expect(ourServices.length).toBeGreaterThanOrEqual(5);
    for (const [name, service] of ourServices) {
      expectCliCommand(service.command!.map(String), `${name} command`);
      // The image's default check probes a worker: every other command needs its own.
      const test = service.healthcheck?.test;
      expect(test, `${name} has no healthcheck`).toBeDefined();
      expect(test!.slice(0, 2), name).toEqual(['CMD', 'dcs-cleanup']);
      expectCliCommand(test!.slice(2), `${name} healthcheck`);
      const probesWorker = test!.includes('--worker');
      expect(probesWorker, `${name}: a worker is probed with --worker, nothing else is`).toBe(
        service.command![0] === 'worker',
      );
    }
  });

  it('sets only variables of the configuration schema, with values it accepts', () => {
    for (const file of [compose, secretsOverride]) {
      for (const [name, service] of Object.entries(file.services)) {
        for (const key of Object.keys(service.environment ?? {})) {
          expect(knownVariables.has(key), `${name}: ${key} is not a configuration variable`).toBe(true);
        }
      }
    }
    for (const [name, service] of ourServices) {
      const env = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([k, v]) => [k, composeDefault(v)]),
      );
      expect(() => loadConfig(env), name).not.toThrow();
    }
  });

  it('builds and runs on images that can be overridden, defaulting to exact official versions', () => {
    const nodeDefault = /^ARG NODE_IMAGE=(.*)$/m.exec(dockerfile)![1]!;
    for (const [name, service] of ourServices) {
      expect(service.build?.args?.NODE_IMAGE, name).toBe(`\${NODE_IMAGE:-${nodeDefault}}`);
    }
    expect(compose.services['emulator-network']!.image).toBe(`\${NODE_IMAGE:-${nodeDefault}}`);
    expect(compose.services.redis!.image).toMatch(/^\$\{REDIS_IMAGE:-redis:7\.\d+\.\d+-[a-z]+\}$/);
  });

  it('keeps Redis from evicting or forgetting jobs, full before its container memory limit', () => {
    const redis = compose.services.redis!;
    const command = redis.command!.map(composeDefault).join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
    const maxmemory = /--maxmemory (\S+)/.exec(command)![1]!;
    expect(bytes(composeDefault(redis.mem_limit!))).toBeGreaterThan(bytes(maxmemory) * 1.5);
    expect(redis.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(compose.volumes).toHaveProperty('redis-data');
    // The official image's redis user (uid 999), which scripts/build-base-images.sh reproduces.
    expect(redis.user).toBe('999:999');
  });

  it('hardens every container: read-only root, no capability, no privilege gain', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.read_only, name).toBe(true);
      expect(service.cap_drop, name).toEqual(['ALL']);
      expect(service.security_opt, name).toContain('no-new-privileges:true');
    }
    for (const [name, service] of ourServices) expect(service.init, `${name}: Docker's init`).toBe(true);
  });

  it('gives a stopping worker longer than its drain (10 s) and its forced exit (30 s)', () => {
    for (const [name, service] of ourServices) {
      expect(seconds(service.stop_grace_period!), name).toBeGreaterThan(10 + 30);
    }
  });

  it('lets workers scale: no fixed name, no host port', () => {
    for (const name of ['worker', 'emulator-worker']) {
      expect(compose.services[name]!.container_name).toBeUndefined();
      expect(compose.services[name]!.ports).toBeUndefined();
    }
  });

  it('runs the emulator profile in one network namespace that none of its services owns', () => {
    const holder = compose.services['emulator-network']!;
    expect(holder.profiles).toEqual(['emulator']);
    // README's curl lines: the API on 127.0.0.1:8080.
    expect(holder.ports).toEqual(['127.0.0.1:8080:8080']);
    const emulator = compose.services.emulator!;
    const port = emulator.command![emulator.command!.indexOf('--port') + 1];
    for (const name of ['emulator', 'emulator-worker', 'emulator-api']) {
      const service = compose.services[name]!;
      expect(service.profiles, name).toEqual(['emulator']);
      expect(service.network_mode, name).toBe('service:emulator-network');
    }
    for (const name of ['emulator-worker', 'emulator-api']) {
      expect(compose.services[name]!.environment).toMatchObject({
        DCS_ENDPOINT: `http://127.0.0.1:${port}`,
        CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
        CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
      });
    }
    expect(compose.services.worker!.profiles).toEqual(['cloud']);
    expect(compose.services.api!.profiles).toEqual(['cloud']);
  });

  it('mounts secrets as files in docker-compose.secrets.yml, each with its _FILE variable', () => {
    for (const [name, service] of Object.entries(secretsOverride.services)) {
      expect(compose.services[name], name).toBeDefined();
      for (const secret of service.secrets ?? []) {
        expect(secretsOverride.secrets).toHaveProperty(secret);
        const variable = `${secret.toUpperCase()}_FILE`;
        expect(service.environment?.[variable], `${name}: ${variable}`).toBe(`/run/secrets/${secret}`);
      }
    }
  });

  it('passes the accounts file as a read-only mounted folder, never as environment values', async () => {
    for (const name of ['worker', 'api']) {
      const service = compose.services[name]!;
      expect(service.volumes, name).toContain('${ACCOUNTS_DIR:-./accounts}:/etc/dcs-cleanup/accounts:ro');
      // Unset by default (one account from the variables); set, a path inside that folder.
      expect(service.environment?.CLEANUP_ACCOUNTS_FILE, name).toBe('${CLEANUP_ACCOUNTS_FILE:-}');
    }
    // The example the folder ships is a valid accounts file, with no secret and no variable in it.
    const example = await read('accounts/accounts.example.yaml');
    const config = loadConfig({});
    const settings = parseAccountsFile(example, 'accounts.example.yaml', config, {});
    expect(settings.accounts.map((a) => a.credentials().source)).toEqual(['file', 'assume_role']);
    expect(dockerignore.split('\n')).toContain('accounts');
  });
});

describe('Dockerfile', () => {
  it('builds on one exact Node 22 release, with plain syntax and no distribution package manager', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22\.\d+\.\d+-bookworm-slim$/m);
    expect(dockerfile).not.toMatch(/^# *syntax=/m);
    expect(dockerfile).not.toMatch(/\b(apk|apt-get|apt|yum|dnf)\b +(add|install)/);
    expect(dockerfile).not.toMatch(/--(mount|chmod|link)\b/);
  });

  it('ships production dependencies only, without install scripts, and runs unprivileged', () => {
    const installs = dockerfile.match(/npm ci[^\n]*/g) ?? [];
    expect(installs.length).toBe(2);
    for (const install of installs) expect(install).toContain('--ignore-scripts');
    expect(installs.some((i) => i.includes('--omit=dev'))).toBe(true);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["dcs-cleanup"\]$/m);
  });

  it('checks the health of its default command, a worker serving /healthz', () => {
    const healthcheck = /^HEALTHCHECK .* CMD (\[.*\])$/m.exec(dockerfile);
    expect(healthcheck).not.toBeNull();
    const test = JSON.parse(healthcheck![1]!) as string[];
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expectCliCommand(cmd, 'CMD');
    expect(cmd[0]).toBe('worker');
    expect(test).toEqual(['dcs-cleanup', 'healthcheck', '--worker']);
    // ...which needs the metrics server on, reachable by the probe.
    const env = Object.fromEntries([...dockerfile.matchAll(/\b([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    expect(env).toMatchObject({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' });
    expect(() =>
      loadConfig({ METRICS_PORT: env.METRICS_PORT, METRICS_HOST: env.METRICS_HOST }),
    ).not.toThrow();
  });
});
