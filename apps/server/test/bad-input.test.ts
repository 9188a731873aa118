import { organizationMembers } from "@juanie/db";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import {
  auditSince,
  type Backdoor,
  createUser,
  drainJobs,
  failure,
  lastAuditId,
  openBackdoor,
  password,
  signIn,
  type TestUser,
} from "./support.ts";

/**
 * What a user sees when a request is wrong, not allowed or too big: a precise error naming the field
 * and rule (or the missing role), and — always — nothing half-written behind it.
 */

let server: TestServer;
let back: Backdoor;
let ada: TestUser; // admin of "acme"
let bob: TestUser; // member of "acme"
let carol: TestUser; // not in "acme"
let adaS: Session;
let bobS: Session;
let carolS: Session;
let acme: { id: string; slug: string };

beforeAll(async () => {
  server = await startTestServer();
  back = openBackdoor(server);
  await new Session(server.url).api.auth.setup.mutate({
    email: "root@example.com",
    username: "root",
    displayName: "Root",
    password,
  });
  ada = await createUser(back, "ada");
  bob = await createUser(back, "bob");
  carol = await createUser(back, "carol");
  [adaS, bobS, carolS] = await Promise.all([signIn(server, ada), signIn(server, bob), signIn(server, carol)]);
  acme = await adaS.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
  await back.handle.db.insert(organizationMembers).values({ organizationId: acme.id, userId: bob.id, role: "member" });
});

afterAll(async () => {
  await back?.close();
  await server?.close();
});

const tables = [
  "users",
  "sessions",
  "oauth_accounts",
  "organizations",
  "organization_members",
  "invitations",
  "teams",
  "team_members",
  "projects",
  "project_members",
  "project_team_grants",
  "notifications",
  "email_outbox",
  "graphile_worker.jobs",
] as const;

/** Every row of every table a request could touch, fingerprinted: added, changed and removed rows all show. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of tables) {
    const r = await back.handle.db.execute<{ n: number; digest: string }>(
      sql`select count(*)::int as n, md5(coalesce(string_agg(x::text, ',' order by x::text), '')) as digest from ${sql.raw(t)} x`,
    );
    out[t] = `${r.rows[0]?.n} rows, ${r.rows[0]?.digest}`;
  }
  return out;
}

/**
 * Runs a request that must fail and checks that it left nothing behind: no row added, changed or
 * removed anywhere, no job queued, and at most audit entries saying it failed or was denied.
 * Returns those audit entries.
 */
async function leavesNothingBehind(run: () => Promise<unknown>) {
  await drainJobs(back); // earlier requests' jobs must not change the counts under this one
  const before = await snapshot();
  const auditBefore = await lastAuditId(back);
  await run();
  expect(await snapshot()).toEqual(before);
  const audit = await auditSince(back, auditBefore);
  expect(audit.filter((e) => e.result === "success")).toEqual([]);
  return audit;
}

describe("taken slugs", () => {
  it("a second organization with the same slug → CONFLICT on slug", async () => {
    const audit = await leavesNothingBehind(async () => {
      const err = await failure(carolS.api.orgs.create.mutate({ name: "Other Acme", slug: "acme" }));
      expect(err.httpStatus).toBe(409);
      expect(err.juanie).toMatchObject({ code: "CONFLICT", fieldErrors: { slug: ["is already taken"] } });
    });
    expect(audit.map((e) => [e.action, e.result])).toEqual([["org.create", "failed"]]);
  });

  it("a second team with the same slug in the organization → CONFLICT on slug", async () => {
    await adaS.api.teams.create.mutate({ organizationId: acme.id, name: "Platform", slug: "platform" });
    const audit = await leavesNothingBehind(async () => {
      const err = await failure(
        adaS.api.teams.create.mutate({ organizationId: acme.id, name: "Platform 2", slug: "platform" }),
      );
      expect(err.juanie).toMatchObject({ code: "CONFLICT", fieldErrors: { slug: ["is already taken"] } });
    });
    expect(audit.map((e) => [e.action, e.result])).toEqual([["team.create", "failed"]]);
  });

  it("a second project with the same slug in the organization → CONFLICT on slug, and no job", async () => {
    await bobS.api.projects.create.mutate({ organizationId: acme.id, name: "Shop", slug: "shop" });
    const audit = await leavesNothingBehind(async () => {
      const err = await failure(
        bobS.api.projects.create.mutate({ organizationId: acme.id, name: "Shop", slug: "shop" }),
      );
      expect(err.juanie).toMatchObject({ code: "CONFLICT", fieldErrors: { slug: ["is already taken"] } });
    });
    expect(audit.map((e) => [e.action, e.result])).toEqual([["project.create", "failed"]]);
    // The same slug is free in another organization.
    const other = await carolS.api.orgs.create.mutate({ name: "Carol's", slug: "carols" });
    await carolS.api.projects.create.mutate({ organizationId: other.id, name: "Shop", slug: "shop" });
  });
});

