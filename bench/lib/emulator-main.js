/**
 * Runs the emulator in its own process, so its CPU is never counted as the client's. Options come as
 * JSON in $BENCH_EMULATOR: { tasks: {instances, tasksPerInstance} | generated: SeedOptions,
 * latencyMs, jitterMs }. Prints {"url": ...} once listening; stops on SIGTERM.
 */
import { startEmulator } from '../../dist/emulator/emulator.js';
import { PROJECT_ID, buildStateFile } from './inventory.js';

const options = JSON.parse(process.env.BENCH_EMULATOR ?? '{}');
const seed =
  options.generated !== undefined
    ? { ...options.generated, projectId: PROJECT_ID }
    : buildStateFile(options.tasks?.instances ?? 1, options.tasks?.tasksPerInstance ?? 0);
const latencyMs = options.latencyMs ?? 0;
const jitterMs = options.jitterMs ?? 0;
const emulator = await startEmulator({
  host: '127.0.0.1',
  port: 0,
  rateLimitPerSecond: 0,
  seed,
  ...(latencyMs > 0 || jitterMs > 0 ? { faults: { latencyMs, jitterMs } } : {}),
});
process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
process.on('SIGTERM', () => {
  void emulator.close().then(() => process.exit(0));
});
