import {
  oauthAccounts,
  organizationMembers,
  projectMembers,
  projects,
  projectTeamGrants,
  teamMembers,
} from "@juanie/db";
import { createInvitation, createOrganization, createProject, createTeam } from "@juanie/domain";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actorFor } from "../../../test/helpers.ts";
import { appRouter } from "../src/trpc/router.ts";
import type { Meta } from "../src/trpc/trpc.ts";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import {
  auditSince,
  type Backdoor,
  createUser,
  failure,
  lastAuditId,
  openBackdoor,
  password,
  signIn,
  type TestUser,
  waitFor,
} from "./support.ts";

/**
 * THE PERMISSION MATRIX. Every mutation of the API, called through the real server by every kind of
 * user, against the outcome written down here. A new mutation fails this file until it is added to
 * `expected` (and to `calls`, which says how to call it).
 */

const roles = [
  "non-member",
  "org member",
  "org admin",
  "team maintainer",
  "project viewer",
  "project developer",
  "project maintainer",
  "project owner",
  "platform admin",
] as const;
type Role = (typeof roles)[number];

/**
 * "ok"; "403 <role>": FORBIDDEN naming the missing role; "404 <role>": answered NOT_FOUND because the
 * caller may not know the resource exists (the audit log still records a denial naming the role);
 * "409": CONFLICT.
 */
type Outcome = "ok" | "409" | `403 ${string}` | `404 ${string}`;

const everyone = (o: Outcome) => Object.fromEntries(roles.map((r) => [r, o])) as Record<Role, Outcome>;
/** Non-members get `outsider`, members of the organization get `member`, unless `overrides` says otherwise. */
const row = (outsider: Outcome, member: Outcome, overrides: Partial<Record<Role, Outcome>>): Record<Role, Outcome> => ({
  ...everyone(member),
  "non-member": outsider,
  ...overrides,
});

const orgAdmins = row("404 organization admin", "403 organization admin", {
  "org admin": "ok",
  "platform admin": "ok",
});
const teamMaintainers = row("404 team maintainer", "403 team maintainer", {
  "org admin": "ok",
  "team maintainer": "ok",
  "platform admin": "ok",
});
const projectMaintainers = row("404 project maintainer", "403 project maintainer", {
  "org admin": "ok",
  "project maintainer": "ok",
  "project owner": "ok",
  "platform admin": "ok",
});
const projectOwners = row("404 project owner", "403 project owner", {
  "org admin": "ok",
  "project owner": "ok",
  "platform admin": "ok",
});
const someoneElsesInvitation = everyone("403 the invited account");

/** In the order the calls are made for each role: destructive ones last. */
const expected: Record<string, Record<Role, Outcome>> = {
  // Your own account: every signed-in user, whatever their roles.
  "auth.setup": everyone("409"), // first-run setup is over, for the platform admin too
  "users.updateProfile": everyone("ok"),
  "users.changePassword": everyone("ok"),
  "users.unlinkProvider": everyone("ok"),
  "auth.signUp": everyone("ok"), // public: whoever holds an invitation link
  // Organizations.
  "orgs.create": everyone("ok"),
  "orgs.update": orgAdmins,
  "orgs.changeMemberRole": orgAdmins,
  "orgs.removeMember": orgAdmins,
  "invitations.create": orgAdmins,
  "invitations.revoke": orgAdmins,
  // Nobody may answer someone else's invitation, not even an administrator.
  "invitations.accept": someoneElsesInvitation,
  "invitations.acceptByToken": someoneElsesInvitation,
  "invitations.decline": someoneElsesInvitation,
  // Teams.
  "teams.create": orgAdmins,
  "teams.update": teamMaintainers,
  "teams.addMember": teamMaintainers,
  "teams.changeMemberRole": teamMaintainers,
  "teams.removeMember": teamMaintainers,
  // Projects. The project is `internal`: members of the organization see it, outsiders do not.
  "projects.create": row("404 organization member", "ok", {}),
  "projects.update": projectMaintainers,
  "projects.addMember": projectMaintainers,
  "projects.changeMemberRole": projectMaintainers,
  "projects.removeMember": projectMaintainers,
  "projects.grantTeam": projectMaintainers,
  "projects.revokeTeam": projectMaintainers,
  "projects.archive": projectOwners,
  "projects.restore": projectOwners,
  // Destructive, so last.
  "teams.delete": row("404 team owner", "403 team owner", { "org admin": "ok", "platform admin": "ok" }),
  "orgs.delete": orgAdmins,
  "auth.signIn": everyone("ok"),
  "auth.signOut": everyone("ok"),
};

