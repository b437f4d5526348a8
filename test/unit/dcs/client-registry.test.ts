import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { HUAWEI_DCS_REGIONS, isKnownRegion } from '../../../src/config/regions.js';
import { createClientRegistry, type ClientRegistry } from '../../../src/dcs/client-registry.js';
import { isCleanupError } from '../../../src/errors.js';
import { Credentials } from '../../../src/huawei/credentials.js';
import { parseTaskInput } from '../../../src/queue/job-contract.js';

// Clients open no socket before their first call, and these tests make none.
const credentials = new Credentials('AK', 'SK');
let registry: ClientRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

describe('the client registry', () => {
  it('keeps at most DCS_CLIENT_CACHE_SIZE clients and closes the least recently used one it evicts', () => {
    registry = createClientRegistry(loadConfig({ DCS_CLIENT_CACHE_SIZE: '2' }), credentials);
    const north = registry.get('cn-north-4');
    const singapore = registry.get('ap-southeast-1');
    expect(registry.get(undefined)).toBe(north); // DCS_REGION, and now the most recently used
    const dublin = registry.get('eu-west-101');

    expect(singapore.closed).toBe(true);
    expect(north.closed).toBe(false);
    expect(dublin.closed).toBe(false);
    const again = registry.get('ap-southeast-1');
    expect(again).not.toBe(singapore);
    expect(again.closed).toBe(false);
    expect(north.closed).toBe(true);
  });

  it('refuses a made-up region before creating anything, naming the field and the value', () => {
    registry = createClientRegistry(loadConfig({}), credentials);
    let error: unknown;
    try {
      registry.get('zz-mars-1');
    } catch (err) {
      error = err;
    }
    expect(isCleanupError(error, 'INVALID_CONFIG')).toBe(true);
    expect(error).toMatchObject({ field: 'region', message: expect.stringContaining('"zz-mars-1"') });
  });
});

describe('accepted regions', () => {
  it('are the official DCS regions, and the ones the configuration names', () => {
    expect(HUAWEI_DCS_REGIONS).toHaveLength(27);
    for (const region of HUAWEI_DCS_REGIONS) expect(parseTaskInput(task(region)).region).toBe(region);
    expect(isKnownRegion('xx-custom-7')).toBe(false);
    expect(() => parseTaskInput(task('xx-custom-7'), 'tasks[2]')).toThrow(
      /tasks\[2\]\.region: unknown region "xx-custom-7"/,
    );
    loadConfig({ DCS_REGION: 'xx-custom-7', DCS_EXTRA_REGIONS: 'yy-custom-8, zz-custom-9' });
    for (const region of ['xx-custom-7', 'yy-custom-8', 'zz-custom-9']) {
      expect(parseTaskInput(task(region)).region).toBe(region);
    }
  });

  it('refuses DCS_EXTRA_REGIONS that are not regions', () => {
    expect(() => loadConfig({ DCS_EXTRA_REGIONS: 'cn-north-4,evil.example' })).toThrow(/DCS_EXTRA_REGIONS/);
  });
});

function task(region: string) {
  return { project_id: 'p1', instance_id: 'i1', task_id: 't1', region };
}
