/**
 * Runs the emulator in its own process, so its CPU is never counted as the client's. Options come as
 * JSON in $BENCH_EMULATOR: { tasks: {instances, tasksPerInstance} | generated: SeedOptions,
 * latencyMs, jitterMs, extraAccounts: [{ ak, sk, projectId, instances, tasksPerInstance,
 * firstInstance }] }: each extra
 * account is a key that may act on its own project only, with its own inventory (the demo key then
 * acts on PROJECT_ID only). Prints {"url": ...} once listening; stops on SIGTERM.
 */
import { startEmulator } from '../../dist/emulator/emulator.js';
import { CREDENTIALS, PROJECT_ID, buildStateFile } from './inventory.js';

const options = JSON.parse(process.env.BENCH_EMULATOR ?? '{}');
const seed =
  options.generated !== undefined
    ? { ...options.generated, projectId: PROJECT_ID }
    : buildStateFile(options.tasks?.instances ?? 1, options.tasks?.tasksPerInstance ?? 0);
const extra = options.extraAccounts ?? [];
for (const a of extra)
  seed.projects.push(
    ...buildStateFile(a.instances, a.tasksPerInstance, a.projectId, a.firstInstance).projects,
  );
const credentials =
  extra.length === 0
    ? {}
    : {
        credentials: [
          { ...CREDENTIALS, projects: [PROJECT_ID] },
          ...extra.map((a) => ({ ak: a.ak, sk: a.sk, projects: [a.projectId] })),
        ],
      };
const latencyMs = options.latencyMs ?? 0;
const jitterMs = options.jitterMs ?? 0;
const emulator = await startEmulator({
  host: '127.0.0.1',
  port: 0,
  rateLimitPerSecond: 0,
  seed,
  ...credentials,
  ...(latencyMs > 0 || jitterMs > 0 ? { faults: { latencyMs, jitterMs } } : {}),
});
process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
process.on('SIGTERM', () => {
  void emulator.close().then(() => process.exit(0));
});
