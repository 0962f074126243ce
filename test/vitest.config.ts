import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Lives in test/ to keep the top level as designed; `npm test` points vitest here.
export default defineConfig({
  root: path.resolve(import.meta.dirname, '..'),
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file picks its own free ports and its own database, so files can run side by side.
    fileParallelism: true,
  },
});
