import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // Files share one Redis (isolated by prefix) and spawn processes: keep the 2-core machine breathing.
          maxWorkers: 2,
          // Vitest 4 refuses to run projects with different maxWorkers in one group: unit files first.
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Docker: the image and the compose stack for real (`npm run test:container`, `.ci/run`). Not in
        // `npm test`: it needs a Docker engine, the host's port 8080 and minutes of CPU.
        test: {
          name: 'container',
          include: ['test/container/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 1_200_000,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
