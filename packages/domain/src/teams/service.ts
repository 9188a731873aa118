import type { Team, TeamRole } from "@juanie/contracts";
import { organizationMembers, organizations, teamMembers, teams, users } from "@juanie/db";
import { and, asc, eq, sql } from "drizzle-orm";
import { authorizeOrg, authorizeTeam } from "../access/authorize.ts";
import type { Subject } from "../access/policy.ts";
import { diffFields } from "../audit/record.ts";
import { toUserSummary } from "../auth/users.ts";
import { notify } from "../notifications/service.ts";
import type { Actor, Deps } from "../shared/deps.ts";
import { ConflictError, ForbiddenError, InputError, isUniqueViolation, NotFoundError } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";

const memberCount = sql<number>`(select count(*)::int from ${teamMembers} tm where tm.team_id = ${teams.id})`;

function toTeam(t: typeof teams.$inferSelect, memberCount: number, myRole: TeamRole | null): Team {
  return {
    id: t.id,
    organizationId: t.organizationId,
    slug: t.slug,
    name: t.name,
    description: t.description,
    memberCount,
    myRole,
    createdAt: t.createdAt.toISOString(),
  };
}

async function teamsWhere(deps: Pick<Deps, "db">, actor: Actor, where: ReturnType<typeof eq>) {
  const rows = await deps.db
    .select({ t: teams, memberCount, myRole: teamMembers.role })
    .from(teams)
    .leftJoin(teamMembers, and(eq(teamMembers.teamId, teams.id), eq(teamMembers.userId, actor.user.id)))
    .where(where)
    .orderBy(asc(teams.name));
  return rows.map((r) => toTeam(r.t, r.memberCount, r.myRole ?? null));
}

/**
 * Only a team owner (or an organization admin) may hand out or take away the owner role: otherwise a
 * maintainer could promote themselves and then do what only owners may (delete the team).
 */
function guardTeamOwnerRole(subject: Subject, roles: (TeamRole | undefined)[]) {
  if (!roles.includes("owner")) return;
  if (subject.isPlatformAdmin || subject.orgRole === "admin" || subject.teamRole === "owner") return;
  throw new ForbiddenError(
    "Forbidden: granting or removing the team owner role requires team owner",
    "team owner",
  ).because("teams.owner_role");
}

export async function listTeams(deps: Pick<Deps, "db">, actor: Actor, organizationId: string): Promise<Team[]> {
  await authorizeOrg(deps.db, actor, "team.read", organizationId);
  return teamsWhere(deps, actor, eq(teams.organizationId, organizationId));
}

export async function getTeamBySlug(
  deps: Pick<Deps, "db">,
  actor: Actor,
  input: { organizationId: string; slug: string },
) {
  await authorizeOrg(deps.db, actor, "team.read", input.organizationId);
  const [team] = await teamsWhere(
    deps,
    actor,
    and(eq(teams.organizationId, input.organizationId), eq(teams.slug, input.slug)) as ReturnType<typeof eq>,
  );
  if (!team) throw new NotFoundError("Team");
  return team;
}

export async function createTeam(
  deps: Deps,
  actor: Actor,
  input: { organizationId: string; name: string; slug: string; description: string },
): Promise<Team> {
  return mutate(deps, { actor }, { action: "team.create", resourceType: "team" }, async (tx, audit) => {
    await authorizeOrg(tx, actor, "team.create", input.organizationId, audit);
    const conflict = () =>
      new ConflictError(`Team slug "${input.slug}" is already taken`, { slug: ["is already taken"] });
    const [taken] = await tx
      .select({ id: teams.id })
      .from(teams)
      .where(and(eq(teams.organizationId, input.organizationId), eq(teams.slug, input.slug)));
    if (taken) throw conflict();
    const [team] = await tx
      .insert(teams)
      .values(input)
      .returning()
      .catch((err: unknown) => {
        throw isUniqueViolation(err) ? conflict() : err;
      });
    audit.resourceId = team!.id;
    audit.changes = { after: { name: team!.name, slug: team!.slug, description: team!.description } };
    return toTeam(team!, 0, null);
  });
}

export async function updateTeam(
  deps: Deps,
  actor: Actor,
  input: { teamId: string; name: string; description: string },
): Promise<Team> {
  return mutate(deps, { actor }, { action: "team.update", resourceType: "team" }, async (tx, audit) => {
    const { team } = await authorizeTeam(tx, actor, "team.update", input.teamId, audit);
    const patch = { name: input.name, description: input.description };
    await tx
      .update(teams)
      .set({ ...patch, updatedAt: deps.clock.now() })
      .where(eq(teams.id, team.id));
    audit.changes = diffFields(team, patch);
    const [updated] = await teamsWhere({ db: tx }, actor, eq(teams.id, team.id));
    return updated!;
  });
}