describe("input the schema refuses, naming the field and the rule", () => {
  const dnsLabel = "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit";
  it.each([
    { slug: "Acme-Two", rule: dnsLabel },
    { slug: "-acme", rule: dnsLabel },
    { slug: "acme-", rule: dnsLabel },
    { slug: "ac me", rule: dnsLabel },
    { slug: "a".repeat(64), rule: "must be at most 63 characters" },
    { slug: "a", rule: "must be at least 2 characters" },
  ])("organization slug $slug → $rule", async ({ slug, rule }) => {
    await leavesNothingBehind(async () => {
      const err = await failure(adaS.api.orgs.create.mutate({ name: "X", slug }));
      expect(err.httpStatus).toBe(400);
      expect(err.juanie).toMatchObject({ code: "INVALID_INPUT", fieldErrors: { slug: [rule] } });
      expect(err.message).toBe(`Invalid input: slug: ${rule}`);
    });
  });

  it("the same slug rule holds for teams and projects", async () => {
    await leavesNothingBehind(async () => {
      const team = await failure(adaS.api.teams.create.mutate({ organizationId: acme.id, name: "T", slug: "Ops" }));
      expect(team.juanie.fieldErrors).toEqual({ slug: [dnsLabel] });
      const project = await failure(
        adaS.api.projects.create.mutate({ organizationId: acme.id, name: "P", slug: "-web" }),
      );
      expect(project.juanie.fieldErrors).toEqual({ slug: [dnsLabel] });
    });
  });

  it.each(["not-an-email", "bob@", "@example.com", "bob@@example.com"])("e-mail %s is refused", async (email) => {
    await leavesNothingBehind(async () => {
      const err = await failure(
        new Session(server.url).api.auth.signUp.mutate({ email, username: "newbie", displayName: "N", password }),
      );
      expect(err.juanie).toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { email: ["must be a valid e-mail address"] },
      });
    });
  });

  it("an invitee that is neither an e-mail address nor a user is refused", async () => {
    await leavesNothingBehind(async () => {
      const bad = await failure(
        adaS.api.invitations.create.mutate({ organizationId: acme.id, invitee: "bob@", role: "member" }),
      );
      expect(bad.juanie).toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { invitee: ["must be a valid e-mail address or an existing username"] },
      });
      const nobody = await failure(
        adaS.api.invitations.create.mutate({ organizationId: acme.id, invitee: "nobody", role: "member" }),
      );
      expect(nobody.juanie.fieldErrors).toEqual({ invitee: ['no user named "nobody"'] });
    });
  });

  it("short passwords are refused at sign-up and on change", async () => {
    await leavesNothingBehind(async () => {
      const signUp = await failure(
        new Session(server.url).api.auth.signUp.mutate({
          email: "newbie@example.com",
          username: "newbie",
          displayName: "N",
          password: "short",
        }),
      );
      expect(signUp.juanie.fieldErrors).toEqual({ password: ["must be at least 10 characters"] });
      const change = await failure(
        bobS.api.users.changePassword.mutate({ currentPassword: password, newPassword: "123456789" }),
      );
      expect(change.juanie).toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { newPassword: ["must be at least 10 characters"] },
      });
    });
  });

  it("a wrong current password is refused and the password stays", async () => {
    const audit = await leavesNothingBehind(async () => {
      const err = await failure(
        bobS.api.users.changePassword.mutate({
          currentPassword: "not my password",
          newPassword: "a new long password",
        }),
      );
      expect(err.juanie).toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { currentPassword: ["is not your current password"] },
      });
    });
    expect(audit.map((e) => [e.action, e.result])).toEqual([["user.change_password", "failed"]]);
    await signIn(server, bob);
  });

  it("a 10,000-character name is refused by its length rule", async () => {
    await leavesNothingBehind(async () => {
      const err = await failure(adaS.api.orgs.create.mutate({ name: "n".repeat(10_000), slug: "long-name" }));
      expect(err.juanie).toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { name: ["must be at most 100 characters"] },
      });
    });
  });

  it("a request body over 1 MiB is refused with HTTP 413 before it reaches the API", async () => {
    await leavesNothingBehind(async () => {
      const res = await adaS.fetch("/trpc/orgs.create", {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.url },
        body: JSON.stringify({ name: "x".repeat(1024 * 1024 + 1), slug: "huge" }),
      });
      expect(res.status).toBe(413);
      await res.body?.cancel();
    });
  });
});

