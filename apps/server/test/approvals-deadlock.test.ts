import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitopsWorld, settled, startGitopsWorld } from "./gitops-world.ts";
import { auditSince, createUser, failure, lastAuditId, signIn } from "./support.ts";

/**
 * Approvals can always be completed: a rule nobody could meet is refused when saved, a request that can no
 * longer reach its quorum says so and names who could still approve, it can be cancelled and requested
 * again under the current rule, and an organization admin can approve "break glass" with a reason.
 *
 * Production here: Ada (organization admin, project owner) and Alice (maintainer) administer it; Bob, Carol,
 * Dave and Erin are developers. Six people may approve, so a request can get at most five approvals.
 */

let w: GitopsWorld;

beforeAll(async () => {
  w = await startGitopsWorld();
});

afterAll(async () => {
  await w?.close();
});

async function productionRule(rule: { approvalRequired: boolean; minApprovals: number }) {
  const [env] = (await w.admin.api.environments.list.query({ projectId: w.project.id })).filter(
    (e) => e.id === w.env.production,
  );
  return w.admin.api.environments.update.mutate({
    environmentId: env!.id,
    name: env!.name,
    type: env!.type,
    cloudProvider: env!.cloudProvider as null,
    region: env!.region,
    approvalRequired: rule.approvalRequired,
    minApprovals: rule.minApprovals,
    gitops: env!.gitops,
  });
}

describe("a rule that cannot be met is refused when saved", () => {
  it("names how many people other than the requester can approve", async () => {
    const refused = await failure(productionRule({ approvalRequired: true, minApprovals: 6 }));
    expect(refused.juanie.fieldErrors?.minApprovals).toEqual([
      "must be at most 5: only 5 people other than the requester can approve deployments to this environment",
    ]);
    const [prod] = (await w.admin.api.environments.list.query({ projectId: w.project.id })).filter(
      (e) => e.id === w.env.production,
    );
    expect(prod!.minApprovals).toBe(2);
    // Five is possible.
    expect((await productionRule({ approvalRequired: true, minApprovals: 5 })).minApprovals).toBe(5);
    await productionRule({ approvalRequired: true, minApprovals: 2 });
  });

  it("counts only people who hold the deploy permission on that environment", async () => {
    // Restricted to Bob and Carol: with the two administrators, four people may approve.
    await w.admin.api.environments.setGrants.mutate({
      environmentId: w.env.production,
      grants: (["bob", "carol"] as const).map((u) => ({
        subjectType: "user" as const,
        subjectId: w.users[u].id,
        permission: "deploy" as const,
      })),
    });
    const refused = await failure(productionRule({ approvalRequired: true, minApprovals: 4 }));
    expect(refused.juanie.fieldErrors?.minApprovals?.[0]).toMatch(/^must be at most 3: only 3 people other than/);
    await w.admin.api.environments.setGrants.mutate({ environmentId: w.env.production, grants: [] });
  });

  it("a new environment with an unmeetable rule is not created", async () => {
    const refused = await failure(
      w.admin.api.environments.create.mutate({
        projectId: w.project.id,
        name: "canary",
        type: "production",
        approvalRequired: true,
        minApprovals: 9,
        gitops: {
          enabled: false,
          repositoryId: null,
          branch: null,
          path: null,
          syncInterval: "5m",
          autoSync: true,
          clusterId: null,
          namespace: null,
          prune: true,
          timeout: "5m",
          wait: true,
        },
      }),
    );
    expect(refused.juanie.fieldErrors?.minApprovals?.[0]).toMatch(/^must be at most 5:/);
    const names = (await w.admin.api.environments.list.query({ projectId: w.project.id })).map((e) => e.name);
    expect(names).not.toContain("canary");
  });

  it("suggested environments keep production's two approvals only when two other people can give them", async () => {
    const alone = await w.admin.api.projects.create.mutate({
      organizationId: w.org.id,
      name: "Solo",
      slug: "solo",
      visibility: "private",
    });
    const solo = await w.admin.api.environments.createSuggested.mutate({ projectId: alone.id, repositoryId: null });
    // Nobody but Ada can approve: approvals are off rather than a rule nobody can meet.
    expect(solo.find((e) => e.name === "production")).toMatchObject({ approvalRequired: false, minApprovals: 1 });

    const pair = await w.admin.api.projects.create.mutate({
      organizationId: w.org.id,
      name: "Pair",
      slug: "pair",
      visibility: "private",
    });
    await w.admin.api.projects.addMember.mutate({ projectId: pair.id, userId: w.users.bob.id, role: "developer" });
    const two = await w.admin.api.environments.createSuggested.mutate({ projectId: pair.id, repositoryId: null });
    expect(two.find((e) => e.name === "production")).toMatchObject({ approvalRequired: true, minApprovals: 1 });
  });
});

