import { auditRouter } from "./routers/audit.ts";
import { authRouter } from "./routers/auth.ts";
import { invitationsRouter } from "./routers/invitations.ts";
import { notificationsRouter } from "./routers/notifications.ts";
import { orgsRouter } from "./routers/orgs.ts";
import { projectsRouter } from "./routers/projects.ts";
import { teamsRouter } from "./routers/teams.ts";
import { usersRouter } from "./routers/users.ts";
import { router } from "./trpc.ts";

export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  orgs: orgsRouter,
  invitations: invitationsRouter,
  teams: teamsRouter,
  projects: projectsRouter,
  audit: auditRouter,
  notifications: notificationsRouter,
});

export type AppRouter = typeof appRouter;