/** Mutations that change only the caller's own, unshared state and are deliberately not audited. */
const personalUnaudited = ["notifications.markRead", "notifications.markAllRead"];

// ---------------------------------------------------------------------------------------------

let server: TestServer;
let back: Backdoor;
let root: TestUser;
let boss: TestUser;
/** Accounts the mutations act on (members to promote, remove, add…), shared by every world. */
let targets: Record<"promote" | "remove" | "teamAdd" | "teamPromote" | "teamRemove" | "projectAdd", TestUser>;
let projectTargets: Record<"change" | "remove", TestUser>;
let guest: TestUser;

beforeAll(async () => {
  server = await startTestServer();
  back = openBackdoor(server);
  const first = new Session(server.url);
  const me = await first.api.auth.setup.mutate({
    email: "root@example.com",
    username: "root",
    displayName: "Root",
    password,
  });
  root = { id: me.id, username: me.username, email: me.email, isPlatformAdmin: true };
  boss = await createUser(back, "boss");
  guest = await createUser(back, "guest");
  targets = {
    promote: await createUser(back, "t-promote"),
    remove: await createUser(back, "t-remove"),
    teamAdd: await createUser(back, "t-team-add"),
    teamPromote: await createUser(back, "t-team-promote"),
    teamRemove: await createUser(back, "t-team-remove"),
    projectAdd: await createUser(back, "t-project-add"),
  };
  projectTargets = {
    change: await createUser(back, "t-project-change"),
    remove: await createUser(back, "t-project-remove"),
  };
});

afterAll(async () => {
  await back?.close();
  await server?.close();
});

interface World {
  tag: string;
  user: TestUser;
  session: Session;
  org: { id: string; slug: string };
  team: string;
  doomedTeam: string;
  grantedLater: string;
  alreadyGranted: string;
  project: string;
  pendingInvitation: string;
  guestInvitation: { id: string; token: string };
  signup: { email: string; token: string };
}

const tokenOf = (acceptUrl: string) => acceptUrl.split("/invitations/")[1]!;

/** A fresh organization with a team, an internal project and pending invitations, where `user` holds `role`. */
async function buildWorld(role: Role, user: TestUser, tag: string): Promise<World> {
  const { deps, handle } = back;
  const db = handle.db;
  const b = actorFor(boss);
  const org = await createOrganization(deps, b, { name: `World ${tag}`, slug: `world-${tag}` });
  const inOrg = role !== "non-member" && role !== "platform admin";
  await db.insert(organizationMembers).values([
    ...[...Object.values(targets), ...Object.values(projectTargets)].map((t) => ({
      organizationId: org.id,
      userId: t.id,
      role: "member" as const,
    })),
    ...(inOrg ? [{ organizationId: org.id, userId: user.id, role: role === "org admin" ? "admin" : "member" }] : []),
  ] as (typeof organizationMembers.$inferInsert)[]);

  const team = (slug: string) =>
    createTeam(deps, b, { organizationId: org.id, name: slug, slug, description: "" }).then((t) => t.id);
  const [core, doomed, grantedLater, alreadyGranted] = [
    await team("core"),
    await team("doomed"),
    await team("granted-later"),
    await team("already-granted"),
  ];
  await db.insert(teamMembers).values([
    { teamId: core, userId: targets.teamPromote.id, role: "member" },
    { teamId: core, userId: targets.teamRemove.id, role: "member" },
    ...(role === "team maintainer"
      ? [
          { teamId: core, userId: user.id, role: "maintainer" as const },
          { teamId: doomed, userId: user.id, role: "maintainer" as const },
        ]
      : []),
  ]);

  const project = await createProject(deps, b, {
    organizationId: org.id,
    name: "App",
    slug: "app",
    description: "",
    visibility: "internal",
  });
  const projectRole = role.startsWith("project ") ? role.slice("project ".length) : null;
  await db
    .insert(projectMembers)
    .values([
      { projectId: project.id, userId: projectTargets.change.id, role: "developer" },
      { projectId: project.id, userId: projectTargets.remove.id, role: "viewer" },
      ...(projectRole ? [{ projectId: project.id, userId: user.id, role: projectRole }] : []),
    ] as (typeof projectMembers.$inferInsert)[]);
  await db.insert(projectTeamGrants).values({ projectId: project.id, teamId: alreadyGranted, role: "viewer" });
  await db
    .insert(oauthAccounts)
    .values({ userId: user.id, provider: "github", providerAccountId: `gh-${tag}`, providerLogin: user.username });

  const invite = (invitee: string) =>
    createInvitation(deps, b, { organizationId: org.id, invitee, role: "member", expiresInDays: 7 });
  const pending = await invite(`pending-${tag}@example.com`);
  const forGuest = await invite(guest.username);
  const signup = await invite(`join-${tag}@example.com`);

  // Archiving needs an active project: the initialisation job (enqueued with the project) activates it.
  const status = await waitFor(
    async () => (await db.select({ s: projects.status }).from(projects).where(eq(projects.id, project.id)))[0]?.s,
    (s) => s === "active",
  );
  expect(status).toBe("active");

  return {
    tag,
    user,
    session: await signIn(server, user),
    org: { id: org.id, slug: org.slug },
    team: core,
    doomedTeam: doomed,
    grantedLater,
    alreadyGranted,
    project: project.id,
    pendingInvitation: pending.invitation.id,
    guestInvitation: { id: forGuest.invitation.id, token: tokenOf(forGuest.acceptUrl) },
    signup: { email: `join-${tag}@example.com`, token: tokenOf(signup.acceptUrl) },
  };
}

