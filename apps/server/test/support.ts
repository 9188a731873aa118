import { readFileSync } from "node:fs";
import path from "node:path";
import type { ErrorDetails } from "@juanie/contracts";
import { auditLogs, createDb, type DbHandle, users } from "@juanie/db";
import { type Deps, SecretBox, systemClock } from "@juanie/domain";
import { TRPCClientError } from "@trpc/client";
import { asc, gt, sql } from "drizzle-orm";
import { hashPassword } from "../../../packages/domain/src/auth/passwords.ts";
import { silentLogger } from "../../../test/helpers.ts";
import { Session, type TestServer } from "./harness.ts";

/** Every test account shares this password (hashed once: argon2 is deliberately slow). */
export const password = "correct horse battery staple";
let passwordHash: Promise<string> | undefined;

/** Direct access to the server's database: fixtures, and checks of what was (not) written. */
export interface Backdoor {
  deps: Deps & { secrets: SecretBox };
  handle: DbHandle;
  /** Counts rows of a table (or of a query) — the usual question after a failed request. */
  count(query: ReturnType<typeof sql>): Promise<number>;
  close(): Promise<void>;
}

export function openBackdoor(server: TestServer): Backdoor {
  const handle = createDb(server.platform.databaseUrl, { max: 3 });
  const deps: Backdoor["deps"] = {
    db: handle.db,
    clock: systemClock,
    logger: silentLogger,
    config: { publicUrl: server.url, allowSignup: false, sessionTtlHours: 24 },
    // The server's own key (generated into its data directory), so that what is sealed here opens there.
    secrets: new SecretBox(Buffer.from(readFileSync(path.join(server.dataDir, "secret.key"), "utf8").trim(), "base64")),
  };
  return {
    deps,
    handle,
    async count(query) {
      const r = await handle.db.execute<{ n: number }>(sql`select count(*)::int as n from (${query}) q`);
      return r.rows[0]?.n ?? 0;
    },
    close: () => handle.close(),
  };
}

export interface TestUser {
  id: string;
  username: string;
  email: string;
  isPlatformAdmin: boolean;
}

/** An account created straight in the database (fixtures need many; the API path is tested elsewhere). */
export async function createUser(
  back: Backdoor,
  username: string,
  opts: { isPlatformAdmin?: boolean; email?: string } = {},
): Promise<TestUser> {
  passwordHash ??= hashPassword(password);
  const [row] = await back.handle.db
    .insert(users)
    .values({
      username,
      email: opts.email ?? `${username.toLowerCase()}@example.com`,
      displayName: username,
      passwordHash: await passwordHash,
      isPlatformAdmin: opts.isPlatformAdmin ?? false,
    })
    .returning();
  return { id: row!.id, username: row!.username, email: row!.email, isPlatformAdmin: row!.isPlatformAdmin };
}

/** A browser session signed in through the real API. */
export async function signIn(server: TestServer, user: { username: string }, pw = password): Promise<Session> {
  const s = new Session(server.url);
  await s.api.auth.signIn.mutate({ login: user.username, password: pw });
  return s;
}

/** Polls until `ok` holds or the deadline passes; returns the last value either way. */
export async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the job queue is empty, so that background work does not change counts under a test. */
export async function drainJobs(back: Backdoor): Promise<void> {
  const left = await waitFor(
    () => back.count(sql`select 1 from graphile_worker.jobs`),
    (n) => n === 0,
  );
  if (left !== 0) throw new Error(`${left} jobs still queued`);
}

export interface ApiFailure {
  message: string;
  httpStatus: number | undefined;
  juanie: ErrorDetails;
}

/** The error a call failed with, as the web UI sees it; fails the test when the call succeeded. */
export async function failure(call: Promise<unknown>): Promise<ApiFailure> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof TRPCClientError)) throw err;
    const data = err.data as { httpStatus?: number; juanie?: ErrorDetails } | undefined;
    if (!data?.juanie) throw new Error(`error without juanie details: ${err.message}`);
    return { message: err.message, httpStatus: data.httpStatus, juanie: data.juanie };
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** The newest audit entry id, to find the entries a request wrote. */
export async function lastAuditId(back: Backdoor): Promise<number> {
  const r = await back.handle.db.execute<{ id: string | null }>(sql`select max(id)::text as id from audit_logs`);
  return Number(r.rows[0]?.id ?? 0);
}

/** Audit entries written after `afterId`, oldest first. */
export function auditSince(back: Backdoor, afterId: number) {
  return back.handle.db.select().from(auditLogs).where(gt(auditLogs.id, afterId)).orderBy(asc(auditLogs.id));
}
