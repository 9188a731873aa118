import type { Me, UserSummary } from "@juanie/contracts";
import { type Executor, invitations, oauthAccounts, organizationMembers, users } from "@juanie/db";
import { and, count, eq, ilike, or, sql } from "drizzle-orm";
import { authorizeOrg } from "../access/authorize.ts";
import type { Actor, Deps, RequestOrigin } from "../shared/deps.ts";
import { ConflictError, InputError, isUniqueViolation, NotFoundError, UnauthenticatedError } from "../shared/errors.ts";
import { sha256 } from "../shared/ids.ts";
import { mutate } from "../shared/mutation.ts";
import { dummyPasswordHash, hashPassword, verifyPassword } from "./passwords.ts";
import { createSession, deleteSession, type NewSession } from "./sessions.ts";
import { toMe, toUserSummary, type UserRow } from "./users.ts";

export interface SignedIn {
  me: Me;
  session: NewSession;
}

export async function needsSetup(deps: Pick<Deps, "db">): Promise<boolean> {
  const [row] = await deps.db.select({ n: count() }).from(users);
  return (row?.n ?? 0) === 0;
}

interface NewUser {
  email: string;
  username: string;
  displayName: string;
  password?: string;
  isPlatformAdmin?: boolean;
  avatarUrl?: string | null;
}

async function insertUser(tx: Executor, u: NewUser): Promise<UserRow> {
  const [byEmail] = await tx.select({ id: users.id }).from(users).where(eq(users.email, u.email));
  if (byEmail) throw new ConflictError("An account with this e-mail already exists", { email: ["is already in use"] });
  const [byName] = await tx
    .select({ id: users.id })
    .from(users)
    .where(sql`lower(${users.username}) = lower(${u.username})`);
  if (byName) throw new ConflictError("This username is taken", { username: ["is already taken"] });
  try {
    const [row] = await tx
      .insert(users)
      .values({
        email: u.email,
        username: u.username,
        displayName: u.displayName,
        passwordHash: u.password ? await hashPassword(u.password) : null,
        isPlatformAdmin: u.isPlatformAdmin ?? false,
        avatarUrl: u.avatarUrl ?? null,
      })
      .returning();
    return row!;
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError("An account with this e-mail or username already exists");
    throw err;
  }
}

/** First run: creates the platform administrator. Refused once any account exists. */
export async function setupAdministrator(
  deps: Deps,
  origin: RequestOrigin,
  input: { email: string; username: string; displayName: string; password: string },
): Promise<SignedIn> {
  return mutate(
    deps,
    { origin, actorLabel: input.username },
    { action: "auth.setup", resourceType: "user" },
    async (tx, audit) => {
      // Serialise concurrent first-run requests: exactly one can create the administrator.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('juanie.setup'))`);
      const [row] = await tx.select({ n: count() }).from(users);
      if ((row?.n ?? 0) > 0) throw new ConflictError("Setup has already been completed").because("auth.setup_done");
      const user = await insertUser(tx, { ...input, isPlatformAdmin: true });
      audit.resourceId = user.id;
      audit.changes = { after: { email: user.email, username: user.username, isPlatformAdmin: true } };
      const session = await createSession(tx, deps, user.id, origin);
      return { me: await toMe(tx, user), session };
    },
  );
}

export async function signInWithPassword(
  deps: Deps,
  origin: RequestOrigin,
  input: { login: string; password: string },
): Promise<SignedIn> {
  const login = input.login.trim();
  return mutate(
    deps,
    { origin, actorLabel: login.slice(0, 100) },
    { action: "auth.sign_in", resourceType: "session" },
    async (tx, audit) => {
      const [user] = await tx
        .select()
        .from(users)
        .where(or(eq(users.email, login.toLowerCase()), sql`lower(${users.username}) = lower(${login})`));
      // Without an account, still spend the time of a hash check so timing does not reveal who exists.
      const ok = user?.passwordHash
        ? await verifyPassword(user.passwordHash, input.password)
        : await verifyPassword(await dummyPasswordHash(), input.password).then(() => false);
      if (!user || !ok)
        throw new UnauthenticatedError("Wrong username, e-mail or password").because("auth.wrong_credentials");
      audit.resourceId = user.id;
      const session = await createSession(tx, deps, user.id, origin);
      return { me: await toMe(tx, user), session };
    },
  );
}

