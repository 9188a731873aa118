import type { Notification } from "@juanie/contracts";
import { type Executor, notificationMutes, notifications, organizations, projects } from "@juanie/db";
import { and, asc, count, desc, eq, inArray, isNull } from "drizzle-orm";
import { authorizeProject } from "../access/authorize.ts";
import { afterCursor, decodeCursor, pageOf } from "../shared/cursor.ts";
import type { Actor, Deps } from "../shared/deps.ts";
import { publish } from "./realtime.ts";

export type NotificationKind =
  | "invitation.received"
  | "org.role_changed"
  | "team.added"
  | "project.role_changed"
  | "deployment.approval_requested"
  | "deployment.approved"
  | "deployment.rejected"
  | "deployment.committed"
  | "deployment.break_glass"
  | "deployment.bypassed_approval"
  | "deployment.failed"
  | "cluster.flux_unhealthy";

/**
 * Notifies one user. A notification about a project (its data carries `projectId`) is not created at all
 * for a user who muted that project: checked here, at creation, so every kind obeys the mute.
 */
export async function notify(
  tx: Executor,
  userId: string,
  kind: NotificationKind,
  data: Record<string, string | number | null>,
  link: string | null,
): Promise<void> {
  if (typeof data.projectId === "string" && (await isMuted(tx, userId, data.projectId))) return;
  await tx.insert(notifications).values({ userId, kind, data, link });
  await publish(tx, { type: "notifications.changed", userId });
}

async function isMuted(tx: Executor, userId: string, projectId: string): Promise<boolean> {
  const [m] = await tx
    .select({ userId: notificationMutes.userId })
    .from(notificationMutes)
    .where(and(eq(notificationMutes.userId, userId), eq(notificationMutes.projectId, projectId)));
  return m !== undefined;
}

/**
 * Mutes (or unmutes) a project's notifications for the actor. Muting needs a project the actor can see;
 * unmuting always works (a project one can no longer see can still be unmuted). Personal, so not audited.
 */
export async function muteProjectNotifications(
  deps: Pick<Deps, "db">,
  actor: Actor,
  input: { projectId: string; muted: boolean },
): Promise<void> {
  const where = and(eq(notificationMutes.userId, actor.user.id), eq(notificationMutes.projectId, input.projectId));
  if (!input.muted) {
    await deps.db.delete(notificationMutes).where(where);
    return;
  }
  await authorizeProject(deps.db, actor, "project.read", input.projectId);
  await deps.db
    .insert(notificationMutes)
    .values({ userId: actor.user.id, projectId: input.projectId })
    .onConflictDoNothing();
}

/** The projects whose notifications the actor muted, by name. */
export async function listMutedProjects(deps: Pick<Deps, "db">, actor: Actor) {
  return deps.db
    .select({
      projectId: projects.id,
      projectName: projects.name,
      projectSlug: projects.slug,
      organizationSlug: organizations.slug,
    })
    .from(notificationMutes)
    .innerJoin(projects, eq(projects.id, notificationMutes.projectId))
    .innerJoin(organizations, eq(organizations.id, projects.organizationId))
    .where(eq(notificationMutes.userId, actor.user.id))
    .orderBy(asc(projects.name));
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
