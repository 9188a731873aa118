import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session, startTestServer, type TestServer } from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the foundation journey over the real API", () => {
  it("setup → organization → invitation → team → project → grant, every step audited", async () => {
    const admin = new Session(server.url);
    expect(await admin.api.auth.setupStatus.query()).toMatchObject({ needsSetup: true });
    const me = await admin.api.auth.setup.mutate({
      email: "Ada@Example.com",
      username: "ada",
      displayName: "Ada Lovelace",
      password: "correct horse battery",
    });
    expect(me).toMatchObject({ username: "ada", email: "ada@example.com", isPlatformAdmin: true });
    expect(admin.cookie).toMatch(/^juanie_session=/);
    // A second setup is refused.
    await expect(
      new Session(server.url).api.auth.setup.mutate({
        email: "eve@example.com",
        username: "eve",
        displayName: "Eve",
        password: "correct horse battery",
      }),
    ).rejects.toMatchObject({ data: { juanie: { code: "CONFLICT" } } });

    const org = await admin.api.orgs.create.mutate({ name: "Acme", slug: "acme", displayName: "Acme Inc." });
    expect(org).toMatchObject({ slug: "acme", myRole: "admin", memberCount: 1 });

    const { acceptUrl, invitation } = await admin.api.invitations.create.mutate({
      organizationId: org.id,
      invitee: "bob@example.com",
      role: "member",
    });
    expect(invitation.status).toBe("pending");
    const token = acceptUrl.split("/invitations/")[1]!;
    expect(acceptUrl).toBe(`${server.url}/invitations/${token}`);

    const bob = new Session(server.url);
    expect(await bob.api.invitations.byToken.query({ token })).toMatchObject({
      organization: { slug: "acme" },
      role: "member",
    });
    await bob.api.auth.signUp.mutate({
      invitationToken: token,
      email: "bob@example.com",
      username: "bob",
      displayName: "Bob",
      password: "another long password",
    });
    const mine = await bob.api.invitations.mine.query();
    expect(mine.map((i) => i.id)).toEqual([invitation.id]);
    await bob.api.invitations.acceptByToken.mutate({ token });
    expect((await bob.api.orgs.list.query()).map((o) => o.slug)).toEqual(["acme"]);
    expect((await admin.api.orgs.members.query({ organizationId: org.id })).map((m) => m.user.username)).toEqual([
      "ada",
      "bob",
    ]);

    const team = await admin.api.teams.create.mutate({ organizationId: org.id, name: "Platform", slug: "platform" });
    const bobId = (await bob.api.auth.me.query())!.id;
    await admin.api.teams.addMember.mutate({ teamId: team.id, userId: bobId, role: "maintainer" });

    const project = await admin.api.projects.create.mutate({
      organizationId: org.id,
      name: "Shop",
      slug: "shop",
      visibility: "private",
    });
    expect(project).toMatchObject({ status: "initializing", myRole: "owner" });
    // The initialisation job (enqueued with the project) makes it active.
    const active = await waitFor(
      () => admin.api.projects.bySlug.query({ organizationSlug: "acme", slug: "shop" }),
      (p) => p.status === "active",
    );
    expect(active.status).toBe("active");

    // Bob cannot see the private project until his team is granted a role on it.
    await expect(bob.api.projects.bySlug.query({ organizationSlug: "acme", slug: "shop" })).rejects.toMatchObject({
      data: { juanie: { code: "NOT_FOUND" } },
    });
    await admin.api.projects.grantTeam.mutate({ projectId: project.id, teamId: team.id, role: "developer" });
    expect(await bob.api.projects.bySlug.query({ organizationSlug: "acme", slug: "shop" })).toMatchObject({
      myRole: "developer",
    });

    const audit = await admin.api.audit.list.query({ organizationId: org.id, limit: 100 });
    const actions = audit.items.map((e) => e.action).reverse();
    expect(actions).toEqual([
      "org.create",
      "invitation.create",
      "auth.sign_up",
      "invitation.accept",
      "team.create",
      "team.member.add",
      "project.create",
      "project.activate",
      "project.team.grant",
    ]);
    expect(audit.items.every((e) => e.result === "success")).toBe(true);
    const grant = audit.items.find((e) => e.action === "project.team.grant")!;
    expect(grant).toMatchObject({
      actor: { label: "ada" },
      projectId: project.id,
      changes: { after: { team: "platform", role: "developer" } },
      ip: "127.0.0.1",
    });
    // No password or session token ever reaches the log.
    const logText = server.logs.join("");
    expect(logText).not.toContain("correct horse battery");
    expect(logText).not.toContain(admin.cookie!.split("=")[1]!);
  });
});
