import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Sockets, child processes and fake clocks are per file; isolating files keeps one failure from leaking into others.
    pool: 'forks',
  },
});
