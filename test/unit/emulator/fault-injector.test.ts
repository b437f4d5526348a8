import { describe, expect, it } from 'vitest';
import {
  buildFaultAnswer,
  chooseFault,
  createFaultInjector,
  parseFaultOptions,
  type FaultKind,
} from '../../../src/emulator/fault-injector.js';

describe('chooseFault', () => {
  const options = { resetRate: 0.1, hangRate: 0.1, statusRates: { 500: 0.1, 503: 0.2 }, throttleRate: 0.1 };

  it.each([
    [0, 'reset'],
    [0.15, 'hang'],
    [0.25, 'status500'],
    [0.35, 'status503'],
    [0.55, 'throttle'],
    [0.65, 'none'],
    [0.999, 'none'],
  ] as [number, FaultKind][])('maps the draw %f to %s by cumulative probability', (u, kind) => {
    expect(chooseFault(options, u)).toBe(kind);
  });

  it('chooses nothing without faults', () => {
    expect(chooseFault({}, 0)).toBe('none');
  });
});

describe('parseFaultOptions', () => {
  it('refuses probabilities that add up to more than 1, rates outside 0..1 and unknown keys', () => {
    expect(() => parseFaultOptions({ resetRate: 0.5, statusRates: { 500: 0.6 } })).toThrow(/above 1/);
    expect(() => parseFaultOptions({ hangRate: 2 })).toThrow(/hangRate/);
    expect(() => parseFaultOptions({ statusRates: { 418: 0.1 } })).toThrow(/statusRates/);
    expect(() => parseFaultOptions({ routes: ['purge'] })).toThrow(/routes/);
    expect(() => parseFaultOptions({ typo: 1 })).toThrow(/typo/);
  });
});

describe('buildFaultAnswer', () => {
  it('answers 429 APIGW.0308 with Retry-After only when retryAfterSeconds is set', () => {
    expect(buildFaultAnswer('throttle', {})).toEqual({
      status: 429,
      errorCode: 'APIGW.0308',
      retryAfter: undefined,
    });
    expect(buildFaultAnswer('throttle', { retryAfterSeconds: 3 })).toMatchObject({ retryAfter: 3 });
    expect(buildFaultAnswer('status504', {})).toEqual({ status: 504 });
    expect(buildFaultAnswer('reset', {})).toEqual({ reset: true });
    expect(buildFaultAnswer('none', {})).toBeUndefined();
  });
});

describe('createFaultInjector', () => {
  it('applies to DELETE only by default, and to the listed routes otherwise', () => {
    const injector = createFaultInjector();
    expect([injector.appliesTo('delete'), injector.appliesTo('listTasks')]).toEqual([true, false]);
    injector.set({ routes: ['listTasks', 'listInstances'] });
    expect([
      injector.appliesTo('delete'),
      injector.appliesTo('listTasks'),
      injector.appliesTo('listInstances'),
    ]).toEqual([false, true, true]);
  });

  it('draws the same faults for the same seed, and restarts the sequence when set with a seed', () => {
    const options = { statusRates: { 500: 0.5 }, seed: 11 };
    const draw = (n: number, injector = createFaultInjector(options)) =>
      Array.from({ length: n }, () => injector.draw().kind);
    const first = draw(30);
    expect(draw(30)).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['none', 'status500']));
    const injector = createFaultInjector(options);
    draw(5, injector);
    injector.set(options);
    expect(draw(30, injector)).toEqual(first);
  });

  it('adds latency plus jitter below jitterMs', () => {
    const injector = createFaultInjector({ latencyMs: 100, jitterMs: 50 });
    for (let i = 0; i < 200; i++) {
      const { delayMs } = injector.draw();
      expect(delayMs).toBeGreaterThanOrEqual(100);
      expect(delayMs).toBeLessThan(150);
    }
  });

  it('gives scripted answers of a task in order, then none', () => {
    const injector = createFaultInjector();
    injector.script('t1', [{ status: 503 }, { reset: true }]);
    injector.script('t1', [{ hang: true }]);
    expect([injector.takeScripted('t1'), injector.takeScripted('t1'), injector.takeScripted('t1')]).toEqual([
      { status: 503 },
      { reset: true },
      { hang: true },
    ]);
    expect(injector.takeScripted('t1')).toBeUndefined();
    expect(injector.takeScripted('t2')).toBeUndefined();
  });
});