describe("a request that can no longer reach its quorum", () => {
  it("says so, names who could approve, and can be cancelled and requested again under the current rule", async () => {
    await productionRule({ approvalRequired: true, minApprovals: 5 });
    const d = await w.s.bob.api.deployments.request.mutate({ environmentId: w.env.production, spec: { replicas: 13 } });
    expect(d).toMatchObject({ status: "awaiting_approval", minApprovals: 5, approvalBlocked: null });
    await w.s.carol.api.deployments.approve.mutate({ deploymentId: d.id });
    // Erin leaves: four approvals are needed, three people can still give one.
    await w.admin.api.projects.removeMember.mutate({ projectId: w.project.id, userId: w.users.erin.id });
    const blocked = await w.s.bob.api.deployments.get.query({ deploymentId: d.id });
    expect(blocked.status).toBe("awaiting_approval");
    expect(blocked.approvalBlocked).toEqual({ needed: 4, possible: 3, approvers: ["Ada", "alice", "dave"] });

    // The rule can be lowered to what is possible now; the waiting request keeps its own.
    await productionRule({ approvalRequired: true, minApprovals: 2 });
    const kept = await w.s.bob.api.deployments.get.query({ deploymentId: d.id });
    expect(kept).toMatchObject({ minApprovals: 5, currentMinApprovals: 2 });
    expect(kept.approvalBlocked).not.toBeNull();

    const cancelled = await w.s.bob.api.deployments.cancel.mutate({ deploymentId: d.id });
    expect(cancelled).toMatchObject({ status: "cancelled", canRequestAgain: true, approvalBlocked: null });
    const again = await w.s.bob.api.deployments.requestAgain.mutate({ deploymentId: d.id });
    expect(again.id).not.toBe(d.id);
    expect(again).toMatchObject({
      status: "awaiting_approval",
      minApprovals: 2,
      currentMinApprovals: null,
      approvalBlocked: null,
      request: { spec: { replicas: 13 } },
    });
    await w.s.carol.api.deployments.approve.mutate({ deploymentId: again.id });
    await w.s.dave.api.deployments.approve.mutate({ deploymentId: again.id });
    expect((await settled(w.s.bob, again.id)).status).toBe("committed");
    await w.admin.api.projects.addMember.mutate({
      projectId: w.project.id,
      userId: w.users.erin.id,
      role: "developer",
    });
  });

  it("a waiting request cannot be requested again before it is cancelled", async () => {
    const d = await w.s.bob.api.deployments.request.mutate({ environmentId: w.env.production, spec: { replicas: 4 } });
    const refused = await failure(w.s.bob.api.deployments.requestAgain.mutate({ deploymentId: d.id }));
    expect(refused.juanie.fieldErrors?.deploymentId?.[0]).toMatch(/cancel it first/);
    await w.s.bob.api.deployments.cancel.mutate({ deploymentId: d.id });
  });
});