describe("invitations that can no longer be answered", () => {
  const tokenOf = (acceptUrl: string) => acceptUrl.split("/invitations/")[1]!;

  it("an expired invitation cannot be accepted (nor used to sign up)", async () => {
    const { invitation, acceptUrl } = await adaS.api.invitations.create.mutate({
      organizationId: acme.id,
      invitee: "carol",
      role: "member",
    });
    const byMail = await adaS.api.invitations.create.mutate({
      organizationId: acme.id,
      invitee: "late@example.com",
      role: "member",
    });
    await back.handle.db.execute(
      sql`update invitations set expires_at = now() - interval '1 second' where id in (${invitation.id}, ${byMail.invitation.id})`,
    );
    expect(await carolS.api.invitations.byToken.query({ token: tokenOf(acceptUrl) })).toMatchObject({
      status: "expired",
    });
    expect(await carolS.api.invitations.mine.query()).toEqual([]);

    const audit = await leavesNothingBehind(async () => {
      const err = await failure(carolS.api.invitations.accept.mutate({ invitationId: invitation.id }));
      expect(err.juanie).toMatchObject({ code: "INVALID_INPUT", fieldErrors: { invitation: ["is expired"] } });
      const signUp = await failure(
        new Session(server.url).api.auth.signUp.mutate({
          invitationToken: tokenOf(byMail.acceptUrl),
          email: "late@example.com",
          username: "late",
          displayName: "Late",
          password,
        }),
      );
      expect(signUp.juanie.fieldErrors).toEqual({ invitationToken: ["is not a valid, pending invitation"] });
    });
    expect(audit.map((e) => [e.action, e.result])).toEqual([
      ["invitation.accept", "failed"],
      ["auth.sign_up", "failed"],
    ]);
    // The organization can invite again once the old invitation has expired.
    const again = await adaS.api.invitations.create.mutate({
      organizationId: acme.id,
      invitee: "carol",
      role: "member",
    });
    await adaS.api.invitations.revoke.mutate({ invitationId: again.invitation.id });
  });

  it("a revoked invitation cannot be accepted, nor revoked twice", async () => {
    const { invitation, acceptUrl } = await adaS.api.invitations.create.mutate({
      organizationId: acme.id,
      invitee: "carol",
      role: "admin",
    });
    await adaS.api.invitations.revoke.mutate({ invitationId: invitation.id });
    const audit = await leavesNothingBehind(async () => {
      const err = await failure(carolS.api.invitations.acceptByToken.mutate({ token: tokenOf(acceptUrl) }));
      expect(err.juanie).toMatchObject({ code: "INVALID_INPUT", fieldErrors: { invitation: ["is revoked"] } });
      const again = await failure(adaS.api.invitations.revoke.mutate({ invitationId: invitation.id }));
      expect(again.juanie.fieldErrors).toEqual({
        invitationId: ["is revoked: only pending invitations can be revoked"],
      });
    });
    expect(audit.map((e) => [e.action, e.result])).toEqual([
      ["invitation.accept", "failed"],
      ["invitation.revoke", "failed"],
    ]);
    expect((await carolS.api.orgs.list.query()).map((o) => o.slug)).not.toContain("acme");
  });

  it("an invitation is answered only by the account it was sent to", async () => {
    const { invitation, acceptUrl } = await adaS.api.invitations.create.mutate({
      organizationId: acme.id,
      invitee: "carol@example.com",
      role: "admin",
    });
    const mallory = await createUser(back, "mallory");
    const malloryS = await signIn(server, mallory);
    const audit = await leavesNothingBehind(async () => {
      for (const attempt of [
        () => malloryS.api.invitations.acceptByToken.mutate({ token: tokenOf(acceptUrl) }),
        () => malloryS.api.invitations.accept.mutate({ invitationId: invitation.id }),
        () => bobS.api.invitations.decline.mutate({ invitationId: invitation.id }),
      ]) {
        const err = await failure(attempt());
        expect(err.httpStatus).toBe(403);
        expect(err.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "the invited account" });
      }
    });
    expect(audit.map((e) => [e.action, e.result, e.actorLabel])).toEqual([
      ["invitation.accept", "denied", "mallory"],
      ["invitation.accept", "denied", "mallory"],
      ["invitation.decline", "denied", "bob"],
    ]);
    // The invitee still can.
    await carolS.api.invitations.acceptByToken.mutate({ token: tokenOf(acceptUrl) });
    expect((await carolS.api.orgs.list.query()).find((o) => o.slug === "acme")?.myRole).toBe("admin");
    await adaS.api.orgs.removeMember.mutate({ organizationId: acme.id, userId: carol.id });
  });
});

