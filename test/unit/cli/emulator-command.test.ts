import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerEmulatorCommand } from '../../../src/cli/emulator-command.js';
import {
  buildEmulatorOptions,
  DEFAULT_EMULATOR_PORT,
  splitFailRate,
  type EmulatorFlags,
} from '../../../src/cli/emulator-options.js';
import { DEMO_CREDENTIALS } from '../../../src/emulator/emulator.js';
import { loadEmulatorSecrets } from '../../../src/config/emulator-settings.js';

/** The flags commander hands to the action for `dcs-cleanup emulator ...args` (defaults included). */
async function parseFlags(...args: string[]): Promise<EmulatorFlags> {
  const program = new Command().exitOverride();
  registerEmulatorCommand(program);
  let flags: EmulatorFlags | undefined;
  program.commands[0]!.exitOverride().action((f: EmulatorFlags) => {
    flags = f;
  });
  await program.parseAsync(['emulator', ...args], { from: 'user' });
  return flags!;
}

describe('dcs-cleanup emulator flags', () => {
  it('defaults to loopback, port 18080, the demo key, 3 instances of 200 tasks, 200 calls/s and no faults', async () => {
    const options = buildEmulatorOptions(await parseFlags());
    expect(options).toMatchObject({
      host: '127.0.0.1',
      port: DEFAULT_EMULATOR_PORT,
      credentials: { ak: DEMO_CREDENTIALS.ak, sk: DEMO_CREDENTIALS.sk },
      rateLimit: { limit: 200, per: 'second' },
      deleteSuccessStatus: 200,
      seed: { projects: 1, instances: 3, tasksPerInstance: 200, seed: 1 },
      faults: { throttleRate: 0, resetRate: 0, hangRate: 0, latencyMs: 0, jitterMs: 0, routes: ['delete'] },
    });
  });

  it('maps the fault flags, splitting --fail-rate by --status-weights', async () => {
    const flags = await parseFlags(
      ...[
        '--fail-rate',
        '0.2',
        '--status-weights',
        '500:1,503:3',
        '--throttle-rate',
        '0.05',
        '--retry-after',
        '2',
      ],
      ...['--reset-rate', '0.01', '--hang-rate', '0.01', '--latency-ms', '5', '--jitter-ms', '10'],
      ...['--fault-routes', 'delete,listTasks', '--delete-status', '204', '--seed', '9'],
    );
    const options = buildEmulatorOptions(flags);
    expect(options.faults).toEqual({
      statusRates: { 500: expect.closeTo(0.05, 10), 503: expect.closeTo(0.15, 10) },
      throttleRate: 0.05,
      retryAfterSeconds: 2,
      resetRate: 0.01,
      hangRate: 0.01,
      latencyMs: 5,
      jitterMs: 10,
      routes: ['delete', 'listTasks'],
      seed: 9,
    });
    expect(options.deleteSuccessStatus).toBe(204);
  });

  it('refuses a host other machines can reach unless --allow-remote is given', () => {
    expect(() => buildEmulatorOptions({ ...defaults(), host: '0.0.0.0' })).toThrow(/--allow-remote/);
    expect(buildEmulatorOptions({ ...defaults(), host: '0.0.0.0', allowRemote: true }).host).toBe('0.0.0.0');
    expect(buildEmulatorOptions({ ...defaults(), host: '::1' }).host).toBe('::1');
    expect(buildEmulatorOptions({ ...defaults(), host: 'localhost' }).host).toBe('localhost');
  });

  it('takes --ak with its secret key and security token from the environment only', () => {
    expect(() => buildEmulatorOptions({ ...defaults(), ak: 'AK' })).toThrow(
      /--ak and EMULATOR_SK go together/,
    );
    expect(() => buildEmulatorOptions(defaults(), { sk: 'SK' })).toThrow(/--ak and EMULATOR_SK/);
    const options = buildEmulatorOptions({ ...defaults(), ak: 'AK' }, { sk: 'SK', securityToken: 'T' });
    expect(options.credentials).toEqual({ ak: 'AK', sk: 'SK', securityToken: 'T' });
    const demo = buildEmulatorOptions(defaults(), { securityToken: 'T' });
    expect(demo.credentials).toEqual({ ...DEMO_CREDENTIALS, securityToken: 'T' });
  });

  it('takes more accounts from EMULATOR_EXTRA_KEYS, each optionally limited to its projects', () => {
    const secrets = loadEmulatorSecrets({ EMULATOR_EXTRA_KEYS: 'AKB:sk-b:p1+p2, AKC:sk-c' });
    expect(secrets.extraKeys).toEqual([
      { ak: 'AKB', sk: 'sk-b', projects: ['p1', 'p2'] },
      { ak: 'AKC', sk: 'sk-c' },
    ]);
    expect(buildEmulatorOptions(defaults(), secrets).credentials).toEqual([
      { ...DEMO_CREDENTIALS, securityToken: undefined },
      { ak: 'AKB', sk: 'sk-b', projects: ['p1', 'p2'] },
      { ak: 'AKC', sk: 'sk-c' },
    ]);
    let message = '';
    try {
      loadEmulatorSecrets({ EMULATOR_EXTRA_KEYS: 'AKB:secret-b:bad/project' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^EMULATOR_EXTRA_KEYS: must be ak:sk or ak:sk:project\+project entries/);
    expect(message).not.toContain('secret-b');
  });

  it('refuses --sk and --security-token, pointing to the environment (a command line shows in ps)', async () => {
    const sk = await parseFlags('--ak', 'AK', '--sk', 'not-here');
    expect(() => buildEmulatorOptions(sk, { sk: 'SK' })).toThrow(
      /--sk is refused: a secret on the command line is visible in ps; set EMULATOR_SK instead/,
    );
    const token = await parseFlags('--security-token', 'not-here');
    expect(() => buildEmulatorOptions(token)).toThrow(/set EMULATOR_SECURITY_TOKEN instead/);
    expect(loadEmulatorSecrets({ EMULATOR_SK: ' s3 ', EMULATOR_SECURITY_TOKEN: '' })).toEqual({ sk: 's3' });
  });

  it('rejects probabilities outside 0..1, unknown statuses and unknown routes', async () => {
    await expect(parseFlags('--fail-rate', '1.5')).rejects.toThrow(/probability/);
    expect(() => splitFailRate(0.1, '418:1')).toThrow(/STATUS:WEIGHT/);
    expect(() => splitFailRate(0.1, '500:0')).toThrow(/add up to 0/);
    expect(() => buildEmulatorOptions({ ...defaults(), faultRoutes: 'purge' })).toThrow(/unknown purge/);
    expect(() => buildEmulatorOptions({ ...defaults(), resetRate: 0.6, hangRate: 0.6 })).toThrow(/above 1/);
  });
});

function defaults(): EmulatorFlags {
  return {
    host: '127.0.0.1',
    port: 0,
    projects: 1,
    instances: 1,
    tasksPerInstance: 1,
    seed: 1,
    rateLimit: 0,
    deleteStatus: '200',
    failRate: 0,
    statusWeights: '500:1',
    throttleRate: 0,
    resetRate: 0,
    hangRate: 0,
    latencyMs: 0,
    jitterMs: 0,
    faultRoutes: 'delete',
    logLevel: 'info',
  };
}
