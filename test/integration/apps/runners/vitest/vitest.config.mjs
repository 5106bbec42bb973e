// The runners suite's vitest project (test/integration/runners.test.mjs): its cache goes to the
// test's temporary folder (NT_CACHE_DIR), never into the source tree.
export default {
  cacheDir: process.env.NT_CACHE_DIR,
  test: { include: ['*.test.ts'], testTimeout: 20000 },
};
