// The suite's vitest configuration: its test files in 4 worker processes (forks, vitest's
// default pool, each test file in a fresh one), the cache in the folder the bench gives
// (SUITE_CACHE_DIR), never beside the sources.
export default {
  cacheDir: process.env.SUITE_CACHE_DIR,
  test: {
    include: ['tests/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { minForks: 4, maxForks: 4 } },
    testTimeout: 30000,
  },
};
