import type { Notification } from "@juanie/contracts";
import { type Executor, notifications } from "@juanie/db";
import { and, count, desc, eq, inArray, isNull } from "drizzle-orm";
import { afterCursor, decodeCursor, pageOf } from "../shared/cursor.ts";
import type { Actor, Deps } from "../shared/deps.ts";
import { publish } from "./realtime.ts";

export type NotificationKind =
  | "invitation.received"
  | "org.role_changed"
  | "team.added"
  | "project.role_changed"
  | "deployment.approval_requested"
  | "deployment.rejected"
  | "deployment.break_glass"
  | "deployment.failed"
  | "cluster.flux_unhealthy";

export async function notify(
  tx: Executor,
  userId: string,
  kind: NotificationKind,
  data: Record<string, string | number | null>,
  link: string | null,
): Promise<void> {
  await tx.insert(notifications).values({ userId, kind, data, link });
  await publish(tx, { type: "notifications.changed", userId });
}

function toNotification(n: typeof notifications.$inferSelect): Notification {
  return {
    id: n.id,
    kind: n.kind,
    data: n.data,
    link: n.link,
    readAt: n.readAt?.toISOString() ?? null,
    createdAt: n.createdAt.toISOString(),
  };
}

export async function listNotifications(
  deps: Pick<Deps, "db">,
  actor: Actor,
  input: { unreadOnly: boolean; cursor?: string | null; limit: number },
) {
  const cursor = decodeCursor(input.cursor);
  const rows = await deps.db
    .select()
    .from(notifications)
    .where(
      and(
        eq(notifications.userId, actor.user.id),
        input.unreadOnly ? isNull(notifications.readAt) : undefined,
        afterCursor(notifications, notifications.createdAt, notifications.id, cursor),
      ),
    )
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, toNotification, (r) => r.id);
}

export async function unreadNotificationCount(deps: Pick<Deps, "db">, userId: string): Promise<number> {
  const [row] = await deps.db
    .select({ n: count() })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)));
  return row?.n ?? 0;
}

/** Reading notifications is the user's own business: not audited (it changes nothing shared). */
export async function markNotificationsRead(deps: Deps, actor: Actor, ids: string[] | "all"): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await tx
      .update(notifications)
      .set({ readAt: deps.clock.now() })
      .where(
        and(
          eq(notifications.userId, actor.user.id),
          isNull(notifications.readAt),
          ids === "all" ? undefined : inArray(notifications.id, ids),
        ),
      );
    await publish(tx, { type: "notifications.changed", userId: actor.user.id });
  });
}
