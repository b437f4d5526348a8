import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { createMetrics } from '../../../src/observability/metrics.js';
import { createApiMetrics } from '../../../src/api/api-metrics.js';

describe('docs/metrics.md', () => {
  it('names every metric the worker and the API register', async () => {
    const doc = await readFile(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
    const metrics = createMetrics({ processMetrics: false });
    createApiMetrics(metrics.registry);
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const name of names) {
      expect(name).toMatch(/^dcs_cleanup_/);
      expect(doc, name).toContain(`\`${name}\``);
    }
  });
});
