import type { Organization, OrgRole } from "@juanie/contracts";
import {
  type Executor,
  organizationMembers,
  organizations,
  projectMembers,
  projects,
  teamMembers,
  teams,
  users,
} from "@juanie/db";
import { and, asc, eq, sql } from "drizzle-orm";
import { authorizeOrg } from "../access/authorize.ts";
import { diffFields } from "../audit/record.ts";
import { toUserSummary } from "../auth/users.ts";
import { notify } from "../notifications/service.ts";
import type { Actor, Deps } from "../shared/deps.ts";
import { ConflictError, InputError, isUniqueViolation, NotFoundError } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";

type OrgRow = typeof organizations.$inferSelect;

const memberCount = sql<number>`(select count(*)::int from ${organizationMembers} m where m.organization_id = ${organizations.id})`;
const projectCount = sql<number>`(select count(*)::int from ${projects} p where p.organization_id = ${organizations.id})`;
const teamCount = sql<number>`(select count(*)::int from ${teams} t where t.organization_id = ${organizations.id})`;

function toOrganization(
  o: OrgRow,
  extra: { myRole: OrgRole | null; memberCount: number; projectCount: number; teamCount: number },
): Organization {
  return {
    id: o.id,
    slug: o.slug,
    name: o.name,
    displayName: o.displayName,
    createdAt: o.createdAt.toISOString(),
    ...extra,
  };
}

/** Organizations the actor belongs to (all of them for a platform administrator). */
export async function listOrganizations(deps: Pick<Deps, "db">, actor: Actor): Promise<Organization[]> {
  const rows = await deps.db
    .select({ o: organizations, myRole: organizationMembers.role, memberCount, projectCount, teamCount })
    .from(organizations)
    .leftJoin(
      organizationMembers,
      and(eq(organizationMembers.organizationId, organizations.id), eq(organizationMembers.userId, actor.user.id)),
    )
    .where(actor.user.isPlatformAdmin ? undefined : sql`${organizationMembers.userId} is not null`)
    .orderBy(asc(organizations.name));
  return rows.map((r) => toOrganization(r.o, { ...r, myRole: r.myRole ?? null }));
}

export async function getOrganizationBySlug(deps: Pick<Deps, "db">, actor: Actor, slug: string): Promise<Organization> {
  const [row] = await deps.db
    .select({ o: organizations, memberCount, projectCount, teamCount })
    .from(organizations)
    .where(eq(organizations.slug, slug));
  if (!row) throw new NotFoundError("Organization");
  const subject = await authorizeOrg(deps.db, actor, "org.read", row.o.id);
  return toOrganization(row.o, { ...row, myRole: subject.orgRole });
}

export async function createOrganization(
  deps: Deps,
  actor: Actor,
  input: { name: string; slug: string; displayName?: string | null },
): Promise<Organization> {
  return mutate(deps, { actor }, { action: "org.create", resourceType: "organization" }, async (tx, audit) => {
    const [taken] = await tx
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.slug, input.slug));
    if (taken) throw new ConflictError(`Slug "${input.slug}" is already taken`, { slug: ["is already taken"] });
    let org: OrgRow;
    try {
      [org] = (await tx
        .insert(organizations)
        .values({ name: input.name, slug: input.slug, displayName: input.displayName || null })
        .returning()) as [OrgRow];
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ConflictError(`Slug "${input.slug}" is already taken`, { slug: ["is already taken"] });
      throw err;
    }
    await tx.insert(organizationMembers).values({ organizationId: org.id, userId: actor.user.id, role: "admin" });
    audit.resourceId = org.id;
    audit.organizationId = org.id;
    audit.changes = { after: { name: org.name, slug: org.slug, displayName: org.displayName } };
    return toOrganization(org, { myRole: "admin", memberCount: 1, projectCount: 0, teamCount: 0 });
  });
}

export async function updateOrganization(
  deps: Deps,
  actor: Actor,
  input: { organizationId: string; name: string; displayName?: string | null },
): Promise<Organization> {
  return mutate(deps, { actor }, { action: "org.update", resourceType: "organization" }, async (tx, audit) => {
    audit.resourceId = input.organizationId;
    const subject = await authorizeOrg(tx, actor, "org.update", input.organizationId, audit);
    const [before] = await tx.select().from(organizations).where(eq(organizations.id, input.organizationId));
    if (!before) throw new NotFoundError("Organization");
    const patch = { name: input.name, displayName: input.displayName || null };
    await tx
      .update(organizations)
      .set({ ...patch, updatedAt: deps.clock.now() })
      .where(eq(organizations.id, before.id));
    audit.changes = diffFields(before, patch);
    const [row] = await tx
      .select({ o: organizations, memberCount, projectCount, teamCount })
      .from(organizations)
      .where(eq(organizations.id, before.id));
    return toOrganization(row!.o, { ...row!, myRole: subject.orgRole });
  });
}

