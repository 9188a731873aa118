import type { ProjectRole } from "@juanie/contracts";
import {
  type Executor,
  organizationMembers,
  projectMembers,
  projects,
  projectTeamGrants,
  teamMembers,
  teams,
} from "@juanie/db";
import { and, eq } from "drizzle-orm";
import type { Actor } from "../shared/deps.ts";
import { ConcealedDenialError, deniedError, NotFoundError } from "../shared/errors.ts";
import type { AuditDraft } from "../shared/mutation.ts";
import { type Action, type Decision, decide, highestProjectRole, type Subject } from "./policy.ts";

export async function orgRoleOf(db: Executor, organizationId: string, userId: string) {
  const [m] = await db
    .select({ role: organizationMembers.role })
    .from(organizationMembers)
    .where(and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, userId)));
  return m?.role ?? null;
}

export async function effectiveProjectRole(
  db: Executor,
  projectId: string,
  userId: string,
): Promise<ProjectRole | null> {
  // Independent reads, run at once (on a transaction's single connection they simply queue).
  const [direct, viaTeams] = await Promise.all([
    db
      .select({ role: projectMembers.role })
      .from(projectMembers)
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, userId))),
    db
      .select({ role: projectTeamGrants.role })
      .from(projectTeamGrants)
      .innerJoin(teamMembers, eq(teamMembers.teamId, projectTeamGrants.teamId))
      .where(and(eq(projectTeamGrants.projectId, projectId), eq(teamMembers.userId, userId))),
  ]);
  return highestProjectRole([...direct, ...viaTeams].map((r) => r.role));
}

function enforce(subject: Subject, action: Action): void {
  const d = decide(subject, action);
  if (!d.allowed) {
    throw deniedError(d);
  }
}

/** Outsiders are told the resource is missing; the first denial among `decisions` is what the audit log records. */
function conceal(what: string, ...decisions: Decision[]): ConcealedDenialError {
  for (const d of decisions) if (!d.allowed) return new ConcealedDenialError(what, d);
  return new ConcealedDenialError(what, { requiredRole: "organization member", reason: `${what} is not visible` });
}

/** Loads the actor's role in the organization, asks the policy, throws ForbiddenError on deny. */
export async function authorizeOrg(
  db: Executor,
  actor: Actor,
  action: Action,
  organizationId: string,
  draft?: AuditDraft,
): Promise<Subject> {
  if (draft) draft.organizationId = organizationId;
  const subject: Subject = {
    isPlatformAdmin: actor.user.isPlatformAdmin,
    orgRole: await orgRoleOf(db, organizationId, actor.user.id),
  };
  // Non-members learn nothing about an organization, not even that it exists, whatever they attempt.
  if (!subject.orgRole && !subject.isPlatformAdmin) throw conceal("Organization", decide(subject, action));
  enforce(subject, action);
  return subject;
}

export async function authorizeTeam(db: Executor, actor: Actor, action: Action, teamId: string, draft?: AuditDraft) {
  const [team] = await db.select().from(teams).where(eq(teams.id, teamId));
  if (!team) throw new NotFoundError("Team");
  if (draft) {
    draft.organizationId = team.organizationId;
    draft.resourceId ??= team.id;
  }
  const orgRole = await orgRoleOf(db, team.organizationId, actor.user.id);
  if (!orgRole && !actor.user.isPlatformAdmin) {
    const outsider: Subject = { isPlatformAdmin: false, orgRole: null, teamRole: null };
    throw conceal("Team", decide(outsider, action), decide(outsider, "team.read"));
  }
  const [tm] = await db
    .select({ role: teamMembers.role })
    .from(teamMembers)
    .where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, actor.user.id)));
  const subject: Subject = { isPlatformAdmin: actor.user.isPlatformAdmin, orgRole, teamRole: tm?.role ?? null };
  enforce(subject, action);
  return { team, subject };
}

export async function authorizeProject(
  db: Executor,
  actor: Actor,
  action: Action,
  projectId: string,
  draft?: AuditDraft,
) {
  const [project] = await db.select().from(projects).where(eq(projects.id, projectId));
  if (!project) throw new NotFoundError("Project");
  if (draft) {
    draft.organizationId = project.organizationId;
    draft.projectId = project.id;
    draft.resourceId ??= project.id;
  }
  const [orgRole, projectRole] = await Promise.all([
    orgRoleOf(db, project.organizationId, actor.user.id),
    effectiveProjectRole(db, project.id, actor.user.id),
  ]);
  const subject: Subject = {
    isPlatformAdmin: actor.user.isPlatformAdmin,
    orgRole,
    projectRole,
    projectVisibility: project.visibility,
  };
  // A project the actor may not even read is reported as missing.
  const read = decide(subject, "project.read");
  if (!read.allowed) throw conceal("Project", decide(subject, action), read);
  enforce(subject, action);
  return { project, subject };
}
