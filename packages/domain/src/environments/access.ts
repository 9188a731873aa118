import type { OrgRole, ProjectRole } from "@juanie/contracts";
import {
  type Executor,
  environmentGrants,
  environments,
  projectMembers,
  projects,
  projectTeamGrants,
  teamMembers,
} from "@juanie/db";
import { eq, inArray, sql } from "drizzle-orm";
import { authorizeProject, effectiveProjectRole, orgRoleOf } from "../access/authorize.ts";
import { type Action, decide, type EnvironmentPermission, environmentPermission } from "../access/policy.ts";
import type { Actor } from "../shared/deps.ts";
import { ConcealedDenialError, deniedError, NotFoundError } from "../shared/errors.ts";
import type { AuditDraft } from "../shared/mutation.ts";

export type EnvironmentRow = typeof environments.$inferSelect;

/** The actor's effective permission on one environment (see `environmentPermission` in the policy). */
export async function environmentPermissionOf(
  db: Executor,
  actor: Actor,
  env: Pick<EnvironmentRow, "id">,
  subject: { orgRole: OrgRole | null; projectRole: ProjectRole | null },
): Promise<EnvironmentPermission | null> {
  return permissionFrom(actor, subject, await grantsFor(db, actor, env));
}

/** The environment's grants and the actor's teams: what an environment permission is decided from. */
async function grantsFor(db: Executor, actor: Actor, env: Pick<EnvironmentRow, "id">) {
  const [grants, teams] = await Promise.all([
    db.select().from(environmentGrants).where(eq(environmentGrants.environmentId, env.id)),
    db.select({ teamId: teamMembers.teamId }).from(teamMembers).where(eq(teamMembers.userId, actor.user.id)),
  ]);
  return { grants, teamIds: teams.map((t) => t.teamId) };
}

function permissionFrom(
  actor: Actor,
  subject: { orgRole: OrgRole | null; projectRole: ProjectRole | null },
  { grants, teamIds }: Awaited<ReturnType<typeof grantsFor>>,
): EnvironmentPermission | null {
  const mine = grants.filter(
    (g) =>
      (g.subjectType === "user" && g.subjectId === actor.user.id) ||
      (g.subjectType === "team" && teamIds.includes(g.subjectId)),
  );
  return environmentPermission({
    isPlatformAdmin: actor.user.isPlatformAdmin,
    orgRole: subject.orgRole,
    projectRole: subject.projectRole,
    grants: mine.map((g) => g.permission),
    environmentHasGrants: grants.length > 0,
  });
}

/** Loads the environment and its project, checks project visibility, then `action` on the environment. */
export async function authorizeEnvironment(
  db: Executor,
  actor: Actor,
  action: Action,
  environmentId: string,
  draft?: AuditDraft,
) {
  const [env] = await db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env) throw new NotFoundError("Environment");
  const isDeployAction = action === "deployment.create" || action === "deployment.approve";
  // Project-level actions (environment.manage, repository.manage) are decided by authorizeProject itself.
  // The environment's grants are read alongside the project check (independent reads).
  const grantsRead = grantsFor(db, actor, env);
  grantsRead.catch(() => {}); // awaited below unless the project check throws first
  const { project, subject } = await authorizeProject(
    db,
    actor,
    isDeployAction ? "project.read" : action,
    env.projectId,
    draft,
  ).catch((err: unknown) => {
    // Hidden from an outsider as a missing project, but the denial names what the action needs (as for
    // project actions), not the read access it was checked with.
    if (isDeployAction && err instanceof ConcealedDenialError) {
      const d = decide({ isPlatformAdmin: false, orgRole: null, environmentPermission: null }, action);
      if (!d.allowed) throw new ConcealedDenialError("Project", d);
    }
    throw err;
  });
  if (draft) draft.resourceId ??= env.id;
  const permission = permissionFrom(
    actor,
    { orgRole: subject.orgRole, projectRole: subject.projectRole ?? null },
    await grantsRead,
  );
  if (isDeployAction) {
    const d = decide({ ...subject, environmentPermission: permission }, action);
    if (!d.allowed) throw deniedError(d);
  }
  return { env, project, subject, permission };
}

/**
 * Users who may approve a deployment to this environment (deploy or admin permission). `env` may be one
 * not saved yet (its id then matches no grant): the project's members decide.
 */
export async function eligibleApprovers(
  db: Executor,
  env: Pick<EnvironmentRow, "id" | "projectId">,
): Promise<string[]> {
  const [project] = await db.select().from(projects).where(eq(projects.id, env.projectId));
  if (!project) return [];
  // Candidates: project members, members of teams granted on the project, explicitly granted users/teams.
  const grants = await db.select().from(environmentGrants).where(eq(environmentGrants.environmentId, env.id));
  const grantTeamIds = grants.filter((g) => g.subjectType === "team").map((g) => g.subjectId);
  const rows = await db.selectDistinct({ userId: sql<string>`u.user_id` }).from(
    sql`(
        select pm.user_id from ${projectMembers} pm where pm.project_id = ${project.id}
        union select tm.user_id from ${projectTeamGrants} g join ${teamMembers} tm on tm.team_id = g.team_id
          where g.project_id = ${project.id}
        union select om.user_id from organization_members om where om.organization_id = ${project.organizationId} and om.role = 'admin'
      ) u`,
  );
  const candidates = new Set(rows.map((r) => r.userId));
  for (const g of grants) if (g.subjectType === "user") candidates.add(g.subjectId);
  if (grantTeamIds.length) {
    const members = await db
      .select({ userId: teamMembers.userId })
      .from(teamMembers)
      .where(inArray(teamMembers.teamId, grantTeamIds));
    for (const m of members) candidates.add(m.userId);
  }
  const out: string[] = [];
  for (const userId of candidates) {
    const orgRole = await orgRoleOf(db, project.organizationId, userId);
    const projectRole = await effectiveProjectRole(db, project.id, userId);
    const actor: Actor = { user: { id: userId, username: "", isPlatformAdmin: false }, ip: null, userAgent: null };
    const p = await environmentPermissionOf(db, actor, env, { orgRole, projectRole });
    if (p === "deploy" || p === "admin") out.push(userId);
  }
  return out;
}
