import { randomBytes } from "node:crypto";
import net from "node:net";
import { createDb, type DbHandle, migrateDb } from "@juanie/db";
import { type Actor, type Deps, systemClock } from "@juanie/domain";
import { runMigrations, Logger as WorkerLogger } from "graphile-worker";
import pg from "pg";
import { inject } from "vitest";

export const silentLogger = { info() {}, warn() {}, error() {} };

/** A fresh, migrated database on the run's PostgreSQL server; dropped by `drop()`. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = inject("adminDatabaseUrl");
  const name = `juanie_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface TestDomain {
  deps: Deps;
  handle: DbHandle;
  close(): Promise<void>;
}

/** Domain dependencies on a fresh database (app schema and job queue schema migrated). */
export async function createTestDomain(): Promise<TestDomain> {
  const database = await createTestDatabase();
  const handle = createDb(database.url, { max: 5 });
  await migrateDb(handle.db);
  await runMigrations({ pgPool: handle.pool, logger: quietWorkerLogger() });
  const deps: Deps = {
    db: handle.db,
    clock: systemClock,
    logger: silentLogger,
    config: { publicUrl: "http://localhost:3000", allowSignup: false, sessionTtlHours: 24 },
  };
  return {
    deps,
    handle,
    async close() {
      await handle.close();
      await database.drop();
    },
  };
}

function quietWorkerLogger() {
  return new WorkerLogger(() => () => {});
}

export function actorFor(user: { id: string; username: string; isPlatformAdmin?: boolean }): Actor {
  return {
    user: { id: user.id, username: user.username, isPlatformAdmin: user.isPlatformAdmin ?? false },
    ip: "127.0.0.1",
    userAgent: "vitest",
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
