import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { configSchema, loadConfig } from '../../src/config/config.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';

/**
 * No Docker engine runs here, so the compose file and the Dockerfile are checked against the code
 * instead: every command a container runs exists in the CLI with the flags given, and every
 * environment variable is one the configuration schema reads.
 */
const root = new URL('../../', import.meta.url);
const compose = parse(await readFile(new URL('docker-compose.yml', root), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const dockerfile = await readFile(new URL('Dockerfile', root), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test: string[] };
  profiles?: string[];
  ports?: string[];
  network_mode?: string;
  container_name?: string;
  volumes?: string[];
}

/** Variables a service may set that the configuration schema does not read: none so far. */
const COMPOSE_ONLY_VARIABLES = new Set<string>();

const ourServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

/** Finds `args` (a command line without `dcs-cleanup`) in the CLI and checks its flags. */
function expectCliCommand(args: string[], where: string): void {
  let command: Command = buildProgram();
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

describe('docker-compose.yml', () => {
  it('runs only commands and flags the CLI has, healthchecks included', () => {
    expect(ourServices.length).toBeGreaterThanOrEqual(5);
    for (const [name, service] of ourServices) {
      expect(service.command, name).toBeDefined();
      expectCliCommand(service.command!.map(String), `${name} command`);
      const test = service.healthcheck?.test;
      if (test !== undefined) {
        expect(test.slice(0, 2), name).toEqual(['CMD', 'dcs-cleanup']);
        expectCliCommand(test.slice(2), `${name} healthcheck`);
      }
    }
  });

  it('sets only variables of the configuration schema, with values it accepts', () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const [name, service] of ourServices) {
      for (const key of Object.keys(service.environment ?? {})) {
        expect(
          known.has(key) || COMPOSE_ONLY_VARIABLES.has(key),
          `${name}: ${key} is not a configuration variable`,
        ).toBe(true);
      }
      // `${VAR:-default}` is what compose fills in when VAR is unset.
      const env = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([k, v]) => [
          k,
          String(v).replace(/^\$\{[A-Z_]+:-(.*)\}$/, '$1'),
        ]),
      );
      expect(() => loadConfig(env), name).not.toThrow();
    }
  });

  it('keeps Redis from evicting or forgetting jobs, and checks its health', () => {
    const redis = compose.services.redis!;
    expect(redis.image).toMatch(/^redis:7/);
    expect(redis.command!.join(' ')).toContain('--appendonly yes');
    expect(redis.command!.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(redis.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(compose.volumes).toHaveProperty('redis-data');
  });

  it('lets workers scale: no fixed name, no host port', () => {
    for (const name of ['worker', 'emulator-worker']) {
      expect(compose.services[name]!.container_name).toBeUndefined();
      expect(compose.services[name]!.ports).toBeUndefined();
    }
  });

  it('runs the emulator profile on loopback with the emulator demo keys', () => {
    const emulator = compose.services.emulator!;
    expect(emulator.profiles).toEqual(['emulator']);
    const port = emulator.command![emulator.command!.indexOf('--port') + 1];
    for (const name of ['emulator-worker', 'emulator-api']) {
      const service = compose.services[name]!;
      expect(service.profiles).toEqual(['emulator']);
      expect(service.network_mode).toBe('service:emulator');
      expect(service.environment).toMatchObject({
        DCS_ENDPOINT: `http://127.0.0.1:${port}`,
        CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
        CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
      });
    }
    expect(compose.services.worker!.profiles).toEqual(['cloud']);
    expect(compose.services.api!.profiles).toEqual(['cloud']);
  });
});

describe('Dockerfile', () => {
  it('builds on Node 22, ships production dependencies only, runs unprivileged under an init', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/sbin\/tini", "--", "dcs-cleanup"\]$/m);
    const healthcheck = /^HEALTHCHECK .* CMD (\[.*\])$/m.exec(dockerfile);
    expect(healthcheck).not.toBeNull();
    const test = JSON.parse(healthcheck![1]!) as string[];
    expect(test[0]).toBe('dcs-cleanup');
    expectCliCommand(test.slice(1), 'HEALTHCHECK');
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expectCliCommand(cmd, 'CMD');
  });
});
