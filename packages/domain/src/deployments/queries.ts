// Reading deployments: the list, one deployment as its page shows it, and its cluster-side rollout.
import type { DeploymentDetail, DeploymentSummary } from "@juanie/contracts";
import {
  clusters,
  deploymentApprovals,
  deploymentEvents,
  deployments,
  type Executor,
  environments,
  organizations,
  projects,
  repositories,
  users,
} from "@juanie/db";
import { and, asc, desc, eq, gte, lt, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { authorizeProject, orgRoleOf } from "../access/authorize.ts";
import { toUserSummary } from "../auth/users.ts";
import { type EnvironmentRow, environmentPermissionOf } from "../environments/access.ts";
import { gitopsNames } from "../environments/gitops.ts";
import { commitUrl, type RepositoryRow } from "../repositories/service.ts";
import { afterCursor, decodeCursor, pageOf } from "../shared/cursor.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { NotFoundError } from "../shared/errors.ts";
import { approvalBlocked } from "./approvals.ts";
import { isStuck } from "./recovery.ts";
import type { DeploymentRow } from "./service.ts";
import { isDeploymentStatus, isLanded } from "./state.ts";

const requester = alias(users, "requester");

function summaryOf(r: {
  d: DeploymentRow;
  project: DeploymentSummary["project"];
  env: EnvironmentRow;
  repo: RepositoryRow | null;
  requester: typeof users.$inferSelect | null;
}): DeploymentSummary {
  const status = isDeploymentStatus(r.d.status) ? r.d.status : "pending";
  return {
    id: r.d.id,
    number: r.d.number,
    projectId: r.d.projectId,
    project: r.project,
    environment: { id: r.env.id, name: r.env.name, type: r.env.type },
    method: r.d.method,
    status,
    version: r.d.version,
    branch: r.d.branch,
    commitSha: r.d.commitSha,
    commitMessage: r.d.commitMessage,
    commitUrl: r.d.commitSha && r.repo ? commitUrl(r.repo, r.d.commitSha) : null,
    author: r.d.commitAuthorName ?? r.requester?.displayName ?? null,
    requestedBy: r.requester ? toUserSummary(r.requester) : null,
    rollbackOfId: r.d.rollbackOfId,
    promotedFromId: r.d.promotedFromId,
    bypassedApproval: r.d.bypassedApproval,
    createdAt: r.d.createdAt.toISOString(),
    finishedAt: r.d.finishedAt?.toISOString() ?? null,
  };
}

function baseQuery(db: Executor) {
  return db
    .select({
      d: deployments,
      env: environments,
      repo: repositories,
      requester,
      project: { id: projects.id, name: projects.name, slug: projects.slug, organizationSlug: organizations.slug },
    })
    .from(deployments)
    .innerJoin(environments, eq(environments.id, deployments.environmentId))
    .innerJoin(projects, eq(projects.id, deployments.projectId))
    .innerJoin(organizations, eq(organizations.id, projects.organizationId))
    .leftJoin(repositories, eq(repositories.id, deployments.repositoryId))
    .leftJoin(requester, eq(requester.id, deployments.requestedById));
}

export async function listDeployments(
  deps: GitOpsDeps,
  actor: Actor,
  input: {
    projectId?: string;
    environmentId?: string;
    status?: string;
    method?: DeploymentRow["method"];
    from?: string;
    to?: string;
    cursor?: string | null;
    limit: number;
  },
) {
  if (input.projectId) await authorizeProject(deps.db, actor, "project.read", input.projectId);
  const visible = actor.user.isPlatformAdmin
    ? undefined
    : sql`${deployments.projectId} in (select p.id from projects p where p.visibility = 'public'
        or exists (select 1 from organization_members om where om.organization_id = p.organization_id and om.user_id = ${actor.user.id}
                   and (om.role = 'admin' or p.visibility = 'internal'))
        or exists (select 1 from project_members pm where pm.project_id = p.id and pm.user_id = ${actor.user.id})
        or exists (select 1 from project_team_grants g join team_members tm on tm.team_id = g.team_id
                   where g.project_id = p.id and tm.user_id = ${actor.user.id}))`;
  const rows = await baseQuery(deps.db)
    .where(
      and(
        visible,
        input.projectId ? eq(deployments.projectId, input.projectId) : undefined,
        input.environmentId ? eq(deployments.environmentId, input.environmentId) : undefined,
        input.status ? eq(deployments.status, input.status) : undefined,
        input.method ? eq(deployments.method, input.method) : undefined,
        input.from ? gte(deployments.createdAt, new Date(input.from)) : undefined,
        // Inclusive at the millisecond the API shows (the column has microseconds).
        input.to ? lt(deployments.createdAt, new Date(Date.parse(input.to) + 1)) : undefined,
        afterCursor(deployments, deployments.createdAt, deployments.id, decodeCursor(input.cursor)),
      ),
    )
    .orderBy(desc(deployments.createdAt), desc(deployments.id))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, summaryOf, (r) => r.d.id);
}

