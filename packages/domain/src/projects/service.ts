import type { Project, ProjectRole, ProjectStatus, ProjectVisibility } from "@juanie/contracts";
import {
  type Executor,
  organizationMembers,
  organizations,
  projectMembers,
  projects,
  projectTeamGrants,
  teamMembers,
  teams,
  users,
} from "@juanie/db";
import { and, asc, desc, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import { authorizeOrg, authorizeProject } from "../access/authorize.ts";
import { projectRoleAtLeast } from "../access/policy.ts";
import { diffFields } from "../audit/record.ts";
import { toUserSummary } from "../auth/users.ts";
import { enqueueJob } from "../jobs/queue.ts";
import { notify } from "../notifications/service.ts";
import { afterCursor, decodeCursor, pageOf } from "../shared/cursor.ts";
import type { Actor, Deps } from "../shared/deps.ts";
import { ConflictError, ForbiddenError, InputError, isUniqueViolation, NotFoundError } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";
import { type ProjectEvent, transitionProject } from "./lifecycle.ts";

/** Effective role of a user on each project row: enum order makes min() the highest role. */
function myRoleSql(userId: string): SQL<ProjectRole | null> {
  return sql<ProjectRole | null>`(select min(r) from (
    select pm.role as r from ${projectMembers} pm where pm.project_id = ${projects.id} and pm.user_id = ${userId}
    union all
    select g.role from ${projectTeamGrants} g join ${teamMembers} tm on tm.team_id = g.team_id
      where g.project_id = ${projects.id} and tm.user_id = ${userId}
  ) roles)`;
}

/** Projects the actor may see: by visibility, membership, team grant or organization admin. */
function visibleTo(actor: Actor): SQL | undefined {
  if (actor.user.isPlatformAdmin) return undefined;
  const uid = actor.user.id;
  return sql`(
    ${projects.visibility} = 'public'
    or exists (select 1 from ${organizationMembers} om where om.organization_id = ${projects.organizationId}
               and om.user_id = ${uid} and (om.role = 'admin' or ${projects.visibility} = 'internal'))
    or exists (select 1 from ${projectMembers} pm where pm.project_id = ${projects.id} and pm.user_id = ${uid})
    or exists (select 1 from ${projectTeamGrants} g join ${teamMembers} tm on tm.team_id = g.team_id
               where g.project_id = ${projects.id} and tm.user_id = ${uid})
  )`;
}

function projectQuery(db: Executor, actor: Actor) {
  return db
    .select({ p: projects, orgSlug: organizations.slug, myRole: myRoleSql(actor.user.id) })
    .from(projects)
    .innerJoin(organizations, eq(organizations.id, projects.organizationId));
}

function toProject(r: { p: typeof projects.$inferSelect; orgSlug: string; myRole: ProjectRole | null }): Project {
  return {
    id: r.p.id,
    organizationId: r.p.organizationId,
    organizationSlug: r.orgSlug,
    slug: r.p.slug,
    name: r.p.name,
    description: r.p.description,
    visibility: r.p.visibility,
    status: r.p.status,
    myRole: r.myRole,
    createdAt: r.p.createdAt.toISOString(),
    updatedAt: r.p.updatedAt.toISOString(),
  };
}

export async function listProjects(
  deps: Pick<Deps, "db">,
  actor: Actor,
  input: { organizationId?: string; status?: ProjectStatus; search?: string; cursor?: string | null; limit: number },
) {
  if (input.organizationId) await authorizeOrg(deps.db, actor, "org.read", input.organizationId);
  const cursor = decodeCursor(input.cursor);
  const pattern = input.search ? `%${input.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const rows = await projectQuery(deps.db, actor)
    .where(
      and(
        visibleTo(actor),
        input.organizationId ? eq(projects.organizationId, input.organizationId) : undefined,
        input.status ? eq(projects.status, input.status) : undefined,
        pattern ? or(ilike(projects.name, pattern), ilike(projects.slug, pattern)) : undefined,
        afterCursor(projects, projects.createdAt, projects.id, cursor),
      ),
    )
    .orderBy(desc(projects.createdAt), desc(projects.id))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, toProject, (r) => r.p.id);
}

async function loadProject(db: Executor, actor: Actor, projectId: string): Promise<Project> {
  const [row] = await projectQuery(db, actor).where(eq(projects.id, projectId));
  if (!row) throw new NotFoundError("Project");
  return toProject(row);
}

export async function getProjectBySlug(
  deps: Pick<Deps, "db">,
  actor: Actor,
  input: { organizationSlug: string; slug: string },
): Promise<Project> {
  const [row] = await deps.db
    .select({ id: projects.id })
    .from(projects)
    .innerJoin(organizations, eq(organizations.id, projects.organizationId))
    .where(and(eq(organizations.slug, input.organizationSlug), eq(projects.slug, input.slug)));
  if (!row) throw new NotFoundError("Project");
  await authorizeProject(deps.db, actor, "project.read", row.id);
  return loadProject(deps.db, actor, row.id);
}

export async function createProject(
  deps: Deps,
  actor: Actor,
  input: { organizationId: string; name: string; slug: string; description: string; visibility: ProjectVisibility },
): Promise<Project> {
  return mutate(deps, { actor }, { action: "project.create", resourceType: "project" }, async (tx, audit) => {
    await authorizeOrg(tx, actor, "project.create", input.organizationId, audit);
    const conflict = () =>
      new ConflictError(`Project slug "${input.slug}" is already taken in this organization`, {
        slug: ["is already taken"],
      });
    const [taken] = await tx
      .select({ id: projects.id })
      .from(projects)
      .where(and(eq(projects.organizationId, input.organizationId), eq(projects.slug, input.slug)));
    if (taken) throw conflict();
    const [p] = await tx
      .insert(projects)
      .values({ ...input, status: "initializing", createdById: actor.user.id })
      .returning()
      .catch((err: unknown) => {
        throw isUniqueViolation(err) ? conflict() : err;
      });
    await tx.insert(projectMembers).values({ projectId: p!.id, userId: actor.user.id, role: "owner" });
    audit.resourceId = p!.id;
    audit.projectId = p!.id;
    audit.changes = {
      after: {
        name: p!.name,
        slug: p!.slug,
        visibility: p!.visibility,
        description: p!.description,
        status: p!.status,
      },
    };
    await enqueueJob(tx, "project.initialize", { projectId: p!.id }, { jobKey: `project.initialize:${p!.id}` });
    return loadProject(tx, actor, p!.id);
  });
}

export async function updateProject(
  deps: Deps,
  actor: Actor,
  input: { projectId: string; name: string; description: string; visibility: ProjectVisibility },
): Promise<Project> {
  return mutate(deps, { actor }, { action: "project.update", resourceType: "project" }, async (tx, audit) => {
    const { project } = await authorizeProject(tx, actor, "project.update", input.projectId, audit);
    const patch = { name: input.name, description: input.description, visibility: input.visibility };
    await tx
      .update(projects)
      .set({ ...patch, updatedAt: deps.clock.now() })
      .where(eq(projects.id, project.id));
    audit.changes = diffFields(project, patch);
    return loadProject(tx, actor, project.id);
  });
}

/** Applies a lifecycle event through the pure state machine. */
async function transition(deps: Deps, actor: Actor, projectId: string, event: Exclude<ProjectEvent, "activate">) {
  return mutate(deps, { actor }, { action: `project.${event}`, resourceType: "project" }, async (tx, audit) => {
    const { project } = await authorizeProject(tx, actor, "project.archive", projectId, audit);
    const t = transitionProject(project.status, event);
    if (!t.ok) throw InputError.field("status", t.error);
    await tx.update(projects).set({ status: t.to, updatedAt: deps.clock.now() }).where(eq(projects.id, project.id));
    audit.changes = { before: { status: project.status }, after: { status: t.to } };
    return loadProject(tx, actor, project.id);
  });
}

export const archiveProject = (deps: Deps, actor: Actor, projectId: string) =>
  transition(deps, actor, projectId, "archive");
export const restoreProject = (deps: Deps, actor: Actor, projectId: string) =>
  transition(deps, actor, projectId, "restore");

/** Job: finishes setting a new project up and makes it active. Idempotent. */
export async function initializeProject(deps: Deps, projectId: string): Promise<void> {
  await mutate(
    deps,
    { origin: { ip: null, userAgent: null }, actorLabel: "system" },
    { action: "project.activate", resourceType: "project" },
    async (tx, audit) => {
      const [project] = await tx.select().from(projects).where(eq(projects.id, projectId)).for("update");
      if (project?.status !== "initializing") {
        audit.unchanged = true;
        return;
      }
      audit.resourceId = project.id;
      audit.projectId = project.id;
      audit.organizationId = project.organizationId;
      const t = transitionProject(project.status, "activate");
      if (!t.ok) return;
      await tx.update(projects).set({ status: t.to, updatedAt: deps.clock.now() }).where(eq(projects.id, project.id));
      audit.changes = { before: { status: project.status }, after: { status: t.to } };
    },
  );
}

export async function getProjectAccess(deps: Pick<Deps, "db">, actor: Actor, projectId: string) {
  await authorizeProject(deps.db, actor, "project.read", projectId);
  const members = await deps.db
    .select({ u: users, role: projectMembers.role, addedAt: projectMembers.createdAt })
    .from(projectMembers)
    .innerJoin(users, eq(users.id, projectMembers.userId))
    .where(eq(projectMembers.projectId, projectId))
    .orderBy(asc(projectMembers.role), asc(users.username));
  const grants = await deps.db
    .select({ t: teams, role: projectTeamGrants.role, addedAt: projectTeamGrants.createdAt })
    .from(projectTeamGrants)
    .innerJoin(teams, eq(teams.id, projectTeamGrants.teamId))
    .where(eq(projectTeamGrants.projectId, projectId))
    .orderBy(asc(teams.name));
  return {
    members: members.map((m) => ({ user: toUserSummary(m.u), role: m.role, addedAt: m.addedAt.toISOString() })),
    teams: grants.map((g) => ({
      team: { id: g.t.id, slug: g.t.slug, name: g.t.name },
      role: g.role,
      addedAt: g.addedAt.toISOString(),
    })),
  };
}

/** Only an owner (or organization admin) may hand out or take away the owner role. */
function guardOwnerRole(
  subject: { orgRole: string | null; isPlatformAdmin: boolean; projectRole?: ProjectRole | null },
  roles: (ProjectRole | undefined)[],
) {
  if (!roles.includes("owner")) return;
  if (subject.isPlatformAdmin || subject.orgRole === "admin" || projectRoleAtLeast(subject.projectRole, "owner"))
    return;
  throw new ForbiddenError(
    "Forbidden: granting or removing the owner role requires project owner",
    "project owner",
  ).because("projects.owner_role");
}

async function ownerCount(tx: Executor, projectId: string): Promise<number> {
  const owners = await tx
    .select({ userId: projectMembers.userId })
    .from(projectMembers)
    .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.role, "owner")))
    .for("update");
  return owners.length;
}

async function notifyProjectRole(
  tx: Executor,
  project: typeof projects.$inferSelect,
  userId: string,
  role: ProjectRole,
) {
  const [org] = await tx.select().from(organizations).where(eq(organizations.id, project.organizationId));
  await notify(
    tx,
    userId,
    "project.role_changed",
    { projectId: project.id, projectName: project.name, organizationSlug: org!.slug, projectSlug: project.slug, role },
    `/orgs/${org!.slug}/projects/${project.slug}`,
  );
}

export async function addProjectMember(
  deps: Deps,
  actor: Actor,
  input: { projectId: string; userId: string; role: ProjectRole },
): Promise<void> {
  await mutate(deps, { actor }, { action: "project.member.add", resourceType: "project" }, async (tx, audit) => {
    const { project, subject } = await authorizeProject(tx, actor, "project.member.manage", input.projectId, audit);
    guardOwnerRole(subject, [input.role]);
    const [inOrg] = await tx
      .select()
      .from(organizationMembers)
      .where(
        and(
          eq(organizationMembers.organizationId, project.organizationId),
          eq(organizationMembers.userId, input.userId),
        ),
      );
    if (!inOrg) throw InputError.field("userId", "must be a member of the project's organization");
    const [existing] = await tx
      .select()
      .from(projectMembers)
      .where(and(eq(projectMembers.projectId, project.id), eq(projectMembers.userId, input.userId)));
    if (existing) throw new ConflictError("Already a member of this project", { userId: ["is already a member"] });
    await tx.insert(projectMembers).values({ projectId: project.id, userId: input.userId, role: input.role });
    audit.changes = { after: { userId: input.userId, role: input.role } };
    await notifyProjectRole(tx, project, input.userId, input.role);
  });
}

export async function changeProjectMemberRole(
  deps: Deps,
  actor: Actor,
  input: { projectId: string; userId: string; role: ProjectRole },
): Promise<void> {
  await mutate(
    deps,
    { actor },
    { action: "project.member.change_role", resourceType: "project" },
    async (tx, audit) => {
      const { project, subject } = await authorizeProject(tx, actor, "project.member.manage", input.projectId, audit);
      const [m] = await tx
        .select()
        .from(projectMembers)
        .where(and(eq(projectMembers.projectId, project.id), eq(projectMembers.userId, input.userId)));
      if (!m) throw new NotFoundError("Project member");
      if (m.role === input.role) {
        audit.unchanged = true;
        return;
      }
      guardOwnerRole(subject, [m.role, input.role]);
      if (m.role === "owner" && (await ownerCount(tx, project.id)) <= 1) {
        throw InputError.field("role", "cannot be changed: this is the project's last owner");
      }
      await tx
        .update(projectMembers)
        .set({ role: input.role })
        .where(and(eq(projectMembers.projectId, project.id), eq(projectMembers.userId, input.userId)));
      audit.changes = {
        before: { userId: input.userId, role: m.role },
        after: { userId: input.userId, role: input.role },
      };
      await notifyProjectRole(tx, project, input.userId, input.role);
    },
  );
}

export async function removeProjectMember(deps: Deps, actor: Actor, input: { projectId: string; userId: string }) {
  await mutate(deps, { actor }, { action: "project.member.remove", resourceType: "project" }, async (tx, audit) => {
    const { project, subject } = await authorizeProject(tx, actor, "project.member.manage", input.projectId, audit);
    const [m] = await tx
      .select()
      .from(projectMembers)
      .where(and(eq(projectMembers.projectId, project.id), eq(projectMembers.userId, input.userId)));
    if (!m) throw new NotFoundError("Project member");
    guardOwnerRole(subject, [m.role]);
    if (m.role === "owner" && (await ownerCount(tx, project.id)) <= 1) {
      throw InputError.field("userId", "is the project's last owner and cannot be removed");
    }
    await tx
      .delete(projectMembers)
      .where(and(eq(projectMembers.projectId, project.id), eq(projectMembers.userId, input.userId)));
    audit.changes = { before: { userId: input.userId, role: m.role } };
  });
}

export async function grantProjectToTeam(
  deps: Deps,
  actor: Actor,
  input: { projectId: string; teamId: string; role: ProjectRole },
): Promise<void> {
  await mutate(deps, { actor }, { action: "project.team.grant", resourceType: "project" }, async (tx, audit) => {
    const { project, subject } = await authorizeProject(tx, actor, "project.team.manage", input.projectId, audit);
    guardOwnerRole(subject, [input.role]);
    const [team] = await tx.select().from(teams).where(eq(teams.id, input.teamId));
    if (!team || team.organizationId !== project.organizationId) {
      throw InputError.field("teamId", "must be a team of the project's organization");
    }
    const [before] = await tx
      .select()
      .from(projectTeamGrants)
      .where(and(eq(projectTeamGrants.projectId, project.id), eq(projectTeamGrants.teamId, team.id)));
    if (before) guardOwnerRole(subject, [before.role]);
    await tx
      .insert(projectTeamGrants)
      .values({ projectId: project.id, teamId: team.id, role: input.role })
      .onConflictDoUpdate({
        target: [projectTeamGrants.projectId, projectTeamGrants.teamId],
        set: { role: input.role },
      });
    audit.changes = {
      before: before ? { team: team.slug, role: before.role } : undefined,
      after: { team: team.slug, role: input.role },
    };
  });
}

export async function revokeProjectFromTeam(deps: Deps, actor: Actor, input: { projectId: string; teamId: string }) {
  await mutate(deps, { actor }, { action: "project.team.revoke", resourceType: "project" }, async (tx, audit) => {
    const { project, subject } = await authorizeProject(tx, actor, "project.team.manage", input.projectId, audit);
    const [grant] = await tx
      .select()
      .from(projectTeamGrants)
      .where(and(eq(projectTeamGrants.projectId, project.id), eq(projectTeamGrants.teamId, input.teamId)));
    if (!grant) throw new NotFoundError("Team grant");
    guardOwnerRole(subject, [grant.role]);
    await tx
      .delete(projectTeamGrants)
      .where(and(eq(projectTeamGrants.projectId, project.id), eq(projectTeamGrants.teamId, input.teamId)));
    audit.changes = { before: { teamId: input.teamId, role: grant.role } };
  });
}
