import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Middleware tests sit beside their middleware, as Hono lays out its own.
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/global-setup.ts'],
    // CLI, crash and two-instance suites spawn processes and talk to PostgreSQL.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
