import { defineConfig } from "vitest/config";

// Browser tests: the built server (npm run build) driven by Debian's Chromium through playwright-core.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: "forks",
  },
});