describe("a member trying an admin's actions", () => {
  it.each([
    {
      what: "invite",
      run: () => bobS.api.invitations.create.mutate({ organizationId: acme.id, invitee: "carol", role: "admin" }),
      action: "invitation.create",
    },
    {
      what: "change roles (their own included)",
      run: () => bobS.api.orgs.changeMemberRole.mutate({ organizationId: acme.id, userId: bob.id, role: "admin" }),
      action: "org.member.change_role",
    },
    {
      what: "remove a member",
      run: () => bobS.api.orgs.removeMember.mutate({ organizationId: acme.id, userId: ada.id }),
      action: "org.member.remove",
    },
    {
      what: "delete the organization",
      run: () => bobS.api.orgs.delete.mutate({ organizationId: acme.id, confirmSlug: "acme" }),
      action: "org.delete",
    },
  ])("$what → 403 naming organization admin, audited as denied", async ({ run, action }) => {
    const audit = await leavesNothingBehind(async () => {
      const err = await failure(run());
      expect(err.httpStatus).toBe(403);
      expect(err.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "organization admin" });
      expect(err.message).toMatch(/requires organization admin \(you have organization member\)$/);
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action, result: "denied", actorId: bob.id, organizationId: acme.id });
    expect(audit[0]!.reason).toContain("requires organization admin");
  });
});

