/**
 * The composition root: the one place that turns a Config into running parts. Its pieces live in
 * src/app/ (docs/architecture.md "Where things start"):
 *  - create-app.ts: createApp, the shared parts (logger, Redis connection, producer, dead letters);
 *  - start-worker.ts: startWorker, a worker process (pool, schedules, metrics server, DCS clients);
 *  - start-api.ts: startApi, the HTTP API;
 *  - worker-settings.ts: every worker default, resolved once from the configuration schema.
 * Commands, the demo, the test harness and the benchmarks start their services here.
 */
export * from './app/create-app.js';
export * from './app/worker-settings.js';
export * from './app/start-worker.js';
export * from './app/start-api.js';
