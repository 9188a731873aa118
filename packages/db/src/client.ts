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
  // pool.end() resolves once every client was asked to end, before their connections are closed: a
  // PostgreSQL stopped right after would end those sessions itself (57P01, logged as errors by their
  // users). close() waits for the connections to be gone (bounded).
  const connections = new Set<Promise<void>>();
  pool.on("connect", (client) => {
    const ended = new Promise<void>((resolve) => client.once("end", () => resolve()));
    connections.add(ended);
    void ended.then(() => connections.delete(ended));
  });
  const db = drizzle(pool, { schema });
  const close = async () => {
    await pool.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(connections),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 5_000);
      }),
    ]);
    clearTimeout(timer);
  };
  return { db, pool, close };
}

/** Directory of the committed SQL migrations, resolved from this file (works from source and bundle). */
export function migrationsFolder(): string {
  return process.env.JUANIE_MIGRATIONS_DIR ?? fileURLToPath(new URL("../migrations", import.meta.url));
}

export async function migrateDb(db: Database): Promise<void> {
  await migrate(db, { migrationsFolder: migrationsFolder() });
}
