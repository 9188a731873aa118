import { createRouter, createWebHistory } from "vue-router";
import { toApiError } from "./api/apiError.ts";
import { queryClient } from "./api/queryClient.ts";
import { safeReturnTo } from "./auth/returnTo.ts";
import { meQuery, setupStatusQuery } from "./auth/useAuth.ts";

declare module "vue-router" {
  interface RouteMeta {
    /** Reachable without a session. */
    public?: boolean;
  }
}

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/setup", name: "setup", component: () => import("./auth/SetupPage.vue"), meta: { public: true } },
    { path: "/sign-in", name: "sign-in", component: () => import("./auth/SignInPage.vue"), meta: { public: true } },
    {
      path: "/invitations/:token",
      name: "invitation",
      component: () => import("./invitations/InvitationPage.vue"),
      props: true,
      meta: { public: true },
    },
    { path: "/", redirect: "/orgs" },
    { path: "/orgs", name: "orgs", component: () => import("./orgs/OrgListPage.vue") },
    {
      path: "/orgs/:orgSlug",
      component: () => import("./orgs/OrgPage.vue"),
      props: true,
      children: [
        { path: "", name: "org-projects", component: () => import("./orgs/OrgProjectsTab.vue") },
        { path: "members", name: "org-members", component: () => import("./orgs/OrgMembersTab.vue") },
        { path: "teams", name: "org-teams", component: () => import("./orgs/OrgTeamsTab.vue") },
        { path: "clusters", name: "org-clusters", component: () => import("./clusters/OrgClustersTab.vue") },
        {
          path: "clusters/:clusterId",
          name: "cluster",
          component: () => import("./clusters/ClusterPage.vue"),
          props: true,
        },
        { path: "settings", name: "org-settings", component: () => import("./orgs/OrgSettingsTab.vue") },
      ],
    },
    {
      path: "/orgs/:orgSlug/teams/:teamSlug",
      name: "team",
      component: () => import("./teams/TeamPage.vue"),
      props: true,
    },
    {
      path: "/orgs/:orgSlug/projects/:projectSlug",
      component: () => import("./projects/ProjectPage.vue"),
      props: true,
      children: [
        { path: "", name: "project-overview", component: () => import("./projects/ProjectOverviewTab.vue") },
        {
          path: "repository",
          name: "project-repository",
          component: () => import("./repositories/ProjectRepositoryTab.vue"),
        },
        {
          path: "environments",
          name: "project-environments",
          component: () => import("./environments/ProjectEnvironmentsTab.vue"),
        },
        {
          path: "deployments",
          name: "project-deployments",
          component: () => import("./deployments/ProjectDeploymentsTab.vue"),
        },
        { path: "members", name: "project-members", component: () => import("./projects/ProjectMembersTab.vue") },
        { path: "settings", name: "project-settings", component: () => import("./projects/ProjectSettingsTab.vue") },
      ],
    },
    { path: "/deployments", name: "deployments", component: () => import("./deployments/DeploymentsPage.vue") },
    {
      path: "/deployments/:deploymentId",
      name: "deployment",
      component: () => import("./deployments/DeploymentPage.vue"),
      props: true,
    },
    { path: "/audit", name: "audit", component: () => import("./audit/AuditLogPage.vue") },
    { path: "/notifications", name: "notifications", component: () => import("./notifications/NotificationsPage.vue") },
    { path: "/profile", name: "profile", component: () => import("./profile/ProfilePage.vue") },
    { path: "/:pathMatch(.*)*", name: "not-found", component: () => import("./NotFoundPage.vue") },
  ],
});

router.beforeEach(async (to) => {
  const session = await Promise.all([
    queryClient.ensureQueryData(setupStatusQuery),
    queryClient.ensureQueryData(meQuery),
  ]).catch(() => null);
  // Server unreachable: let the page render; its own queries show the connection error.
  if (!session) return true;
  const [status, me] = session;
  if (status.needsSetup) return to.name === "setup" || { name: "setup" };
  if (to.name === "setup") return "/";
  if (to.name === "sign-in" && me) return safeReturnTo(to.query.returnTo);
  if (!to.meta.public && !me) return { name: "sign-in", query: { returnTo: to.fullPath } };
  return true;
});

// A query answered UNAUTHENTICATED means the session ended (expired, signed out elsewhere).
queryClient.getQueryCache().subscribe((event) => {
  if (event.type !== "updated" || event.action.type !== "error") return;
  if (toApiError(event.action.error).code !== "UNAUTHENTICATED") return;
  queryClient.setQueryData(meQuery.queryKey, null);
  const current = router.currentRoute.value;
  if (!current.meta.public) void router.push({ name: "sign-in", query: { returnTo: current.fullPath } });
});