export async function deleteOrganization(
  deps: Deps,
  actor: Actor,
  input: { organizationId: string; confirmSlug: string },
): Promise<void> {
  await mutate(deps, { actor }, { action: "org.delete", resourceType: "organization" }, async (tx, audit) => {
    audit.resourceId = input.organizationId;
    await authorizeOrg(tx, actor, "org.delete", input.organizationId, audit);
    const [org] = await tx.select().from(organizations).where(eq(organizations.id, input.organizationId));
    if (!org) throw new NotFoundError("Organization");
    if (org.slug !== input.confirmSlug) {
      throw InputError.field("confirmSlug", `must be "${org.slug}" to confirm`, {
        rule: "confirm_mismatch",
        params: { expected: org.slug },
      });
    }
    audit.changes = { before: { name: org.name, slug: org.slug } };
    // The audit entry outlives the organization (its organization_id is set null by the FK).
    await tx.delete(organizations).where(eq(organizations.id, org.id));
    audit.organizationId = null;
  });
}

export async function listOrganizationMembers(deps: Pick<Deps, "db">, actor: Actor, organizationId: string) {
  await authorizeOrg(deps.db, actor, "org.read", organizationId);
  const rows = await deps.db
    .select({ u: users, role: organizationMembers.role, joinedAt: organizationMembers.createdAt })
    .from(organizationMembers)
    .innerJoin(users, eq(users.id, organizationMembers.userId))
    .where(eq(organizationMembers.organizationId, organizationId))
    .orderBy(asc(users.username));
  return rows.map((r) => ({
    user: { ...toUserSummary(r.u), email: r.u.email },
    role: r.role,
    joinedAt: r.joinedAt.toISOString(),
  }));
}

async function adminCount(tx: Executor, organizationId: string) {
  // Lock the admin rows so two concurrent demotions cannot both pass the "last admin" check.
  const admins = await tx
    .select({ userId: organizationMembers.userId })
    .from(organizationMembers)
    .where(and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.role, "admin")))
    .for("update");
  return admins.length;
}

export async function changeOrganizationMemberRole(
  deps: Deps,
  actor: Actor,
  input: { organizationId: string; userId: string; role: OrgRole },
): Promise<void> {
  await mutate(
    deps,
    { actor },
    { action: "org.member.change_role", resourceType: "organization" },
    async (tx, audit) => {
      audit.resourceId = input.userId;
      await authorizeOrg(tx, actor, "org.member.manage", input.organizationId, audit);
      const [m] = await tx
        .select()
        .from(organizationMembers)
        .where(
          and(
            eq(organizationMembers.organizationId, input.organizationId),
            eq(organizationMembers.userId, input.userId),
          ),
        );
      if (!m) throw new NotFoundError("Member");
      if (m.role === input.role) {
        audit.unchanged = true;
        return;
      }
      if (m.role === "admin" && (await adminCount(tx, input.organizationId)) <= 1) {
        throw InputError.field("role", "cannot be changed: this is the organization's last admin");
      }
      await tx
        .update(organizationMembers)
        .set({ role: input.role })
        .where(
          and(
            eq(organizationMembers.organizationId, input.organizationId),
            eq(organizationMembers.userId, input.userId),
          ),
        );
      audit.changes = { before: { role: m.role }, after: { role: input.role } };
      const [org] = await tx.select().from(organizations).where(eq(organizations.id, input.organizationId));
      await notify(
        tx,
        input.userId,
        "org.role_changed",
        { organizationName: org!.name, organizationSlug: org!.slug, role: input.role },
        `/orgs/${org!.slug}`,
      );
    },
  );
}

export async function removeOrganizationMember(
  deps: Deps,
  actor: Actor,
  input: { organizationId: string; userId: string },
): Promise<void> {
  await mutate(deps, { actor }, { action: "org.member.remove", resourceType: "organization" }, async (tx, audit) => {
    audit.resourceId = input.userId;
    await authorizeOrg(tx, actor, "org.member.manage", input.organizationId, audit);
    const [m] = await tx
      .select()
      .from(organizationMembers)
      .where(
        and(eq(organizationMembers.organizationId, input.organizationId), eq(organizationMembers.userId, input.userId)),
      );
    if (!m) throw new NotFoundError("Member");
    if (m.role === "admin" && (await adminCount(tx, input.organizationId)) <= 1) {
      throw InputError.field("userId", "is the organization's last admin and cannot be removed");
    }
    await tx
      .delete(organizationMembers)
      .where(
        and(eq(organizationMembers.organizationId, input.organizationId), eq(organizationMembers.userId, input.userId)),
      );
    // Leaving the organization also leaves its teams and its projects: access ends with membership.
    await tx
      .delete(projectMembers)
      .where(
        and(
          eq(projectMembers.userId, input.userId),
          sql`${projectMembers.projectId} in (select id from ${projects} where organization_id = ${input.organizationId})`,
        ),
      );
    await tx
      .delete(teamMembers)
      .where(
        and(
          eq(teamMembers.userId, input.userId),
          sql`${teamMembers.teamId} in (select id from ${teams} where organization_id = ${input.organizationId})`,
        ),
      );
    audit.changes = { before: { role: m.role } };
  });
}
