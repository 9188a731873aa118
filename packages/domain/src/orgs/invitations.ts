import type { Invitation, OrgRole } from "@juanie/contracts";
import { emailSchema } from "@juanie/contracts";
import { type Executor, invitations, organizationMembers, organizations, users } from "@juanie/db";
import { and, desc, eq, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { authorizeOrg } from "../access/authorize.ts";
import { toUserSummary } from "../auth/users.ts";
import { enqueueJob } from "../jobs/queue.ts";
import type { Actor, Deps } from "../shared/deps.ts";
import { ConflictError, ForbiddenError, InputError, NotFoundError } from "../shared/errors.ts";
import { randomToken, sha256 } from "../shared/ids.ts";
import { mutate } from "../shared/mutation.ts";
import type { SecretBox } from "../shared/secrets.ts";

type InvitationRow = typeof invitations.$inferSelect;
const invitee = alias(users, "invitee");
const inviter = alias(users, "inviter");

function statusOf(row: InvitationRow, now: Date): Invitation["status"] {
  return row.status === "pending" && row.expiresAt <= now ? "expired" : row.status;
}

async function loadInvitations(db: Executor, now: Date, where: ReturnType<typeof and>): Promise<Invitation[]> {
  const rows = await db
    .select({ i: invitations, org: organizations, invitee, inviter })
    .from(invitations)
    .innerJoin(organizations, eq(organizations.id, invitations.organizationId))
    .leftJoin(invitee, eq(invitee.id, invitations.inviteeUserId))
    .leftJoin(inviter, eq(inviter.id, invitations.invitedById))
    .where(where)
    .orderBy(desc(invitations.createdAt));
  return rows.map((r) => ({
    id: r.i.id,
    organization: { id: r.org.id, slug: r.org.slug, name: r.org.name },
    email: r.i.email,
    invitee: r.invitee ? toUserSummary(r.invitee) : null,
    role: r.i.role,
    status: statusOf(r.i, now),
    invitedBy: r.inviter ? toUserSummary(r.inviter) : null,
    expiresAt: r.i.expiresAt.toISOString(),
    createdAt: r.i.createdAt.toISOString(),
  }));
}

export function invitationUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/$/, "")}/invitations/${token}`;
}

/** Invite by e-mail or username. The link carries a random token; only its hash is stored. */
export async function createInvitation(
  deps: Deps & { secrets: SecretBox },
  actor: Actor,
  input: { organizationId: string; invitee: string; role: OrgRole; expiresInDays: number },
): Promise<{ invitation: Invitation; acceptUrl: string }> {
  return mutate(deps, { actor }, { action: "invitation.create", resourceType: "invitation" }, async (tx, audit) => {
    await authorizeOrg(tx, actor, "org.invite", input.organizationId, audit);
    const raw = input.invitee.trim();
    let email: string | null = null;
    let inviteeUser: typeof users.$inferSelect | undefined;
    if (raw.includes("@")) {
      const parsed = emailSchema.safeParse(raw);
      if (!parsed.success) throw InputError.field("invitee", "must be a valid e-mail address or an existing username");
      email = parsed.data;
      [inviteeUser] = await tx.select().from(users).where(eq(users.email, email));
    } else {
      [inviteeUser] = await tx.select().from(users).where(sql`lower(${users.username}) = lower(${raw})`);
      if (!inviteeUser) throw InputError.field("invitee", `no user named "${raw.slice(0, 50)}"`);
    }
    if (inviteeUser) {
      const [member] = await tx
        .select()
        .from(organizationMembers)
        .where(
          and(
            eq(organizationMembers.organizationId, input.organizationId),
            eq(organizationMembers.userId, inviteeUser.id),
          ),
        );
      if (member) throw new ConflictError("This user is already a member", { invitee: ["is already a member"] });
    }
    const now = deps.clock.now();
    const [pending] = await tx
      .select({ id: invitations.id })
      .from(invitations)
      .where(
        and(
          eq(invitations.organizationId, input.organizationId),
          eq(invitations.status, "pending"),
          sql`${invitations.expiresAt} > ${now}`,
          or(
            inviteeUser ? eq(invitations.inviteeUserId, inviteeUser.id) : undefined,
            email ? eq(invitations.email, email) : undefined,
          ),
        ),
      );
    if (pending) {
      throw new ConflictError("A pending invitation already exists: revoke it first", {
        invitee: ["already has a pending invitation"],
      }).because("invitations.pending_exists");
    }
    const token = randomToken();
    const [row] = await tx
      .insert(invitations)
      .values({
        organizationId: input.organizationId,
        email: email ?? inviteeUser?.email ?? null,
        inviteeUserId: inviteeUser?.id ?? null,
        role: input.role,
        tokenHash: sha256(token),
        invitedById: actor.user.id,
        expiresAt: new Date(now.getTime() + input.expiresInDays * 86400_000),
      })
      .returning();
    audit.resourceId = row!.id;
    audit.changes = { after: { invitee: inviteeUser?.username ?? email, role: input.role } };
    // Notification and e-mail go out from a job, committed together with the invitation. The job row
    // carries the token sealed (it is the link's secret), and is deleted once done.
    await enqueueJob(
      tx,
      "invitation.notify",
      { invitationId: row!.id, sealedToken: deps.secrets.encrypt(token) },
      { jobKey: `invitation.notify:${row!.id}` },
    );
    const [invitation] = await loadInvitations(tx, now, eq(invitations.id, row!.id));
    return { invitation: invitation!, acceptUrl: invitationUrl(deps.config.publicUrl, token) };
  });
}

export async function listOrganizationInvitations(
  deps: Pick<Deps, "db" | "clock">,
  actor: Actor,
  organizationId: string,
) {
  await authorizeOrg(deps.db, actor, "org.invite", organizationId);
  return loadInvitations(deps.db, deps.clock.now(), eq(invitations.organizationId, organizationId));
}

/** Pending invitations addressed to the actor, by account or by e-mail address. */
export async function listMyInvitations(deps: Pick<Deps, "db" | "clock">, actor: Actor) {
  const [me] = await deps.db.select().from(users).where(eq(users.id, actor.user.id));
  const now = deps.clock.now();
  const all = await loadInvitations(
    deps.db,
    now,
    and(
      eq(invitations.status, "pending"),
      or(eq(invitations.inviteeUserId, actor.user.id), me ? eq(invitations.email, me.email) : undefined),
    ),
  );
  return all.filter((i) => i.status === "pending");
}

export async function getInvitationByToken(deps: Pick<Deps, "db" | "clock">, token: string): Promise<Invitation> {
  const [inv] = await loadInvitations(deps.db, deps.clock.now(), eq(invitations.tokenHash, sha256(token)));
  if (!inv) throw new NotFoundError("Invitation");
  return inv;
}

export async function revokeInvitation(deps: Deps, actor: Actor, invitationId: string): Promise<void> {
  await mutate(deps, { actor }, { action: "invitation.revoke", resourceType: "invitation" }, async (tx, audit) => {
    audit.resourceId = invitationId;
    const [inv] = await tx.select().from(invitations).where(eq(invitations.id, invitationId));
    if (!inv) throw new NotFoundError("Invitation");
    await authorizeOrg(tx, actor, "org.invite", inv.organizationId, audit);
    if (statusOf(inv, deps.clock.now()) !== "pending") {
      throw InputError.field(
        "invitationId",
        `is ${statusOf(inv, deps.clock.now())}: only pending invitations can be revoked`,
      );
    }
    await tx
      .update(invitations)
      .set({ status: "revoked", respondedAt: deps.clock.now() })
      .where(eq(invitations.id, inv.id));
    audit.changes = { before: { status: "pending" }, after: { status: "revoked" } };
  });
}

type Answer = "accept" | "decline";

async function respond(deps: Deps, actor: Actor, ref: { invitationId?: string; token?: string }, answer: Answer) {
  return mutate(deps, { actor }, { action: `invitation.${answer}`, resourceType: "invitation" }, async (tx, audit) => {
    const [inv] = await tx
      .select()
      .from(invitations)
      .where(ref.token ? eq(invitations.tokenHash, sha256(ref.token)) : eq(invitations.id, ref.invitationId ?? ""))
      .for("update");
    if (!inv) throw new NotFoundError("Invitation");
    audit.resourceId = inv.id;
    audit.organizationId = inv.organizationId;
    const now = deps.clock.now();
    const status = statusOf(inv, now);
    if (status !== "pending") throw InputError.field("invitation", `is ${status}`);
    const [me] = await tx.select().from(users).where(eq(users.id, actor.user.id));
    // A link is a bearer of the invitation only for the account (or address) it was sent to.
    const addressedToMe = inv.inviteeUserId ? inv.inviteeUserId === actor.user.id : inv.email === me?.email;
    if (!addressedToMe) {
      throw new ForbiddenError(
        "Forbidden: answering this invitation requires the invited account (it was sent to another account)",
        "the invited account",
      );
    }
    await tx
      .update(invitations)
      .set({ status: answer === "accept" ? "accepted" : "declined", respondedAt: now, inviteeUserId: actor.user.id })
      .where(eq(invitations.id, inv.id));
    if (answer === "accept") {
      await tx
        .insert(organizationMembers)
        .values({ organizationId: inv.organizationId, userId: actor.user.id, role: inv.role })
        .onConflictDoNothing();
    }
    audit.changes = { after: { status: answer === "accept" ? "accepted" : "declined", role: inv.role } };
    const [org] = await tx.select().from(organizations).where(eq(organizations.id, inv.organizationId));
    return { organizationSlug: org!.slug };
  });
}

export const acceptInvitation = (deps: Deps, actor: Actor, ref: { invitationId?: string; token?: string }) =>
  respond(deps, actor, ref, "accept");
export const declineInvitation = (deps: Deps, actor: Actor, ref: { invitationId?: string; token?: string }) =>
  respond(deps, actor, ref, "decline");
