import { defineConfig } from 'vitest/config';

/**
 * Test layers (see DEVELOPERS practices): unit = pure functions; cli = the `fenliu` CLI's
 * `main()` in-process on fixture files, plus one spawn of the real binary per command; model =
 * the committed demo model in Node; pipeline = Python training/export and cross-runtime parity;
 * e2e = Playwright on the built demo in Debian's Chromium.
 */
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // NOTE: some unit tests load the 11 MB Qwen3 tokenizer (~4 s alone); on a busy shared
          // machine the 5 s / 10 s defaults fail them for time, which tests do not assert.
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'cli',
          include: ['test/cli/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'model',
          include: ['test/model/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'pipeline',
          include: ['test/pipeline/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