/** Throws (as for any hidden project) unless the actor may see a project's deployments. */
export async function authorizeDeploymentsOf(deps: GitOpsDeps, actor: Actor, projectId: string): Promise<void> {
  await authorizeProject(deps.db, actor, "project.read", projectId);
}

/**
 * One deployment as its detail page shows it. `access`: the caller's access to its environment, when
 * the caller has just been authorized for it (the answer to their own request): not checked again.
 */
export async function getDeployment(
  deps: GitOpsDeps,
  actor: Actor,
  deploymentId: string,
  access?: { permission: Awaited<ReturnType<typeof environmentPermissionOf>> },
): Promise<DeploymentDetail> {
  const [row] = await baseQuery(deps.db).where(eq(deployments.id, deploymentId));
  if (!row) throw new NotFoundError("Deployment");
  let permission = access?.permission;
  if (!access) {
    const { subject } = await authorizeProject(deps.db, actor, "project.read", row.d.projectId);
    permission = await environmentPermissionOf(deps.db, actor, row.env, {
      orgRole: subject.orgRole,
      projectRole: subject.projectRole ?? null,
    });
  }
  const approvals = await deps.db
    .select({ a: deploymentApprovals, u: users })
    .from(deploymentApprovals)
    .innerJoin(users, eq(users.id, deploymentApprovals.userId))
    .where(eq(deploymentApprovals.deploymentId, deploymentId))
    .orderBy(asc(deploymentApprovals.createdAt));
  const events = await deps.db
    .select()
    .from(deploymentEvents)
    .where(eq(deploymentEvents.deploymentId, deploymentId))
    .orderBy(asc(deploymentEvents.id));
  const d = row.d;
  const canDeploy = permission === "deploy" || permission === "admin";
  const decided = approvals.some((a) => a.u.id === actor.user.id);
  const waiting = d.status === "awaiting_approval";
  const required = d.requiredApprovals ?? row.env.minApprovals;
  const ruleNow = row.env.approvalRequired ? row.env.minApprovals : 0;
  const isOrgAdmin =
    waiting && d.requestedById !== actor.user.id
      ? actor.user.isPlatformAdmin ||
        (await orgRoleOf(deps.db, await organizationOf(deps.db, d.projectId), actor.user.id)) === "admin"
      : false;
  const glass = (d.request as { breakGlass?: { by: string; reason: string; at: string } }).breakGlass ?? null;
  return {
    ...summaryOf(row),
    // The rendered files are the commit's input, shown as `diff`: not repeated in the answer.
    request: Object.fromEntries(
      Object.entries(d.request as Record<string, unknown>).filter(([k]) => k !== "rendered" && k !== "breakGlass"),
    ),
    fields: d.fields,
    diff: d.diff,
    path: d.path,
    baseSha: d.baseSha,
    strategy: d.strategy,
    error: d.error,
    conflict: d.conflict,
    approvalExpiresAt: d.approvalExpiresAt?.toISOString() ?? null,
    minApprovals: required,
    approvals: approvals.map((a) => ({
      user: toUserSummary(a.u),
      decision: a.a.decision,
      comment: a.a.comment,
      at: a.a.createdAt.toISOString(),
    })),
    events: events.map((e) => ({
      from: e.fromStatus,
      to: e.toStatus,
      message: e.message,
      at: e.createdAt.toISOString(),
    })),
    approvalBlocked: waiting ? await approvalBlocked(deps.db, d, row.env) : null,
    breakGlass: glass,
    promotedFrom: d.promotedFromId ? await promotionSource(deps.db, d.promotedFromId) : null,
    currentMinApprovals: waiting && ruleNow !== required ? ruleNow : null,
    canApprove: canDeploy && d.status === "awaiting_approval" && d.requestedById !== actor.user.id && !decided,
    canBreakGlass: isOrgAdmin,
    canRequestAgain:
      canDeploy &&
      ["cancelled", "rejected", "expired"].includes(d.status) &&
      (d.method === "gitops-ui" || (d.method === "rollback" && !!d.rollbackOfId)),
    canCancel:
      (["awaiting_approval", "queued", "pending", "running"].includes(d.status) &&
        (d.requestedById === actor.user.id || permission === "admin")) ||
      (d.status === "committing" && permission === "admin" && isStuck(d, deps.clock.now())),
    canRetry: permission === "admin" && isStuck(d, deps.clock.now()),
    canRollBack: canDeploy && !!d.commitSha && isLanded(d.status) && d.method !== "manual",
    durationMs: d.finishedAt ? d.finishedAt.getTime() - d.createdAt.getTime() : null,
    rollout: await rolloutOf(deps.db, row.env, d, events),
  };
}

