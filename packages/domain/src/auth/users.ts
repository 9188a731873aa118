import type { Me, UserSummary } from "@juanie/contracts";
import { type Executor, oauthAccounts, type users } from "@juanie/db";
import { eq } from "drizzle-orm";

export type UserRow = typeof users.$inferSelect;

export function toUserSummary(u: Pick<UserRow, "id" | "username" | "displayName" | "avatarUrl">): UserSummary {
  return { id: u.id, username: u.username, displayName: u.displayName, avatarUrl: u.avatarUrl };
}

export async function toMe(db: Executor, u: UserRow): Promise<Me> {
  const linked = await db
    .select({ provider: oauthAccounts.provider })
    .from(oauthAccounts)
    .where(eq(oauthAccounts.userId, u.id));
  return {
    ...toUserSummary(u),
    email: u.email,
    isPlatformAdmin: u.isPlatformAdmin,
    locale: u.locale,
    hasPassword: u.passwordHash !== null,
    linkedProviders: linked.map((l) => l.provider).sort(),
  };
}