export async function deleteTeam(deps: Deps, actor: Actor, teamId: string): Promise<void> {
  await mutate(deps, { actor }, { action: "team.delete", resourceType: "team" }, async (tx, audit) => {
    const { team } = await authorizeTeam(tx, actor, "team.delete", teamId, audit);
    await tx.delete(teams).where(eq(teams.id, team.id));
    audit.changes = { before: { name: team.name, slug: team.slug } };
  });
}

export async function listTeamMembers(deps: Pick<Deps, "db">, actor: Actor, teamId: string) {
  await authorizeTeam(deps.db, actor, "team.read", teamId);
  const rows = await deps.db
    .select({ u: users, role: teamMembers.role, joinedAt: teamMembers.createdAt })
    .from(teamMembers)
    .innerJoin(users, eq(users.id, teamMembers.userId))
    .where(eq(teamMembers.teamId, teamId))
    .orderBy(asc(users.username));
  return rows.map((r) => ({ user: toUserSummary(r.u), role: r.role, joinedAt: r.joinedAt.toISOString() }));
}

export async function addTeamMember(
  deps: Deps,
  actor: Actor,
  input: { teamId: string; userId: string; role: TeamRole },
): Promise<void> {
  await mutate(deps, { actor }, { action: "team.member.add", resourceType: "team" }, async (tx, audit) => {
    const { team, subject } = await authorizeTeam(tx, actor, "team.member.manage", input.teamId, audit);
    guardTeamOwnerRole(subject, [input.role]);
    const [inOrg] = await tx
      .select()
      .from(organizationMembers)
      .where(
        and(eq(organizationMembers.organizationId, team.organizationId), eq(organizationMembers.userId, input.userId)),
      );
    if (!inOrg) throw InputError.field("userId", "must be a member of the organization");
    const [existing] = await tx
      .select()
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, team.id), eq(teamMembers.userId, input.userId)));
    if (existing) throw new ConflictError("Already a member of this team", { userId: ["is already a member"] });
    await tx.insert(teamMembers).values({ teamId: team.id, userId: input.userId, role: input.role });
    audit.changes = { after: { userId: input.userId, role: input.role } };
    const [org] = await tx.select().from(organizations).where(eq(organizations.id, team.organizationId));
    await notify(
      tx,
      input.userId,
      "team.added",
      { teamName: team.name, organizationSlug: org!.slug, role: input.role },
      `/orgs/${org!.slug}/teams/${team.slug}`,
    );
  });
}

export async function changeTeamMemberRole(
  deps: Deps,
  actor: Actor,
  input: { teamId: string; userId: string; role: TeamRole },
): Promise<void> {
  await mutate(deps, { actor }, { action: "team.member.change_role", resourceType: "team" }, async (tx, audit) => {
    const { team, subject } = await authorizeTeam(tx, actor, "team.member.manage", input.teamId, audit);
    const [m] = await tx
      .select()
      .from(teamMembers)
      .where(and(eq(teamMembers.teamId, team.id), eq(teamMembers.userId, input.userId)));
    if (!m) throw new NotFoundError("Team member");
    guardTeamOwnerRole(subject, [m.role, input.role]);
    await tx
      .update(teamMembers)
      .set({ role: input.role })
      .where(and(eq(teamMembers.teamId, team.id), eq(teamMembers.userId, input.userId)));
    audit.changes = {
      before: { userId: input.userId, role: m.role },
      after: { userId: input.userId, role: input.role },
    };
  });
}

export async function removeTeamMember(deps: Deps, actor: Actor, input: { teamId: string; userId: string }) {
  await mutate(deps, { actor }, { action: "team.member.remove", resourceType: "team" }, async (tx, audit) => {
    const { team, subject } = await authorizeTeam(tx, actor, "team.member.manage", input.teamId, audit);
    const [m] = await tx
      .delete(teamMembers)
      .where(and(eq(teamMembers.teamId, team.id), eq(teamMembers.userId, input.userId)))
      .returning();
    if (!m) throw new NotFoundError("Team member");
    // Checked after the delete: a refusal rolls the transaction back.
    guardTeamOwnerRole(subject, [m.role]);
    audit.changes = { before: { userId: input.userId, role: m.role } };
  });
}