/** How to call each mutation with valid input in a world. `s` is a copy of the role's session. */
const calls: Record<string, (s: Session, w: World) => Promise<unknown>> = {
  "auth.setup": (s, w) =>
    s.api.auth.setup.mutate({
      email: `setup-${w.tag}@example.com`,
      username: `setup-${w.tag}`,
      displayName: "S",
      password,
    }),
  "users.updateProfile": (s) => s.api.users.updateProfile.mutate({ displayName: "Renamed", locale: "zh-CN" }),
  "users.changePassword": (s) =>
    s.api.users.changePassword.mutate({ currentPassword: password, newPassword: password }),
  "users.unlinkProvider": (s) => s.api.users.unlinkProvider.mutate({ provider: "github" }),
  "auth.signUp": (s, w) =>
    s.api.auth.signUp.mutate({
      invitationToken: w.signup.token,
      email: w.signup.email,
      username: `joiner-${w.tag}`,
      displayName: "Joiner",
      password,
    }),
  "orgs.create": (s, w) => s.api.orgs.create.mutate({ name: "Fresh", slug: `fresh-${w.tag}` }),
  "orgs.update": (s, w) => s.api.orgs.update.mutate({ organizationId: w.org.id, name: "Renamed" }),
  "orgs.changeMemberRole": (s, w) =>
    s.api.orgs.changeMemberRole.mutate({ organizationId: w.org.id, userId: targets.promote.id, role: "admin" }),
  "orgs.removeMember": (s, w) =>
    s.api.orgs.removeMember.mutate({ organizationId: w.org.id, userId: targets.remove.id }),
  "invitations.create": (s, w) =>
    s.api.invitations.create.mutate({ organizationId: w.org.id, invitee: `new-${w.tag}@example.com`, role: "member" }),
  "invitations.revoke": (s, w) => s.api.invitations.revoke.mutate({ invitationId: w.pendingInvitation }),
  "invitations.accept": (s, w) => s.api.invitations.accept.mutate({ invitationId: w.guestInvitation.id }),
  "invitations.acceptByToken": (s, w) => s.api.invitations.acceptByToken.mutate({ token: w.guestInvitation.token }),
  "invitations.decline": (s, w) => s.api.invitations.decline.mutate({ invitationId: w.guestInvitation.id }),
  "teams.create": (s, w) => s.api.teams.create.mutate({ organizationId: w.org.id, name: "New", slug: "new-team" }),
  "teams.update": (s, w) => s.api.teams.update.mutate({ teamId: w.team, name: "Renamed", description: "new" }),
  "teams.addMember": (s, w) =>
    s.api.teams.addMember.mutate({ teamId: w.team, userId: targets.teamAdd.id, role: "member" }),
  "teams.changeMemberRole": (s, w) =>
    s.api.teams.changeMemberRole.mutate({ teamId: w.team, userId: targets.teamPromote.id, role: "maintainer" }),
  "teams.removeMember": (s, w) => s.api.teams.removeMember.mutate({ teamId: w.team, userId: targets.teamRemove.id }),
  "projects.create": (s, w) =>
    s.api.projects.create.mutate({ organizationId: w.org.id, name: "New", slug: `new-${w.tag}` }),
  "projects.update": (s, w) =>
    s.api.projects.update.mutate({ projectId: w.project, name: "Renamed", description: "d", visibility: "internal" }),
  "projects.addMember": (s, w) =>
    s.api.projects.addMember.mutate({ projectId: w.project, userId: targets.projectAdd.id, role: "developer" }),
  "projects.changeMemberRole": (s, w) =>
    s.api.projects.changeMemberRole.mutate({ projectId: w.project, userId: projectTargets.change.id, role: "viewer" }),
  "projects.removeMember": (s, w) =>
    s.api.projects.removeMember.mutate({ projectId: w.project, userId: projectTargets.remove.id }),
  "projects.grantTeam": (s, w) =>
    s.api.projects.grantTeam.mutate({ projectId: w.project, teamId: w.grantedLater, role: "developer" }),
  "projects.revokeTeam": (s, w) => s.api.projects.revokeTeam.mutate({ projectId: w.project, teamId: w.alreadyGranted }),
  "projects.archive": (s, w) => s.api.projects.archive.mutate({ projectId: w.project }),
  "projects.restore": (s, w) => s.api.projects.restore.mutate({ projectId: w.project }),
  "teams.delete": (s, w) => s.api.teams.delete.mutate({ teamId: w.doomedTeam }),
  "orgs.delete": (s, w) => s.api.orgs.delete.mutate({ organizationId: w.org.id, confirmSlug: w.org.slug }),
  "auth.signIn": (s, w) => s.api.auth.signIn.mutate({ login: w.user.username, password }),
  // Signs out a second session of the same user (the role's own session is still needed).
  "auth.signOut": async (_s, w) => {
    const other = await signIn(server, w.user);
    await other.api.auth.signOut.mutate();
    expect(await other.api.auth.me.query()).toBeNull();
  },
};

