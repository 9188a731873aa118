import * as c from "@juanie/contracts";
import {
  listMutedProjects,
  listNotifications,
  markNotificationsRead,
  muteProjectNotifications,
  unreadNotificationCount,
} from "@juanie/domain";
import { z } from "zod";
import { authedProcedure, router } from "../trpc.ts";

export const notificationsRouter = router({
  list: authedProcedure
    .input(c.listNotificationsInput)
    .output(c.notificationsPage)
    .query(({ ctx, input }) => listNotifications(ctx.deps, ctx.actor, input)),
  markRead: authedProcedure
    .input(c.markNotificationsReadInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await markNotificationsRead(ctx.deps, ctx.actor, input.ids);
      return { ok: true as const };
    }),
  markAllRead: authedProcedure.output(c.okSchema).mutation(async ({ ctx }) => {
    await markNotificationsRead(ctx.deps, ctx.actor, "all");
    return { ok: true as const };
  }),
  /** Mutes or unmutes a project: a muted project's notifications are not created for this user. */
  muteProject: authedProcedure
    .input(c.muteProjectInput)
    .output(c.okSchema)
    .mutation(async ({ ctx, input }) => {
      await muteProjectNotifications(ctx.deps, ctx.actor, input);
      return { ok: true as const };
    }),
  mutedProjects: authedProcedure
    .output(z.array(c.mutedProject))
    .query(({ ctx }) => listMutedProjects(ctx.deps, ctx.actor)),
  /** Live unread count over SSE: the current value first, then one per change. */
  onUnreadCount: authedProcedure.subscription(async function* ({ ctx, signal }) {
    const userId = ctx.actor.user.id;
    // Listen before counting, so a change committed in between is not lost.
    const events = ctx.realtime.events(signal);
    let last = await unreadNotificationCount(ctx.deps, userId);
    yield { count: last };
    for await (const event of events) {
      if (event.type === "notifications.changed" && event.userId === userId) {
        // Only changes are pushed: an event can arrive late, or stand for a change that changed nothing.
        const count = await unreadNotificationCount(ctx.deps, userId);
        if (count === last) continue;
        last = count;
        yield { count };
      }
    }
  }),
});