/** Password sign-up is open only with a valid invitation link (or when the admin allowed open sign-up). */
export async function signUp(
  deps: Deps,
  origin: RequestOrigin,
  input: { invitationToken?: string | null; email: string; username: string; displayName: string; password: string },
): Promise<SignedIn> {
  return mutate(
    deps,
    { origin, actorLabel: input.username },
    { action: "auth.sign_up", resourceType: "user" },
    async (tx, audit) => {
      if (input.invitationToken) {
        const [inv] = await tx
          .select()
          .from(invitations)
          .where(eq(invitations.tokenHash, sha256(input.invitationToken)));
        if (inv?.status !== "pending" || inv.expiresAt <= deps.clock.now()) {
          throw InputError.field("invitationToken", "is not a valid, pending invitation");
        }
        if (inv.inviteeUserId) throw InputError.field("invitationToken", "was sent to an existing account: sign in");
        if (inv.email && inv.email !== input.email) {
          throw InputError.field("email", "must be the address the invitation was sent to");
        }
        audit.organizationId = inv.organizationId;
      } else if (!deps.config.allowSignup) {
        throw InputError.field("invitationToken", "is required: accounts are created by invitation");
      }
      const user = await insertUser(tx, input);
      audit.resourceId = user.id;
      audit.changes = { after: { email: user.email, username: user.username } };
      const session = await createSession(tx, deps, user.id, origin);
      return { me: await toMe(tx, user), session };
    },
  );
}

export async function signOut(deps: Deps, actor: Actor, token: string): Promise<void> {
  await mutate(deps, { actor }, { action: "auth.sign_out", resourceType: "session" }, async (tx, audit) => {
    audit.resourceId = actor.user.id;
    await deleteSession(tx, token);
  });
}

export async function getMe(deps: Pick<Deps, "db">, userId: string): Promise<Me> {
  const [user] = await deps.db.select().from(users).where(eq(users.id, userId));
  if (!user) throw new NotFoundError("User");
  return toMe(deps.db, user);
}

export async function updateProfile(
  deps: Deps,
  actor: Actor,
  input: { displayName: string; locale: "en" | "zh-CN" | null },
): Promise<Me> {
  return mutate(deps, { actor }, { action: "user.update_profile", resourceType: "user" }, async (tx, audit) => {
    audit.resourceId = actor.user.id;
    const [before] = await tx.select().from(users).where(eq(users.id, actor.user.id));
    if (!before) throw new NotFoundError("User");
    const [after] = await tx
      .update(users)
      .set({ displayName: input.displayName, locale: input.locale, updatedAt: deps.clock.now() })
      .where(eq(users.id, actor.user.id))
      .returning();
    audit.changes = {
      before: { displayName: before.displayName, locale: before.locale },
      after: { displayName: after!.displayName, locale: after!.locale },
    };
    return toMe(tx, after!);
  });
}

export async function changePassword(
  deps: Deps,
  actor: Actor,
  input: { currentPassword?: string; newPassword: string },
): Promise<void> {
  await mutate(deps, { actor }, { action: "user.change_password", resourceType: "user" }, async (tx, audit) => {
    audit.resourceId = actor.user.id;
    const [user] = await tx.select().from(users).where(eq(users.id, actor.user.id));
    if (!user) throw new NotFoundError("User");
    if (user.passwordHash) {
      if (!input.currentPassword || !(await verifyPassword(user.passwordHash, input.currentPassword))) {
        throw InputError.field("currentPassword", "is not your current password");
      }
    }
    await tx
      .update(users)
      .set({ passwordHash: await hashPassword(input.newPassword), updatedAt: deps.clock.now() })
      .where(eq(users.id, user.id));
  });
}

