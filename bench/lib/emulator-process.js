import { fileURLToPath } from 'node:url';
import { readLines, startNode, stopProcess } from './proc.js';

const MAIN = fileURLToPath(new URL('./emulator-main.js', import.meta.url));

/**
 * Starts the emulator in a child process (see emulator-main.js) and returns its URL and controls:
 * `reset()` restores the initial inventory between rounds, `stats()` reads its counters.
 */
export async function startEmulatorProcess(options) {
  const proc = startNode(MAIN, [], {
    env: { BENCH_EMULATOR: JSON.stringify(options) },
    stdout: 'pipe',
    nodeArgs: ['--max-old-space-size=4096'],
  });
  const line = await readLines(proc).next(120_000, 'emulator');
  const { url } = JSON.parse(line);
  const call = async (method, path) => {
    const res = await fetch(`${url}/__emulator/${path}`, { method });
    if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status}`);
    return res.json();
  };
  return {
    url,
    pid: proc.pid,
    reset: () => call('POST', 'reset?state=true'),
    stats: () => call('GET', 'stats'),
    /** The gateway throttling per AK and API, sliding (0: off); the workers are not told. */
    setRateLimit: async (limit, per = 'second') => {
      const res = await fetch(`${url}/__emulator/rate-limit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ limit, per }),
      });
      if (!res.ok) throw new Error(`emulator rate-limit: ${res.status} ${await res.text()}`);
    },
    stop: () => stopProcess(proc),
  };
}
