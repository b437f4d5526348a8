import { describe, expect, it } from 'vitest';
import { createWorkerHealth } from '../../../src/observability/worker-health.js';

/** A PING the test answers (or never answers) by hand, and a clock it moves by hand. */
function setup(graceMs = 60_000) {
  let t = 1_000_000;
  const pings: { resolve(): void; reject(): void }[] = [];
  const health = createWorkerHealth({
    graceMs,
    now: () => t,
    ping: () =>
      new Promise<void>((resolve, reject) =>
        pings.push({ resolve, reject: () => reject(new Error('down')) }),
      ),
  });
  return { health, pings, advance: (ms: number) => (t += ms) };
}

describe('createWorkerHealth', () => {
  it('is healthy through a Redis silence up to the grace, unhealthy past it', () => {
    const { health, advance } = setup();
    advance(60_000);
    expect(health.report()).toEqual({ status: 'ok', redis_silent_ms: 60_000, grace_ms: 60_000 });
    advance(1);
    expect(health.report().status).toBe('unhealthy');
  });

  it('counts from the last PING that succeeded, not from one that failed or is still pending', async () => {
    const { health, pings, advance } = setup();
    advance(50_000);
    const ok = health.probe();
    pings[0]!.resolve();
    await ok;
    advance(30_000);
    const failed = health.probe();
    pings[1]!.reject();
    await failed;
    void health.probe(); // never answered: a half-open connection
    advance(30_001);
    expect(health.report()).toMatchObject({ status: 'unhealthy', redis_silent_ms: 60_001 });
  });

  it('sends no second PING while one is pending', () => {
    const { health, pings } = setup();
    void health.probe();
    void health.probe();
    void health.probe();
    expect(pings).toHaveLength(1);
  });

  it('is healthy again after the next PING that succeeds', async () => {
    const { health, pings, advance } = setup();
    advance(120_000);
    expect(health.report().status).toBe('unhealthy');
    const back = health.probe();
    pings[0]!.resolve();
    await back;
    expect(health.report()).toMatchObject({ status: 'ok', redis_silent_ms: 0 });
  });
});