async function promotionSource(db: Executor, id: string): Promise<DeploymentDetail["promotedFrom"]> {
  const [r] = await db
    .select({ id: deployments.id, number: deployments.number, environmentName: environments.name })
    .from(deployments)
    .innerJoin(environments, eq(environments.id, deployments.environmentId))
    .where(eq(deployments.id, id));
  return r ?? null;
}

async function organizationOf(db: Executor, projectId: string): Promise<string> {
  const [p] = await db
    .select({ organizationId: projects.organizationId })
    .from(projects)
    .where(eq(projects.id, projectId));
  return p?.organizationId ?? "";
}

/** The cluster half of a deployment's progress, when its environment runs in a cluster. */
async function rolloutOf(
  db: Executor,
  env: typeof environments.$inferSelect,
  d: DeploymentRow,
  events: (typeof deploymentEvents.$inferSelect)[],
): Promise<DeploymentDetail["rollout"]> {
  if (!env.clusterId || !d.commitSha || d.method === "manual") return null;
  const [row] = await db
    .select({ cluster: clusters, slug: projects.slug })
    .from(clusters)
    .innerJoin(projects, eq(projects.id, env.projectId))
    .where(eq(clusters.id, env.clusterId));
  if (!row) return null;
  const committed = events.find((e) => e.toStatus === "committed");
  return {
    cluster: { id: row.cluster.id, name: row.cluster.name, simulated: row.cluster.simulated },
    namespace: gitopsNames(row.slug, env).namespace,
    committedAt: (committed?.createdAt ?? d.finishedAt)?.toISOString() ?? null,
    fetchedAt: d.fetchedAt?.toISOString() ?? null,
    appliedAt: d.appliedAt?.toISOString() ?? null,
    healthyAt: d.healthyAt?.toISOString() ?? null,
    reason: d.rolloutReason,
    message: d.rolloutMessage,
    workloads: d.workloads ?? [],
  };
}
