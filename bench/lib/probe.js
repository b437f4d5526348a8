/**
 * Preloaded (`node --expose-gc --import bench/lib/probe.js`) into a process whose memory is measured.
 * On SIGUSR2 it collects garbage and appends one sample to $BENCH_PROBE_FILE; at exit it appends the
 * peak RSS. Nothing runs between signals, so the process is measured as it normally runs.
 */
import { appendFileSync } from 'node:fs';

const file = process.env.BENCH_PROBE_FILE;

function write(kind) {
  const memory = process.memoryUsage();
  const sample = {
    kind,
    rssMb: memory.rss / 2 ** 20,
    heapTotalMb: memory.heapTotal / 2 ** 20,
    heapUsedMb: memory.heapUsed / 2 ** 20,
    externalMb: memory.external / 2 ** 20,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  appendFileSync(file, `${JSON.stringify(sample)}\n`);
}

if (file) {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    write('sample');
  });
  process.on('exit', () => write('exit'));
}
