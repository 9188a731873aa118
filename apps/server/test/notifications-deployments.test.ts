import type { Notification } from "@juanie/contracts";
import { deployments } from "@juanie/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitopsWorld, PROD, pushByHand, settled, startGitopsWorld } from "./gitops-world.ts";
import type { Session } from "./harness.ts";
import { failure, waitFor } from "./support.ts";

/**
 * Notifications about deployments name the project, the environment, the deployment's number, who acted and
 * what changes, and link to it. The requester hears of approval, rejection, commit and failure; everyone who
 * may approve hears of a waiting request; nobody is told of their own action; a muted project tells nothing.
 *
 * Production needs two approvals. Ada (admin, owner), Alice (maintainer) and the developers Bob, Carol, Dave
 * and Erin may approve.
 */

const IMAGE = "ghcr.io/acme/shop";
let w: GitopsWorld;

beforeAll(async () => {
  w = await startGitopsWorld();
});

afterAll(async () => {
  await w?.close();
});

/** The deployment's #n in its project (given by the database). */
async function numberOf(deploymentId: string): Promise<number> {
  const [row] = await w.back.handle.db
    .select({ number: deployments.number })
    .from(deployments)
    .where(eq(deployments.id, deploymentId));
  return row!.number;
}

const all = async (s: Session) => (await s.api.notifications.list.query({ limit: 200 })).items;

/** The user's notifications about one deployment, oldest first, waiting until `count` of `kind` arrived. */
async function about(s: Session, deploymentId: string, kind?: string, count = 1): Promise<Notification[]> {
  const mine = async () => (await all(s)).filter((n) => n.data.deploymentId === deploymentId).reverse();
  return waitFor(mine, (ns) => !kind || ns.filter((n) => n.kind === kind).length >= count, 20_000);
}

describe("deployment notifications", () => {
  let first: string;

  it("a waiting request notifies everyone who may approve it, not the requester, with the whole story", async () => {
    const d = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.production,
      spec: { image: `${IMAGE}:1.1.0` },
    });
    first = d.id;
    expect(d.status).toBe("awaiting_approval");
    const [note] = await about(w.s.carol, d.id, "deployment.approval_requested");
    expect(note).toMatchObject({
      kind: "deployment.approval_requested",
      link: `/deployments/${d.id}`,
      readAt: null,
      data: {
        projectId: w.project.id,
        projectName: "Shop",
        environmentName: "production",
        deploymentNumber: await numberOf(d.id),
        actor: "bob",
        requestedBy: "bob",
        method: "gitops-ui",
        version: "1.1.0",
        previousVersion: "1.0.0",
        requiredApprovals: 2,
        link: `/deployments/${d.id}`,
      },
    });
    expect(await numberOf(d.id)).toBe(1);
    for (const who of ["alice", "dave", "erin"] as const) {
      expect((await about(w.s[who], d.id)).map((n) => n.kind)).toEqual(["deployment.approval_requested"]);
    }
    expect((await about(w.admin, d.id)).map((n) => n.kind)).toEqual(["deployment.approval_requested"]);
    // The requester is not asked to approve their own request.
    expect(await about(w.s.bob, d.id)).toEqual([]);
  });

  it("the requester hears when the quorum is reached (not at the first approval), then when it is committed", async () => {
    await w.s.carol.api.deployments.approve.mutate({ deploymentId: first });
    expect(await about(w.s.bob, first)).toEqual([]);
    await w.s.dave.api.deployments.approve.mutate({ deploymentId: first });
    expect((await settled(w.s.bob, first)).status).toBe("committed");
    const notes = await about(w.s.bob, first, "deployment.committed");
    expect(notes.map((n) => n.kind)).toEqual(["deployment.approved", "deployment.committed"]);
    expect(notes[0]).toMatchObject({
      link: `/deployments/${first}`,
      data: {
        projectName: "Shop",
        environmentName: "production",
        actor: "dave",
        requestedBy: "bob",
        version: "1.1.0",
        approvals: 2,
        requiredApprovals: 2,
      },
    });
    expect(notes[1]!.data).toMatchObject({ projectName: "Shop", environmentName: "production", actor: null });
    expect(String(notes[1]!.data.commitSha)).toMatch(/^[0-9a-f]{12}$/);
    // The approvers are not told of their own approvals.
    expect((await about(w.s.dave, first)).map((n) => n.kind)).toEqual(["deployment.approval_requested"]);
  });

  it("a rejection tells the requester who rejected it and why", async () => {
    const d = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.production,
      spec: { replicas: 4 },
    });
    await w.s.alice.api.deployments.reject.mutate({ deploymentId: d.id, comment: "not during the sale" });
    const [note] = await about(w.s.bob, d.id, "deployment.rejected");
    expect(note).toMatchObject({
      link: `/deployments/${d.id}`,
      data: {
        projectName: "Shop",
        environmentName: "production",
        deploymentNumber: await numberOf(d.id),
        actor: "alice",
        comment: "not during the sale",
        fieldCount: 1,
        version: null,
      },
    });
    expect((await about(w.s.alice, d.id)).map((n) => n.kind)).toEqual(["deployment.approval_requested"]);
  });

  it("a failed commit tells the requester", async () => {
    const d = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.production,
      spec: { image: `${IMAGE}:2.0.0` },
    });
    // Someone changes the same field on the branch meanwhile: a conflict, nothing pushed.
    await pushByHand(w, "main", PROD, (t) => t.replace(/newTag: "?1\.1\.0"?/, 'newTag: "9.9.9"'), "hotfix: pin 9.9.9");
    await w.s.carol.api.deployments.approve.mutate({ deploymentId: d.id });
    await w.s.dave.api.deployments.approve.mutate({ deploymentId: d.id });
    expect((await settled(w.s.bob, d.id)).status).toBe("failed");
    const notes = await about(w.s.bob, d.id, "deployment.failed");
    expect(notes.map((n) => n.kind)).toEqual(["deployment.approved", "deployment.failed"]);
    expect(notes[1]).toMatchObject({
      link: `/deployments/${d.id}`,
      data: {
        projectName: "Shop",
        environmentName: "production",
        deploymentNumber: await numberOf(d.id),
        requestedBy: "bob",
        version: "2.0.0",
        stage: "conflict",
      },
    });
  });

  it("without an approval rule, the requester hears only that it was committed, and nobody else hears of it", async () => {
    const d = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.development,
      spec: { replicas: 2 },
    });
    expect((await settled(w.s.bob, d.id)).status).toBe("committed");
    const notes = await about(w.s.bob, d.id, "deployment.committed");
    expect(notes.map((n) => n.kind)).toEqual(["deployment.committed"]);
    expect(notes[0]!.data).toMatchObject({ environmentName: "development", deploymentNumber: await numberOf(d.id) });
    // Nobody else hears of a deployment that needed nobody.
    expect(await about(w.s.carol, d.id)).toEqual([]);
  });
});