interface ProcedureDef {
  type: "query" | "mutation" | "subscription";
  meta?: Meta;
}
// At runtime `_def.procedures` is flat (dotted path → procedure); its static type is the nested router.
const flat = appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef }>;
const procedures = Object.entries(flat).map(([path, p]) => ({ path, type: p._def.type, action: p._def.meta?.action }));
const mutations = procedures.filter((p) => p.type === "mutation");
const actionOf = (path: string) => mutations.find((m) => m.path === path)?.action;

describe("every mutation is accounted for", () => {
  it("finds the API's procedures", () => {
    // Guards the walk itself: an empty or partial list would make every check below pass vacuously.
    expect(mutations.length).toBeGreaterThanOrEqual(Object.keys(expected).length);
    expect(procedures.some((p) => p.type === "query")).toBe(true);
  });

  it("names the audited action it performs, or is a personal, unaudited one", () => {
    const unexplained = mutations.filter((m) => !m.action && !personalUnaudited.includes(m.path)).map((m) => m.path);
    expect(unexplained, "mutations without meta.action and not allowlisted").toEqual([]);
    for (const path of personalUnaudited) {
      expect(actionOf(path), `${path} is allowlisted as unaudited`).toBeUndefined();
      expect(mutations.map((m) => m.path)).toContain(path);
    }
  });

  it("has a row in the permission table and a way to be called", () => {
    const audited = mutations.filter((m) => m.action).map((m) => m.path);
    expect(
      audited.filter((p) => !(p in expected)),
      "missing from `expected`",
    ).toEqual([]);
    expect(
      Object.keys(expected).filter((p) => !audited.includes(p)),
      "in `expected` but not an audited mutation",
    ).toEqual([]);
    expect(Object.keys(calls).sort()).toEqual(Object.keys(expected).sort());
  });
});

describe.each(roles.map((role, i) => ({ role, tag: `r${i}` })))("as $role", ({ role, tag }) => {
  let world: World;
  beforeAll(async () => {
    const user = role === "platform admin" ? root : await createUser(back, `user-${tag}`);
    world = await buildWorld(role, user, tag);
  });

  it.each(Object.entries(expected).map(([path, byRole]) => ({ path, want: byRole[role] })))(
    "$path → $want",
    async ({ path, want }) => {
      const action = actionOf(path)!;
      const before = await lastAuditId(back);
      // A copy of the session: sign-in and sign-up replace the cookie, the role's own session must stay.
      const s = new Session(server.url);
      s.cookie = world.session.cookie;
      const call = calls[path]!(s, world);
      const entries = async () => (await auditSince(back, before)).filter((e) => e.action === action);

      if (want === "ok") {
        await call;
        expect((await entries()).map((e) => e.result)).toContain("success");
        return;
      }
      const err = await failure(call);
      if (want === "409") {
        expect(err.juanie.code).toBe("CONFLICT");
        expect(err.httpStatus).toBe(409);
        expect((await entries()).map((e) => e.result)).toEqual(["failed"]);
        return;
      }
      const [status, ...words] = want.split(" ");
      const required = words.join(" ");
      if (status === "403") {
        expect(err.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: required });
        expect(err.httpStatus).toBe(403);
        expect(err.message).toContain(required);
      } else {
        // Hidden: nothing in the answer tells an outsider that the resource exists or what it takes.
        expect(err.juanie.code).toBe("NOT_FOUND");
        expect(err.httpStatus).toBe(404);
        expect(err.juanie.requiredRole).toBeUndefined();
        expect(err.message).toMatch(/^(Organization|Team|Project) not found$/);
      }
      const denied = await entries();
      expect(denied).toHaveLength(1);
      expect(denied[0]).toMatchObject({ result: "denied", actorId: world.user.id });
      expect(denied[0]!.reason).toContain(`requires ${required}`);
    },
  );
});