describe("break glass", () => {
  it("needs an organization admin and a reason, completes the approval, is audited and notified", async () => {
    const d = await w.s.bob.api.deployments.request.mutate({ environmentId: w.env.production, spec: { replicas: 6 } });
    expect((await w.admin.api.deployments.get.query({ deploymentId: d.id })).canBreakGlass).toBe(true);
    // A maintainer administers the environment but is not an organization admin.
    expect((await w.s.alice.api.deployments.get.query({ deploymentId: d.id })).canBreakGlass).toBe(false);
    const notAdmin = await failure(w.s.alice.api.deployments.breakGlass.mutate({ deploymentId: d.id, reason: "now" }));
    expect(notAdmin.httpStatus).toBe(403);
    expect(notAdmin.message).toMatch(/organization admin/);
    const noReason = await failure(w.admin.api.deployments.breakGlass.mutate({ deploymentId: d.id, reason: "  " }));
    expect(noReason.juanie.fieldErrors?.reason?.[0]).toMatch(/^is required/);
    expect((await w.s.bob.api.deployments.get.query({ deploymentId: d.id })).status).toBe("awaiting_approval");

    const before = await lastAuditId(w.back);
    const done = await w.admin.api.deployments.breakGlass.mutate({
      deploymentId: d.id,
      reason: "checkout is down, the fix cannot wait for two approvals",
    });
    expect(done.status).not.toBe("awaiting_approval");
    expect(done.breakGlass).toMatchObject({
      by: "ada",
      reason: "checkout is down, the fix cannot wait for two approvals",
    });
    const committed = await settled(w.s.bob, d.id);
    expect(committed.status).toBe("committed");
    expect(committed.events.find((e) => e.to === "queued")?.message).toMatch(
      /^break glass by ada \(approved by 0 of 2 required\): checkout is down/,
    );
    const audit = (await auditSince(w.back, before)).filter((a) => a.action === "deployment.approve_break_glass");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ result: "success", resourceId: d.id, projectId: w.project.id });

    const alicesNotes = (await w.s.alice.api.notifications.list.query({ limit: 200 })).items;
    expect(alicesNotes.find((n) => n.kind === "deployment.break_glass")).toMatchObject({
      link: `/deployments/${d.id}`,
      data: { approvedBy: "ada", environmentName: "production", deploymentId: d.id },
    });
    // Developers are not notified.
    const carolsNotes = (await w.s.carol.api.notifications.list.query({ limit: 200 })).items;
    expect(carolsNotes.some((n) => n.kind === "deployment.break_glass")).toBe(false);
  });

  it("is not for the admin's own request", async () => {
    const own = await w.admin.api.deployments.request.mutate({
      environmentId: w.env.production,
      spec: { replicas: 7 },
    });
    expect(own.canBreakGlass).toBe(false);
    const refused = await failure(w.admin.api.deployments.breakGlass.mutate({ deploymentId: own.id, reason: "mine" }));
    expect(refused.httpStatus).toBe(403);
    expect(refused.message).toMatch(/not your own/);
    await w.admin.api.deployments.cancel.mutate({ deploymentId: own.id });
  });

  it("an organization admin from outside the project can also break glass", async () => {
    const olga = await createUser(w.back, "olga");
    await w.back.handle.db.execute(
      // Olga is an admin of the organization, not a member of the project.
      sql`insert into organization_members (organization_id, user_id, role)
        values (${w.org.id}, ${olga.id}, 'admin')`,
    );
    const s = await signIn(w.server, olga);
    const d = await w.s.bob.api.deployments.request.mutate({ environmentId: w.env.production, spec: { replicas: 8 } });
    const done = await s.api.deployments.breakGlass.mutate({ deploymentId: d.id, reason: "incident 42" });
    expect(done.breakGlass).toMatchObject({ by: "olga", reason: "incident 42" });
    expect((await settled(w.s.bob, d.id)).status).toBe("committed");
  });
});