describe("muting a project", () => {
  it("stops that project's notifications for that user only, until unmuted", async () => {
    await w.s.carol.api.notifications.muteProject.mutate({ projectId: w.project.id, muted: true });
    // Muting twice is harmless.
    await w.s.carol.api.notifications.muteProject.mutate({ projectId: w.project.id, muted: true });
    expect(await w.s.carol.api.notifications.mutedProjects.query()).toEqual([
      { projectId: w.project.id, projectName: "Shop", projectSlug: "shop", organizationSlug: "acme" },
    ]);
    const d = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.production,
      spec: { replicas: 5 },
    });
    await about(w.s.dave, d.id, "deployment.approval_requested");
    expect(await about(w.s.carol, d.id)).toEqual([]);
    // Bob muted nothing: he still hears the rejection.
    await w.s.dave.api.deployments.reject.mutate({ deploymentId: d.id, comment: "no" });
    await about(w.s.bob, d.id, "deployment.rejected");

    await w.s.carol.api.notifications.muteProject.mutate({ projectId: w.project.id, muted: false });
    expect(await w.s.carol.api.notifications.mutedProjects.query()).toEqual([]);
    const again = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.production,
      spec: { replicas: 6 },
    });
    expect((await about(w.s.carol, again.id, "deployment.approval_requested")).map((n) => n.kind)).toEqual([
      "deployment.approval_requested",
    ]);
    await w.s.bob.api.deployments.cancel.mutate({ deploymentId: again.id });
  });

  it("a project one cannot see cannot be muted; bad input names the field", async () => {
    const hidden = await w.admin.api.projects.create.mutate({
      organizationId: w.org.id,
      name: "Vault",
      slug: "vault",
      visibility: "private",
    });
    const refused = await failure(w.s.bob.api.notifications.muteProject.mutate({ projectId: hidden.id, muted: true }));
    expect(refused.httpStatus).toBe(404);
    expect(await w.s.bob.api.notifications.mutedProjects.query()).toEqual([]);
    const bad = await failure(w.s.bob.api.notifications.muteProject.mutate({ projectId: "nope", muted: true }));
    expect(bad.juanie.code).toBe("INVALID_INPUT");
    expect(Object.keys(bad.juanie.fieldErrors ?? {})).toContain("projectId");
  });
});

describe("reading in bulk", () => {
  it("marks the selected notifications read and leaves the others unread", async () => {
    const unread = (await w.s.dave.api.notifications.list.query({ unreadOnly: true, limit: 200 })).items;
    expect(unread.length).toBeGreaterThanOrEqual(4);
    const picked = unread.slice(0, 3).map((n) => n.id);
    await w.s.dave.api.notifications.markRead.mutate({ ids: picked });
    const left = (await w.s.dave.api.notifications.list.query({ unreadOnly: true, limit: 200 })).items;
    expect(left.map((n) => n.id)).toEqual(unread.slice(3).map((n) => n.id));
    await w.s.dave.api.notifications.markAllRead.mutate();
    expect((await w.s.dave.api.notifications.list.query({ unreadOnly: true, limit: 200 })).items).toEqual([]);
  });
});