describe("roles cannot be stretched", () => {
  it("an organization member who is removed loses access to the organization's projects", async () => {
    const org = await createOrganization(back.deps, actorFor(boss), { name: "Leavers", slug: "leavers" });
    const leaver = await createUser(back, "leaver");
    await back.handle.db
      .insert(organizationMembers)
      .values({ organizationId: org.id, userId: leaver.id, role: "member" });
    const project = await createProject(back.deps, actorFor(boss), {
      organizationId: org.id,
      name: "Secret",
      slug: "secret",
      description: "",
      visibility: "private",
    });
    const bossSession = await signIn(server, boss);
    await bossSession.api.projects.addMember.mutate({ projectId: project.id, userId: leaver.id, role: "maintainer" });
    const s = await signIn(server, leaver);
    const ref = { organizationSlug: "leavers", slug: "secret" };
    expect(await s.api.projects.bySlug.query(ref)).toMatchObject({ myRole: "maintainer" });

    await bossSession.api.orgs.removeMember.mutate({ organizationId: org.id, userId: leaver.id });

    expect((await failure(s.api.projects.bySlug.query(ref))).juanie.code).toBe("NOT_FOUND");
    const update = s.api.projects.update.mutate({
      projectId: project.id,
      name: "Mine now",
      description: "",
      visibility: "public",
    });
    expect((await failure(update)).juanie.code).toBe("NOT_FOUND");
    expect((await s.api.projects.list.query({})).items).toEqual([]);
    const access = await bossSession.api.projects.access.query({ projectId: project.id });
    expect(access.members.map((m) => m.user.username)).toEqual(["boss"]);
  });

  it("a team maintainer manages members but cannot hand out the owner role, not even to themselves", async () => {
    const org = await createOrganization(back.deps, actorFor(boss), { name: "Teams", slug: "owners" });
    const maintainer = await createUser(back, "maint");
    const other = await createUser(back, "other");
    await back.handle.db.insert(organizationMembers).values([
      { organizationId: org.id, userId: maintainer.id, role: "member" },
      { organizationId: org.id, userId: other.id, role: "member" },
    ]);
    const team = await createTeam(back.deps, actorFor(boss), {
      organizationId: org.id,
      name: "Ops",
      slug: "ops",
      description: "",
    });
    await back.handle.db.insert(teamMembers).values({ teamId: team.id, userId: maintainer.id, role: "maintainer" });
    const s = await signIn(server, maintainer);

    await s.api.teams.addMember.mutate({ teamId: team.id, userId: other.id, role: "maintainer" });
    const promoteSelf = await failure(
      s.api.teams.changeMemberRole.mutate({ teamId: team.id, userId: maintainer.id, role: "owner" }),
    );
    expect(promoteSelf.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "team owner" });
    const promoteOther = await failure(
      s.api.teams.changeMemberRole.mutate({ teamId: team.id, userId: other.id, role: "owner" }),
    );
    expect(promoteOther.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "team owner" });
    expect((await failure(s.api.teams.delete.mutate({ teamId: team.id }))).juanie.requiredRole).toBe("team owner");
    const members = await s.api.teams.members.query({ teamId: team.id });
    expect(members.map((m) => [m.user.username, m.role])).toEqual([
      ["maint", "maintainer"],
      ["other", "maintainer"],
    ]);

    // An organization admin may make owners, and then the new owner may delete the team.
    const bossSession = await signIn(server, boss);
    await bossSession.api.teams.changeMemberRole.mutate({ teamId: team.id, userId: maintainer.id, role: "owner" });
    await s.api.teams.delete.mutate({ teamId: team.id });
    expect((await s.api.teams.list.query({ organizationId: org.id })).map((t) => t.slug)).toEqual([]);
  });
});