/** Users matching a query; within an organization when given (for adding members to teams and projects). */
export async function searchUsers(
  deps: Pick<Deps, "db">,
  actor: Actor,
  input: { organizationId?: string; query: string },
): Promise<UserSummary[]> {
  const pattern = `%${input.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const match = or(ilike(users.username, pattern), ilike(users.displayName, pattern), ilike(users.email, pattern));
  if (input.organizationId) {
    await authorizeOrg(deps.db, actor, "org.read", input.organizationId);
    const rows = await deps.db
      .select({ u: users })
      .from(users)
      .innerJoin(
        organizationMembers,
        and(eq(organizationMembers.userId, users.id), eq(organizationMembers.organizationId, input.organizationId)),
      )
      .where(match)
      .limit(20);
    return rows.map((r) => toUserSummary(r.u));
  }
  // Outside an organization only exact usernames or e-mails resolve (no directory browsing).
  const rows = await deps.db
    .select()
    .from(users)
    .where(or(sql`lower(${users.username}) = lower(${input.query})`, eq(users.email, input.query.toLowerCase())))
    .limit(1);
  return rows.map(toUserSummary);
}

// ---------- OAuth ----------

export interface OAuthProfile {
  provider: "github" | "gitlab";
  accountId: string;
  login: string;
  email: string | null;
  name: string | null;
  avatarUrl: string | null;
}

/** Why an OAuth sign-in or link was refused; the sign-in page translates `reason`. */
export class OAuthError extends ConflictError {
  constructor(readonly reason: "oauth_email_taken" | "oauth_already_linked" | "oauth_no_email") {
    super(`OAuth sign-in refused: ${reason}`);
  }
}

/** Sign in with a provider account; the first sign-in creates the account. */
export async function signInWithOAuth(deps: Deps, origin: RequestOrigin, profile: OAuthProfile): Promise<SignedIn> {
  return mutate(
    deps,
    { origin, actorLabel: `${profile.provider}:${profile.login}`.slice(0, 100) },
    { action: "auth.sign_in", resourceType: "session" },
    async (tx, audit) => {
      const [linked] = await tx
        .select({ user: users })
        .from(oauthAccounts)
        .innerJoin(users, eq(users.id, oauthAccounts.userId))
        .where(
          and(eq(oauthAccounts.provider, profile.provider), eq(oauthAccounts.providerAccountId, profile.accountId)),
        );
      let user = linked?.user;
      if (!user) {
        if (!profile.email) throw new OAuthError("oauth_no_email");
        const email = profile.email.toLowerCase();
        const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
        // Never link by e-mail alone: that would let a provider account take over a local one.
        if (existing) throw new OAuthError("oauth_email_taken");
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('juanie.setup'))`);
        const [n] = await tx.select({ n: count() }).from(users);
        user = await insertUser(tx, {
          email,
          username: await freeUsername(tx, profile.login),
          displayName: profile.name?.trim() || profile.login,
          avatarUrl: profile.avatarUrl,
          // On a fresh installation the first account to arrive is its administrator.
          isPlatformAdmin: (n?.n ?? 0) === 0,
        });
        await tx.insert(oauthAccounts).values({
          userId: user.id,
          provider: profile.provider,
          providerAccountId: profile.accountId,
          providerLogin: profile.login,
        });
        audit.changes = { after: { provider: profile.provider, createdAccount: user.username } };
      }
      audit.resourceId = user.id;
      const session = await createSession(tx, deps, user.id, origin);
      return { me: await toMe(tx, user), session };
    },
  );
}

export async function linkOAuthAccount(deps: Deps, actor: Actor, profile: OAuthProfile): Promise<void> {
  await mutate(deps, { actor }, { action: "auth.oauth_link", resourceType: "user" }, async (tx, audit) => {
    audit.resourceId = actor.user.id;
    const [other] = await tx
      .select({ userId: oauthAccounts.userId })
      .from(oauthAccounts)
      .where(and(eq(oauthAccounts.provider, profile.provider), eq(oauthAccounts.providerAccountId, profile.accountId)));
    if (other && other.userId !== actor.user.id) throw new OAuthError("oauth_already_linked");
    if (other) return;
    try {
      await tx.insert(oauthAccounts).values({
        userId: actor.user.id,
        provider: profile.provider,
        providerAccountId: profile.accountId,
        providerLogin: profile.login,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new OAuthError("oauth_already_linked");
      throw err;
    }
    audit.changes = { after: { provider: profile.provider, login: profile.login } };
  });
}

export async function unlinkOAuthAccount(deps: Deps, actor: Actor, provider: "github" | "gitlab"): Promise<Me> {
  return mutate(deps, { actor }, { action: "auth.oauth_unlink", resourceType: "user" }, async (tx, audit) => {
    audit.resourceId = actor.user.id;
    const [user] = await tx.select().from(users).where(eq(users.id, actor.user.id));
    if (!user) throw new NotFoundError("User");
    const links = await tx.select().from(oauthAccounts).where(eq(oauthAccounts.userId, user.id));
    if (!links.some((l) => l.provider === provider)) throw new NotFoundError(`Linked ${provider} account`);
    if (!user.passwordHash && links.length === 1) {
      throw InputError.field("provider", "is your only way to sign in: set a password first");
    }
    await tx.delete(oauthAccounts).where(and(eq(oauthAccounts.userId, user.id), eq(oauthAccounts.provider, provider)));
    audit.changes = { before: { provider } };
    return toMe(tx, user);
  });
}

async function freeUsername(tx: Executor, login: string): Promise<string> {
  const base =
    login
      .replace(/[^a-zA-Z0-9-_.]/g, "-")
      .replace(/^[^a-zA-Z0-9]+|[^a-zA-Z0-9]+$/g, "")
      .slice(0, 32) || "user";
  for (let i = 0; i < 50; i++) {
    const candidate = i === 0 ? base : `${base}-${i + 1}`;
    const [taken] = await tx
      .select({ id: users.id })
      .from(users)
      .where(sql`lower(${users.username}) = lower(${candidate})`);
    if (!taken) return candidate;
  }
  throw new ConflictError("Could not find a free username");
}
