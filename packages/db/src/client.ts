import { fileURLToPath } from "node:url";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
export type Database = NodePgDatabase<Schema>;
/** A transaction or the database itself: domain functions accept either. */
export type Executor = Database | Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface DbHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function createDb(connectionString: string, options: { max?: number } = {}): DbHandle {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}

/** Directory of the committed SQL migrations, resolved from this file (works from source and bundle). */
export function migrationsFolder(): string {
  return process.env.JUANIE_MIGRATIONS_DIR ?? fileURLToPath(new URL("../migrations", import.meta.url));
}

export async function migrateDb(db: Database): Promise<void> {
  await migrate(db, { migrationsFolder: migrationsFolder() });
}
