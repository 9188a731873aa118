import { auditRouter } from "./routers/audit.ts";
import { authRouter } from "./routers/auth.ts";
import { clustersRouter } from "./routers/clusters.ts";
import { deploymentsRouter } from "./routers/deployments.ts";
import { environmentsRouter } from "./routers/environments.ts";
import { invitationsRouter } from "./routers/invitations.ts";
import { notificationsRouter } from "./routers/notifications.ts";
import { orgsRouter } from "./routers/orgs.ts";
import { projectsRouter } from "./routers/projects.ts";
import { repositoriesRouter } from "./routers/repositories.ts";
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
  repositories: repositoriesRouter,
  environments: environmentsRouter,
  clusters: clustersRouter,
  deployments: deploymentsRouter,
  audit: auditRouter,
  notifications: notificationsRouter,
});

export type AppRouter = typeof appRouter;
