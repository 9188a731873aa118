import { type Executor, sessions, users } from "@juanie/db";
import { and, eq, gt, lt } from "drizzle-orm";
import type { Deps, RequestOrigin } from "../shared/deps.ts";
import { randomToken, sha256 } from "../shared/ids.ts";
import type { UserRow } from "./users.ts";

export interface NewSession {
  token: string;
  expiresAt: Date;
}

export async function createSession(
  db: Executor,
  deps: Pick<Deps, "clock" | "config">,
  userId: string,
  origin: RequestOrigin,
): Promise<NewSession> {
  const token = randomToken();
  const expiresAt = new Date(deps.clock.now().getTime() + deps.config.sessionTtlHours * 3600_000);
  await db.insert(sessions).values({
    tokenHash: sha256(token),
    userId,
    ip: origin.ip,
    userAgent: origin.userAgent?.slice(0, 500) ?? null,
    expiresAt,
  });
  return { token, expiresAt };
}

/** The signed-in user for a session cookie, or null when it is unknown or expired. */
export async function resolveSession(
  deps: Pick<Deps, "db" | "clock">,
  token: string | undefined,
): Promise<UserRow | null> {
  if (!token || token.length > 200) return null;
  const [row] = await deps.db
    .select({ user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, sha256(token)), gt(sessions.expiresAt, deps.clock.now())));
  return row?.user ?? null;
}

export async function deleteSession(db: Executor, token: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.tokenHash, sha256(token)));
}

export async function purgeExpiredSessions(deps: Pick<Deps, "db" | "clock">): Promise<void> {
  await deps.db.delete(sessions).where(lt(sessions.expiresAt, deps.clock.now()));
}
