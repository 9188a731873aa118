import type { Notification } from "@juanie/contracts";
import { emailOutbox, organizationMembers } from "@juanie/db";
import { TRPCClientError } from "@trpc/client";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import {
  type Backdoor,
  createUser,
  failure,
  openBackdoor,
  password,
  signIn,
  type TestUser,
  waitFor,
} from "./support.ts";

let server: TestServer;
let back: Backdoor;
let ada: TestUser; // admin of acme
let bob: TestUser;
let carol: TestUser;
let adaS: Session;
let bobS: Session;
let carolS: Session;
let acme: string;
let closed = false;

const list = async (s: Session, unreadOnly = false) =>
  (await s.api.notifications.list.query({ unreadOnly, limit: 200 })).items;

/** Polls the user's notifications until one of `kind` arrives (jobs and other sessions create them). */
async function arrival(s: Session, kind: string, count = 1): Promise<Notification[]> {
  const found = await waitFor(
    async () => (await list(s)).filter((n) => n.kind === kind),
    (ns) => ns.length >= count,
  );
  expect(found, `${count} × ${kind}`).toHaveLength(count);
  return found;
}

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
  acme = (await adaS.api.orgs.create.mutate({ name: "Acme", slug: "acme" })).id;
});

afterAll(async () => {
  await back?.close();
  if (!closed) await server?.close();
});