describe("an organization and a project always keep someone in charge", () => {
  it("the last admin can be neither demoted nor removed", async () => {
    const org = await adaS.api.orgs.create.mutate({ name: "Solo", slug: "solo" });
    await leavesNothingBehind(async () => {
      const demote = await failure(
        adaS.api.orgs.changeMemberRole.mutate({ organizationId: org.id, userId: ada.id, role: "member" }),
      );
      expect(demote.juanie).toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { role: ["cannot be changed: this is the organization's last admin"] },
      });
      const remove = await failure(adaS.api.orgs.removeMember.mutate({ organizationId: org.id, userId: ada.id }));
      expect(remove.juanie.fieldErrors).toEqual({ userId: ["is the organization's last admin and cannot be removed"] });
    });
    // With a second admin, the first may step down; then the second is the last one.
    await back.handle.db.insert(organizationMembers).values({ organizationId: org.id, userId: bob.id, role: "admin" });
    await adaS.api.orgs.changeMemberRole.mutate({ organizationId: org.id, userId: ada.id, role: "member" });
    const last = await failure(bobS.api.orgs.removeMember.mutate({ organizationId: org.id, userId: bob.id }));
    expect(last.juanie.code).toBe("INVALID_INPUT");
    expect(
      (await bobS.api.orgs.members.query({ organizationId: org.id })).map((m) => [m.user.username, m.role]),
    ).toEqual([
      ["ada", "member"],
      ["bob", "admin"],
    ]);
  });

  it("the last project owner can be neither removed nor demoted", async () => {
    const project = await bobS.api.projects.create.mutate({ organizationId: acme.id, name: "Solo", slug: "solo" });
    await leavesNothingBehind(async () => {
      const remove = await failure(bobS.api.projects.removeMember.mutate({ projectId: project.id, userId: bob.id }));
      expect(remove.juanie).toMatchObject({
        code: "INVALID_INPUT",
        fieldErrors: { userId: ["is the project's last owner and cannot be removed"] },
      });
      // Not even by an organization admin.
      const demote = await failure(
        adaS.api.projects.changeMemberRole.mutate({ projectId: project.id, userId: bob.id, role: "maintainer" }),
      );
      expect(demote.juanie.fieldErrors).toEqual({ role: ["cannot be changed: this is the project's last owner"] });
    });
    const access = await bobS.api.projects.access.query({ projectId: project.id });
    expect(access.members.map((m) => [m.user.username, m.role])).toEqual([["bob", "owner"]]);
  });
});

describe("requests without a session or from another site", () => {
  it("tRPC queries and mutations answer HTTP 401", async () => {
    const anonymous = new Session(server.url);
    for (const path of ["/trpc/orgs.list", "/trpc/notifications.list?input=%7B%7D", "/trpc/audit.list?input=%7B%7D"]) {
      const res = await anonymous.fetch(path);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toMatchObject({ error: { data: { juanie: { code: "UNAUTHENTICATED" } } } });
    }
    await leavesNothingBehind(async () => {
      const err = await failure(anonymous.api.orgs.create.mutate({ name: "Anon", slug: "anon" }));
      expect(err.httpStatus).toBe(401);
      expect(err.juanie.code).toBe("UNAUTHENTICATED");
    });
    // A forged or stale cookie is no session either.
    anonymous.cookie = "juanie_session=forged-token-value";
    expect((await failure(anonymous.api.orgs.list.query())).httpStatus).toBe(401);
  });

  it("the audit export answers HTTP 401", async () => {
    const res = await new Session(server.url).fetch("/api/audit/export?format=csv");
    expect(res.status).toBe(401);
    expect(res.headers.get("content-disposition")).toBeNull();
    expect(await res.json()).toEqual({ code: "UNAUTHENTICATED", message: "Sign in required" });
  });

  it("a POST from a foreign origin is refused with 403 even with a valid session cookie", async () => {
    const body = JSON.stringify({ name: "Evil", slug: "evil" });
    await leavesNothingBehind(async () => {
      for (const origin of ["https://evil.example", "http://localhost.evil.example", "null"]) {
        const res = await adaS.fetch("/trpc/orgs.create", {
          method: "POST",
          headers: { "content-type": "application/json", origin },
          body,
        });
        expect(res.status, origin).toBe(403);
        expect(await res.json()).toEqual({ code: "FORBIDDEN", message: "Cross-origin request refused" });
      }
    });
    // The same request from our own origin goes through: the refusal was about the origin alone.
    const ok = await adaS.fetch("/trpc/orgs.create", {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body,
    });
    expect(ok.status).toBe(200);
  });
});
