import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  branchHead,
  DEV,
  type GitopsWorld,
  PROD,
  pushByHand,
  pushPayload,
  settled,
  showFile,
  signedPush,
  startGitopsWorld,
} from "./gitops-world.ts";
import { failure, waitFor } from "./support.ts";

/**
 * Approvals that cannot be slipped past, on the real server and a real Git server: approvals are counted
 * again when the quorum is reached, a request keeps the rule it was made under, and only the commits the
 * platform recorded count as its own — a `Juanie-Deployment:` trailer typed by a person proves nothing.
 */

let w: GitopsWorld;

beforeAll(async () => {
  w = await startGitopsWorld();
});

afterAll(async () => {
  await w?.close();
});

const replicasOn = async (branch: string, file: string) =>
  Number(/count: (\d+)/.exec(await showFile(w, branch, file))?.[1]);

async function productionRule(rule: { approvalRequired: boolean; minApprovals: number }) {
  const [env] = (await w.admin.api.environments.list.query({ projectId: w.project.id })).filter(
    (e) => e.id === w.env.production,
  );
  await w.admin.api.environments.update.mutate({
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

describe("approvals are counted again when the quorum is reached", () => {
  it("an approver who has since left the project no longer counts", async () => {
    const main = await branchHead(w, "main");
    const d = await w.s.bob.api.deployments.request.mutate({ environmentId: w.env.production, spec: { replicas: 4 } });
    expect(d).toMatchObject({ status: "awaiting_approval", minApprovals: 2 });
    await w.s.carol.api.deployments.approve.mutate({ deploymentId: d.id });
    await w.admin.api.projects.removeMember.mutate({ projectId: w.project.id, userId: w.users.carol.id });

    // Two approvals on record, but Carol's no longer counts: still waiting, nothing pushed.
    const second = await w.s.dave.api.deployments.approve.mutate({ deploymentId: d.id });
    expect(second.status).toBe("awaiting_approval");
    expect(second.approvals.map((a) => a.user.username)).toEqual(["carol", "dave"]);
    expect(await branchHead(w, "main")).toBe(main);

    const third = await w.s.erin.api.deployments.approve.mutate({ deploymentId: d.id });
    expect(third.status).not.toBe("awaiting_approval");
    const done = await settled(w.s.bob, d.id);
    expect(done.status).toBe("committed");
    expect(done.events.find((e) => e.to === "queued")?.message).toBe(
      "approved by 2 of 2 required (1 approval(s) no longer count: the approver lost the permission)",
    );
    expect(await replicasOn("main", PROD)).toBe(4);
    await w.admin.api.projects.addMember.mutate({
      projectId: w.project.id,
      userId: w.users.carol.id,
      role: "developer",
    });
  });

  it("an approver who has since lost the deploy permission on the environment no longer counts", async () => {
    const main = await branchHead(w, "main");
    const d = await w.s.bob.api.deployments.request.mutate({ environmentId: w.env.production, spec: { replicas: 5 } });
    await w.s.carol.api.deployments.approve.mutate({ deploymentId: d.id });
    // Production is restricted to three people; Carol stays in the project with read access only.
    await w.admin.api.environments.setGrants.mutate({
      environmentId: w.env.production,
      grants: (["bob", "dave", "erin"] as const).map((u) => ({
        subjectType: "user" as const,
        subjectId: w.users[u].id,
        permission: "deploy" as const,
      })),
    });
    const second = await w.s.dave.api.deployments.approve.mutate({ deploymentId: d.id });
    expect(second.status).toBe("awaiting_approval");
    expect(await branchHead(w, "main")).toBe(main);
    // Carol cannot approve again either: the permission is gone.
    await w.s.erin.api.deployments.approve.mutate({ deploymentId: d.id });
    expect((await settled(w.s.bob, d.id)).status).toBe("committed");
    expect(await replicasOn("main", PROD)).toBe(5);
    await w.admin.api.environments.setGrants.mutate({ environmentId: w.env.production, grants: [] });
  });
});

describe("a request keeps the approval rule it was made under", () => {
  it("lowering the rule does not release a waiting request", async () => {
    const main = await branchHead(w, "main");
    const d = await w.s.bob.api.deployments.request.mutate({ environmentId: w.env.production, spec: { replicas: 6 } });
    await productionRule({ approvalRequired: true, minApprovals: 1 });
    const waiting = await w.s.bob.api.deployments.get.query({ deploymentId: d.id });
    expect(waiting).toMatchObject({ status: "awaiting_approval", minApprovals: 2 });
    const first = await w.s.carol.api.deployments.approve.mutate({ deploymentId: d.id });
    expect(first.status).toBe("awaiting_approval");
    expect(await branchHead(w, "main")).toBe(main);
    await w.s.dave.api.deployments.approve.mutate({ deploymentId: d.id });
    expect((await settled(w.s.bob, d.id)).status).toBe("committed");
  });

  it("raising the rule does not block a waiting request, and turning approvals off releases none", async () => {
    // Made under "one approval".
    const d = await w.s.bob.api.deployments.request.mutate({ environmentId: w.env.production, spec: { replicas: 7 } });
    expect(d.minApprovals).toBe(1);
    await productionRule({ approvalRequired: true, minApprovals: 3 });
    expect((await w.s.bob.api.deployments.get.query({ deploymentId: d.id })).minApprovals).toBe(1);
    await w.s.carol.api.deployments.approve.mutate({ deploymentId: d.id });
    expect((await settled(w.s.bob, d.id)).status).toBe("committed");
    expect(await replicasOn("main", PROD)).toBe(7);

    // Made under "three approvals"; approvals are then turned off: it still needs its three.
    const waiting = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.production,
      spec: { replicas: 8 },
    });
    const main = await branchHead(w, "main");
    await productionRule({ approvalRequired: false, minApprovals: 1 });
    await new Promise((r) => setTimeout(r, 500)); // the worker and scheduler had their chance
    expect(await w.s.bob.api.deployments.get.query({ deploymentId: waiting.id })).toMatchObject({
      status: "awaiting_approval",
      minApprovals: 3,
    });
    expect(await branchHead(w, "main")).toBe(main);
    // Refused steps read as sentences.
    await w.s.bob.api.deployments.cancel.mutate({ deploymentId: waiting.id });
    const late = await failure(w.s.carol.api.deployments.approve.mutate({ deploymentId: waiting.id }));
    expect(late.message).toBe("This deployment was already cancelled");
    await productionRule({ approvalRequired: true, minApprovals: 2 });
  });

  it("says why a decided deployment cannot be decided again, in a sentence", async () => {
    const d = await w.s.bob.api.deployments.request.mutate({ environmentId: w.env.production, spec: { replicas: 9 } });
    await w.s.carol.api.deployments.reject.mutate({ deploymentId: d.id, comment: "not this week" });
    const again = await failure(w.s.dave.api.deployments.reject.mutate({ deploymentId: d.id, comment: "me neither" }));
    expect(again.message).toBe("This deployment was already rejected");
    expect(again.juanie).toMatchObject({
      code: "INVALID_INPUT",
      fieldErrors: { deploymentId: ["was already rejected"] },
    });
    const approve = await failure(w.s.dave.api.deployments.approve.mutate({ deploymentId: d.id }));
    expect(approve.message).toBe("This deployment was already rejected");
  });
});

describe("a Juanie-Deployment trailer typed by a person proves nothing", () => {
  it("push detection records such a commit as the person's deployment", async () => {
    const ui = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.development,
      spec: { replicas: 2 },
    });
    const ours = await settled(w.s.bob, ui.id);
    expect(ours.status).toBe("committed");
    const before = (await branchHead(w, "develop"))!;
    const forged = await pushByHand(
      w,
      "develop",
      DEV,
      (t) => t.replace(/count: \d+/, "count: 3"),
      `ops: three replicas\n\nJuanie-Deployment: ${ui.id}`,
    );
    // The trailer is really there, as git reads it.
    expect(await w.git.git(w.repo, ["log", "-1", "--format=%(trailers:key=Juanie-Deployment,valueonly)", forged])).toBe(
      `${ui.id}\n\n`,
    );
    expect(await signedPush(w, pushPayload("develop", before, forged))).toMatchObject({ status: 202 });
    const recorded = await waitFor(
      async () =>
        (await w.admin.api.deployments.list.query({ projectId: w.project.id, limit: 100 })).items.filter(
          (d) => d.commitSha === forged,
        ),
      (l) => l.length > 0,
    );
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ method: "gitops-git", author: "Tess Tester", status: "committed" });
    // The platform's own commit is still recorded once: as the UI deployment.
    const all = await w.admin.api.deployments.list.query({ projectId: w.project.id, limit: 100 });
    expect(all.items.filter((d) => d.commitSha === ours.commitSha).map((d) => d.id)).toEqual([ui.id]);
  });

  it("conflict detection does not take such a commit for the platform's own", async () => {
    const d = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.production,
      spec: { replicas: 11 },
    });
    const before = await replicasOn("main", PROD);
    // Someone changes the same field meanwhile and signs it with a trailer naming a deployment.
    const theirs = await pushByHand(
      w,
      "main",
      PROD,
      (t) => t.replace(/count: \d+/, "count: 12"),
      `ops: twelve replicas\n\nJuanie-Deployment: ${d.id}`,
    );
    await w.s.carol.api.deployments.approve.mutate({ deploymentId: d.id });
    await w.s.dave.api.deployments.approve.mutate({ deploymentId: d.id });
    const done = await settled(w.s.bob, d.id);
    expect(done.status).toBe("failed");
    expect(done.conflict).toEqual([{ field: "replicas", base: before, theirs: 12, ours: 11 }]);
    expect(done.error).toMatch(/replicas is now 12, you asked for 11/);
    // Their change stands; nothing was pushed over it.
    expect(await branchHead(w, "main")).toBe(theirs);
    expect(await replicasOn("main", PROD)).toBe(12);
  });
});