describe("notifications", () => {
  it("inviting an existing user by username notifies them in the app (from a job) and by e-mail", async () => {
    expect(await list(bobS)).toEqual([]);
    const { invitation, acceptUrl } = await adaS.api.invitations.create.mutate({
      organizationId: acme,
      invitee: "bob",
      role: "member",
    });
    const [n] = await arrival(bobS, "invitation.received");
    expect(n).toMatchObject({
      kind: "invitation.received",
      data: {
        organizationName: "Acme",
        organizationSlug: "acme",
        role: "member",
        invitedBy: "ada",
        invitationId: invitation.id,
      },
      link: "/notifications",
      readAt: null,
    });
    // Nobody else hears of it.
    expect(await list(carolS)).toEqual([]);
    expect(await list(adaS)).toEqual([]);
    // The e-mail is kept in the outbox (no mail server here), without the link that accepts it: whoever
    // reads the table must not be able to accept the invitation.
    const mails = await waitFor(
      () => back.handle.db.select().from(emailOutbox).where(eq(emailOutbox.to, bob.email)),
      (m) => m.length > 0,
    );
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ subject: "ada invited you to Acme on Juanie", status: "not_configured" });
    expect(mails[0]!.body).not.toContain(acceptUrl.split("/invitations/")[1]);
    expect(mails[0]!.body).toContain("/invitations/[link not stored]");

    // The invitation can be answered from the notification's data.
    await bobS.api.invitations.accept.mutate({ invitationId: String(n!.data.invitationId) });
    expect((await bobS.api.orgs.list.query()).map((o) => o.slug)).toEqual(["acme"]);
  });

  it("role changes notify the person whose role changed, and only real changes do", async () => {
    await adaS.api.orgs.changeMemberRole.mutate({ organizationId: acme, userId: bob.id, role: "admin" });
    const [orgRole] = await arrival(bobS, "org.role_changed");
    expect(orgRole).toMatchObject({
      data: { organizationName: "Acme", organizationSlug: "acme", role: "admin" },
      link: "/orgs/acme",
    });
    // Setting the role it already has changes nothing, so tells nothing.
    await adaS.api.orgs.changeMemberRole.mutate({ organizationId: acme, userId: bob.id, role: "admin" });

    const team = await adaS.api.teams.create.mutate({ organizationId: acme, name: "Platform", slug: "platform" });
    await adaS.api.teams.addMember.mutate({ teamId: team.id, userId: bob.id, role: "maintainer" });
    const [teamAdded] = await arrival(bobS, "team.added");
    expect(teamAdded).toMatchObject({
      data: { teamName: "Platform", organizationSlug: "acme", role: "maintainer" },
      link: "/orgs/acme/teams/platform",
    });

    const project = await adaS.api.projects.create.mutate({ organizationId: acme, name: "Shop", slug: "shop" });
    await adaS.api.projects.addMember.mutate({ projectId: project.id, userId: bob.id, role: "developer" });
    await adaS.api.projects.changeMemberRole.mutate({ projectId: project.id, userId: bob.id, role: "maintainer" });
    const projectRoles = await arrival(bobS, "project.role_changed", 2);
    expect(projectRoles.map((n) => [n.data.projectName, n.data.role, n.link])).toEqual([
      ["Shop", "maintainer", "/orgs/acme/projects/shop"],
      ["Shop", "developer", "/orgs/acme/projects/shop"],
    ]);

    // A refused change notifies nobody: carol is not a member, so she cannot be given a project role.
    await failure(adaS.api.projects.addMember.mutate({ projectId: project.id, userId: carol.id, role: "viewer" }));
    expect((await list(bobS)).map((n) => n.kind)).toEqual([
      "project.role_changed",
      "project.role_changed",
      "team.added",
      "org.role_changed",
      "invitation.received",
    ]);
    expect(await list(carolS)).toEqual([]);
  });

  it("mark read, mark all read, and nobody can mark someone else's", async () => {
    const before = await list(bobS, true);
    expect(before).toHaveLength(5);
    await bobS.api.notifications.markRead.mutate({ ids: [before[0]!.id, before[1]!.id] });
    const unread = await list(bobS, true);
    expect(unread.map((n) => n.id)).toEqual(before.slice(2).map((n) => n.id));
    const all = await list(bobS);
    expect(all.filter((n) => n.readAt !== null).map((n) => n.id)).toEqual([before[0]!.id, before[1]!.id]);

    // Carol passing bob's ids changes nothing of bob's.
    await carolS.api.notifications.markRead.mutate({ ids: unread.map((n) => n.id) });
    await carolS.api.notifications.markAllRead.mutate();
    expect((await list(bobS, true)).map((n) => n.id)).toEqual(unread.map((n) => n.id));

    await bobS.api.notifications.markAllRead.mutate();
    expect(await list(bobS, true)).toEqual([]);
    // Marking again keeps the time they were first read.
    const readAt = (await list(bobS)).map((n) => n.readAt);
    await bobS.api.notifications.markRead.mutate({ ids: before.map((n) => n.id) });
    expect((await list(bobS)).map((n) => n.readAt)).toEqual(readAt);

    const bad = await failure(bobS.api.notifications.markRead.mutate({ ids: [] }));
    expect(bad.juanie.code).toBe("INVALID_INPUT");
  });

  it("the unread count is pushed live over SSE as notifications arrive and are read", async () => {
    await back.handle.db.insert(organizationMembers).values({ organizationId: acme, userId: carol.id, role: "member" });
    const counts: number[] = [];
    const errors: unknown[] = [];
    const sub = bobS.api.notifications.onUnreadCount.subscribe(undefined, {
      onData: (d) => counts.push(d.count),
      onError: (e) => errors.push(e),
    });
    try {
      const seen = (n: number) =>
        waitFor(
          async () => counts.length,
          (len) => len >= n || errors.length > 0,
          10_000,
        );
      await seen(1);
      expect(errors).toEqual([]);
      expect(counts).toEqual([0]);

      // Another session does something that notifies bob.
      const team = await adaS.api.teams.create.mutate({ organizationId: acme, name: "Live", slug: "live" });
      await adaS.api.teams.addMember.mutate({ teamId: team.id, userId: bob.id, role: "member" });
      await seen(2);
      expect(counts).toEqual([0, 1]);

      // Someone else's notification leaves bob's count alone; bob reading his changes it.
      await adaS.api.teams.addMember.mutate({ teamId: team.id, userId: carol.id, role: "member" });
      await arrival(carolS, "team.added");
      await bobS.api.notifications.markAllRead.mutate();
      await seen(3);
      expect(counts).toEqual([0, 1, 0]);

      // Only changes are pushed: reading when all is read already sends nothing.
      await bobS.api.notifications.markAllRead.mutate();
      const other = await adaS.api.teams.create.mutate({ organizationId: acme, name: "Live 2", slug: "live-2" });
      await adaS.api.teams.addMember.mutate({ teamId: other.id, userId: bob.id, role: "member" });
      await seen(4);
      expect(counts).toEqual([0, 1, 0, 1]);
      expect(errors).toEqual([]);
    } finally {
      sub.unsubscribe();
    }
  });

  it("the live count needs a session: the stream answers UNAUTHENTICATED and sends no count", async () => {
    const counts: number[] = [];
    const errors: unknown[] = [];
    const sub = new Session(server.url).api.notifications.onUnreadCount.subscribe(undefined, {
      onData: (d) => counts.push(d.count),
      onError: (e) => errors.push(e),
    });
    try {
      await waitFor(
        async () => errors.length,
        (n) => n > 0,
      );
      expect(counts).toEqual([]);
      expect(errors[0]).toBeInstanceOf(TRPCClientError);
      expect(errors[0]).toMatchObject({ data: { httpStatus: 401, juanie: { code: "UNAUTHENTICATED" } } });
    } finally {
      sub.unsubscribe();
    }
  });
});

describe("shutting down", () => {
  it("ends live streams instead of waiting for browsers to hang up", async () => {
    const events: string[] = [];
    const sub = bobS.api.notifications.onUnreadCount.subscribe(undefined, {
      onData: () => events.push("data"),
      onComplete: () => events.push("complete"),
      onError: () => events.push("error"),
    });
    try {
      await waitFor(
        async () => events.length,
        (n) => n > 0,
      );
      const started = Date.now();
      closed = true;
      await server.close();
      expect(Date.now() - started).toBeLessThan(3000);
      await waitFor(
        async () => events.length,
        (n) => n > 1,
        2000,
      );
      expect(events).toEqual(["data", "complete"]);
    } finally {
      sub.unsubscribe();
    }
  });
});
