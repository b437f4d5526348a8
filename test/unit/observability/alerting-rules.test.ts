import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { createMetrics } from '../../../src/observability/metrics.js';
import { createApiMetrics } from '../../../src/api/api-metrics.js';
import { createWebhookMetrics } from '../../../src/events/webhook-worker.js';

describe('docs/alerting-rules.yml', () => {
  it('uses only metrics the processes register, and docs/alerts.md explains every alert', async () => {
    const rules = parse(await readFile(new URL('../../../docs/alerting-rules.yml', import.meta.url), 'utf8'));
    const doc = await readFile(new URL('../../../docs/alerts.md', import.meta.url), 'utf8');
    const metrics = createMetrics({ processMetrics: false });
    createApiMetrics(metrics.registry);
    createWebhookMetrics(metrics.registry);
    const known = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    const alerts = rules.groups.flatMap((g: { rules: { alert: string; expr: string }[] }) => g.rules);
    expect(alerts.length).toBeGreaterThan(5);
    for (const { alert, expr } of alerts) {
      expect(doc, alert).toContain(`\`${alert}\``);
      const used = [...expr.matchAll(/dcs_cleanup_[a-z_]+/g)].map((m) =>
        m[0].replace(/_(count|sum|bucket)$/, ''),
      );
      expect(used.length, alert).toBeGreaterThan(0);
      for (const name of used) expect(known, `${alert}: ${name}`).toContain(name);
    }
  });
});
