import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.js';
import { withAccountLabel } from '../../../src/observability/account-metrics.js';

describe('withAccountLabel', () => {
  it("adds the account to every job-path sample, each account's series apart, the registry shared", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const a = withAccountLabel(metrics, 'prod');
    const b = withAccountLabel(metrics, 'partner');
    a.deletions.inc({ outcome: 'deleted' });
    a.deletions.inc({ outcome: 'deleted' });
    b.deletions.inc({ outcome: 'deleted' });
    b.retries.inc({ reason: 'busy' }, 3);
    a.throttleWaits.inc();
    a.throttleWaitSeconds.inc(2.5);
    b.circuitOpen.set(1);
    a.circuitOpen.set(0);
    a.requestDuration.observe({ status: 200 }, 0.02);
    expect(a.registry).toBe(metrics.registry);
    const text = await metrics.registry.metrics();
    expect(text).toContain('dcs_cleanup_deletions_total{outcome="deleted",account="prod"} 2');
    expect(text).toContain('dcs_cleanup_deletions_total{outcome="deleted",account="partner"} 1');
    expect(text).toContain('dcs_cleanup_retries_total{reason="busy",account="partner"} 3');
    expect(text).toContain('dcs_cleanup_throttle_waits_total{account="prod"} 1');
    expect(text).toContain('dcs_cleanup_throttle_wait_seconds_total{account="prod"} 2.5');
    expect(text).toContain('dcs_cleanup_circuit_open{account="partner"} 1');
    expect(text).toContain('dcs_cleanup_circuit_open{account="prod"} 0');
    expect(text).toContain('dcs_cleanup_request_duration_seconds_count{status="200",account="prod"} 1');
  });
});
