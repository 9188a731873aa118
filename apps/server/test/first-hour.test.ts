import { type FakeGitHub, startFakeGitHub } from "@juanie/providers/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  branchHead,
  DEV,
  type GitopsWorld,
  PROD,
  pushByHand,
  pushPayload,
  settled,
  signedPush,
  startGitopsWorld,
} from "./gitops-world.ts";
import { failure, waitFor } from "./support.ts";

/**
 * A team's first hour, on the real server and a real Git server: commits that reach a gated environment
 * without the platform are recorded as having bypassed its approvals (audited, notified, shown until a
 * maintainer acknowledges them), the Git host says whether it protects the branch, environments have a
 * promotion order and a promotion links its source, and a rollback says what it undoes before it runs.
 */

let w: GitopsWorld;

beforeAll(async () => {
  w = await startGitopsWorld();
});

afterAll(async () => {
  await w?.close();
});

const envs = () => w.admin.api.environments.list.query({ projectId: w.project.id });
const envNamed = async (name: string) => (await envs()).find((e) => e.name === name)!;

/** A hand-made push to `branch`, announced by webhook; resolves to the deployment recorded for it. */
async function pushAndRecord(branch: string, file: string, edit: (t: string) => string, message: string) {
  const before = (await branchHead(w, branch))!;
  const sha = await pushByHand(w, branch, file, edit, message);
  expect(await signedPush(w, pushPayload(branch, before, sha))).toMatchObject({ status: 202 });
  const [recorded] = await waitFor(
    async () =>
      (await w.admin.api.deployments.list.query({ projectId: w.project.id, limit: 100 })).items.filter(
        (d) => d.commitSha === sha,
      ),
    (l) => l.length > 0,
  );
  return { sha, deployment: recorded! };
}

async function auditFor(filter: { organizationId?: string; projectId?: string }, action: string) {
  const { items } = await w.admin.api.audit.list.query({ ...filter, action, limit: 200 });
  return items;
}

describe("no silent bypass", () => {
  it("a push to a gated environment's branch is recorded, audited, notified and shown on the environment", async () => {
    const { sha, deployment } = await pushAndRecord(
      "main",
      PROD,
      (t) => t.replace(/count: \d+/, "count: 7"),
      "hotfix: seven replicas",
    );
    expect(deployment).toMatchObject({ method: "gitops-git", author: "Tess Tester", bypassedApproval: true });
    const detail = await w.admin.api.deployments.get.query({ deploymentId: deployment.id });
    expect(detail.events.map((e) => e.message)).toContain("pushed by Tess Tester without the environment's approvals");

    // Audited as such, in the project's and the organization's log, with the author and the commit.
    for (const filter of [{ projectId: w.project.id }, { organizationId: w.org.id }]) {
      const entries = await auditFor(filter, "deployment.bypassed_approval");
      const entry = entries.find((e) => e.resourceId === deployment.id);
      expect(entry, JSON.stringify(filter)).toBeDefined();
      expect(entry!.actor.label).toBe("Tess Tester");
      expect(entry!.changes?.after).toMatchObject({ commit: sha, environment: "production", withoutApprovals: true });
      expect(entry!.projectName).toBe("Shop");
      expect(entry!.environmentName).toBe("production");
      expect(entry!.deploymentNumber).toBe(deployment.number);
    }

    // The maintainer hears of it; a developer does not.
    const alice = await waitFor(
      () => w.s.alice.api.notifications.list.query({}),
      (l) => l.items.some((n) => n.kind === "deployment.bypassed_approval"),
    );
    const note = alice.items.find((n) => n.kind === "deployment.bypassed_approval")!;
    expect(note.data).toMatchObject({
      author: "Tess Tester",
      commitSha: sha,
      environmentName: "production",
      projectName: "Shop",
      deploymentNumber: deployment.number,
    });
    expect(note.link).toBe(`/deployments/${deployment.id}`);
    const bob = await w.s.bob.api.notifications.list.query({});
    expect(bob.items.some((n) => n.kind === "deployment.bypassed_approval")).toBe(false);

    // The environment shows it; the ungated one does not.
    const production = await envNamed("production");
    expect(production.bypass).toMatchObject({
      count: 1,
      latest: { id: deployment.id, number: deployment.number, commitSha: sha, author: "Tess Tester" },
    });
    expect((await envNamed("development")).bypass).toBeNull();
  });

  it("a push to an environment without approvals is an ordinary push", async () => {
    // The platform creates the development branch with its first deployment.
    const first = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.development,
      spec: { replicas: 2 },
    });
    await settled(w.s.bob, first.id);
    const { deployment } = await pushAndRecord(
      "develop",
      DEV,
      (t) => t.replace(/count: \d+/, "count: 5"),
      "dev: five replicas",
    );
    expect(deployment.bypassedApproval).toBe(false);
    const entries = await auditFor({ projectId: w.project.id }, "deployment.push");
    expect(entries.map((e) => e.resourceId)).toContain(deployment.id);
    expect((await envNamed("development")).bypass).toBeNull();
  });

  it("a maintainer acknowledges the warning; a developer may not; the next bypass shows again", async () => {
    const production = await envNamed("production");
    expect(
      await failure(w.s.bob.api.environments.acknowledgeBypass.mutate({ environmentId: production.id })),
    ).toMatchObject({
      juanie: { code: "FORBIDDEN" },
    });
    const acknowledged = await w.s.alice.api.environments.acknowledgeBypass.mutate({ environmentId: production.id });
    expect(acknowledged.bypass).toBeNull();
    expect((await envNamed("production")).bypass).toBeNull();
    const [entry] = await auditFor({ projectId: w.project.id }, "environment.acknowledge_bypass");
    expect(entry?.changes?.after).toMatchObject({ acknowledged: 1 });

    const { sha } = await pushAndRecord("main", PROD, (t) => t.replace(/count: \d+/, "count: 8"), "hotfix: eight");
    expect((await envNamed("production")).bypass).toMatchObject({ count: 1, latest: { commitSha: sha } });
  });
});

describe("branch protection at the Git host", () => {
  let gh: FakeGitHub;

  beforeAll(async () => {
    const commit = {
      sha: "a".repeat(40),
      message: "init",
      authorName: "A",
      authorEmail: "a@x",
      date: "2026-01-01T00:00:00Z",
    };
    gh = await startFakeGitHub({
      users: [{ token: w.token, login: "acme-bot" }],
      orgs: [{ login: "acme", admins: ["acme-bot"] }],
      repos: [
        {
          owner: "acme",
          name: "guarded",
          defaultBranch: "main",
          branches: [
            { name: "main", protected: true, commits: [commit] },
            { name: "staging", protected: false, commits: [commit] },
          ],
        },
      ],
    });
  });

  afterAll(async () => {
    await gh?.close();
  });

  it("says whether the environment's branch is protected, as the repository's token sees it", async () => {
    await w.git.createRepo("acme/guarded", { withInitialCommit: true });
    const repo = await w.admin.api.repositories.connect.mutate({
      projectId: w.project.id,
      provider: "github",
      url: `${w.git.url}/acme/guarded.git`,
      apiUrl: gh.apiUrl,
      credential: { type: "token", token: w.token },
      registerWebhook: false,
    });
    const make = (name: string, branch: string) =>
      w.admin.api.environments.create.mutate({
        projectId: w.project.id,
        name,
        type: "production",
        cloudProvider: null,
        region: null,
        approvalRequired: false,
        minApprovals: 1,
        gitops: {
          enabled: false,
          repositoryId: repo.id,
          branch,
          path: "k8s/overlays/production",
          syncInterval: "5m",
          autoSync: true,
          clusterId: null,
          namespace: null,
          prune: true,
          timeout: "5m",
          wait: true,
        },
      });
    const guarded = await make("guarded-prod", "main");
    const open = await make("guarded-staging", "staging");
    const missing = await make("guarded-next", "next");

    expect(await w.s.bob.api.environments.branchProtection.query({ environmentId: guarded.id })).toEqual({
      provider: "github",
      branch: "main",
      status: "protected",
      reason: null,
      settingsUrl: "https://github.example/acme/guarded/settings/branches",
    });
    expect(await w.s.bob.api.environments.branchProtection.query({ environmentId: open.id })).toMatchObject({
      status: "unprotected",
      reason: null,
    });
    expect(await w.s.bob.api.environments.branchProtection.query({ environmentId: missing.id })).toMatchObject({
      status: "unknown",
      reason: "The branch next does not exist in the repository yet.",
    });
    // The world's repository is connected with plain Git: the platform cannot ask, and says so.
    expect(await w.s.bob.api.environments.branchProtection.query({ environmentId: w.env.production })).toMatchObject({
      provider: "git",
      status: "unknown",
      reason: expect.stringContaining("plain Git"),
    });
    for (const e of [guarded, open, missing]) await w.admin.api.environments.delete.mutate({ environmentId: e.id });
    await w.admin.api.repositories.disconnect.mutate({ repositoryId: repo.id });
  });

  it("creating a repository with an untagged image is refused before it exists on the provider", async () => {
    expect(
      await failure(
        w.admin.api.repositories.create.mutate({
          projectId: w.project.id,
          provider: "github",
          apiUrl: gh.apiUrl,
          token: w.token,
          namespace: "acme",
          name: "untagged",
          private: true,
          image: "nginx",
          port: 8080,
        }),
      ),
    ).toMatchObject({
      juanie: { code: "INVALID_INPUT", fieldErrors: { image: [expect.stringContaining("tag or a digest")] } },
    });
    expect(gh.repo("acme/untagged")).toBeUndefined();
  });
});

describe("an image without a tag or digest is refused for a new layout too", () => {
  it("initializing a repository's layout and creating a repository refuse it before anything is written", async () => {
    const headBefore = await branchHead(w, "main");
    for (const image of ["nginx", "registry.example.com/app", "localhost:5000/app"]) {
      expect(
        await failure(w.admin.api.repositories.initializeLayout.mutate({ repositoryId: w.repoId, image, port: 8080 })),
      ).toMatchObject({
        juanie: {
          code: "INVALID_INPUT",
          fieldErrors: { image: ["must name a tag or a digest, like app:1.2.3 or app@sha256:…"] },
        },
      });
    }
    expect(await branchHead(w, "main")).toBe(headBefore);
  });
});

describe("promotion order", () => {
  it("starts development → staging → production, can be reordered by a maintainer, and new environments join after their kind", async () => {
    expect((await envs()).map((e) => [e.name, e.position])).toEqual([
      ["development", 0],
      ["staging", 1],
      ["production", 2],
    ]);
    const [dev, staging, prod] = (await envs()).map((e) => e.id) as [string, string, string];

    expect(
      await failure(w.s.bob.api.environments.reorder.mutate({ projectId: w.project.id, order: [staging, dev, prod] })),
    ).toMatchObject({ juanie: { code: "FORBIDDEN" } });
    expect(
      await failure(w.s.alice.api.environments.reorder.mutate({ projectId: w.project.id, order: [staging, dev] })),
    ).toMatchObject({
      juanie: {
        code: "INVALID_INPUT",
        fieldErrors: { order: ["must list each of the project's 3 environments once"] },
      },
    });
    expect(
      await failure(
        w.s.alice.api.environments.reorder.mutate({ projectId: w.project.id, order: [staging, staging, prod] }),
      ),
    ).toMatchObject({ juanie: { code: "INVALID_INPUT", fieldErrors: { order: ["lists an environment twice"] } } });

    const reordered = await w.s.alice.api.environments.reorder.mutate({
      projectId: w.project.id,
      order: [staging, dev, prod],
    });
    expect(reordered.map((e) => e.name)).toEqual(["staging", "development", "production"]);
    const [entry] = await auditFor({ projectId: w.project.id }, "environment.reorder");
    expect(entry?.changes).toEqual({
      before: { order: ["development", "staging", "production"] },
      after: { order: ["staging", "development", "production"] },
    });
    await w.s.alice.api.environments.reorder.mutate({ projectId: w.project.id, order: [dev, staging, prod] });

    // A testing environment joins after development, before staging.
    const qa = await w.admin.api.environments.create.mutate({
      projectId: w.project.id,
      name: "qa",
      type: "testing",
      cloudProvider: null,
      region: null,
      approvalRequired: false,
      minApprovals: 1,
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
    });
    expect((await envs()).map((e) => [e.name, e.position])).toEqual([
      ["development", 0],
      ["qa", 1],
      ["staging", 2],
      ["production", 3],
    ]);
    await w.admin.api.environments.delete.mutate({ environmentId: qa.id });
  });

  it("a promotion records its source deployment, and goes through the next environment's approvals", async () => {
    const fromDev = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.development,
      spec: { image: "ghcr.io/acme/shop:4.2.0" },
    });
    await settled(w.s.bob, fromDev.id);
    // What development runs, and what a promotion from it carries on.
    expect((await envNamed("development")).landedDeployment).toEqual({ id: fromDev.id, number: fromDev.number });
    const promoted = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.staging,
      spec: { image: "ghcr.io/acme/shop:4.2.0" },
      promotedFromId: fromDev.id,
    });
    expect(promoted.promotedFromId).toBe(fromDev.id);
    expect(promoted.promotedFrom).toEqual({ id: fromDev.id, number: fromDev.number, environmentName: "development" });
    const [entry] = await auditFor({ projectId: w.project.id }, "deployment.request");
    expect(entry?.changes?.after).toMatchObject({
      promotedFrom: { number: fromDev.number, environment: "development" },
    });

    // To production: waits for its two approvals like any request.
    const toProd = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.production,
      spec: { image: "ghcr.io/acme/shop:4.2.0" },
      promotedFromId: promoted.id,
    });
    expect(toProd).toMatchObject({ status: "awaiting_approval", minApprovals: 2 });
    expect(toProd.promotedFrom).toMatchObject({ id: promoted.id, environmentName: "staging" });
    // A request still waiting is not what production runs.
    expect((await envNamed("production")).landedDeployment?.id).not.toBe(toProd.id);
    expect((await envNamed("production")).lastDeployment?.id).toBe(toProd.id);
    await w.s.bob.api.deployments.cancel.mutate({ deploymentId: toProd.id });

    // The source must be another environment of the project.
    expect(
      await failure(
        w.s.bob.api.deployments.request.mutate({
          environmentId: w.env.development,
          spec: { image: "ghcr.io/acme/shop:4.2.1" },
          promotedFromId: fromDev.id,
        }),
      ),
    ).toMatchObject({
      juanie: {
        code: "INVALID_INPUT",
        fieldErrors: { promotedFromId: ["must be a deployment of another environment: a promotion moves values on"] },
      },
    });
  });
});

describe("rollback preview", () => {
  it("lists the deployments and commits a rollback undoes, the files it changes and the rendered difference", async () => {
    const first = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.development,
      spec: { replicas: 2 },
    });
    await settled(w.s.bob, first.id);
    const second = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.development,
      spec: { replicas: 3, image: "ghcr.io/acme/shop:5.0.0" },
    });
    const secondDone = await settled(w.s.bob, second.id);
    const { sha: pushed, deployment: push } = await pushAndRecord(
      "develop",
      DEV,
      (t) => t.replace(/count: \d+/, "count: 4"),
      "ops: four replicas by hand",
    );
    const waiting = await w.s.carol.api.deployments.request.mutate({
      environmentId: w.env.development,
      spec: { replicas: 6 },
    });
    await settled(w.s.carol, waiting.id);

    const preview = await w.s.bob.api.deployments.rollbackPreview.query({ deploymentId: first.id });
    expect(preview.target).toMatchObject({ id: first.id, number: first.number });
    expect(preview.nothingToUndo).toBe(false);
    expect(preview.environmentName).toBe("development");
    // Newest first: what the rollback supersedes.
    expect(preview.deployments.map((d) => d.id)).toEqual([waiting.id, push.id, second.id]);
    const secondRow = preview.deployments.find((d) => d.id === second.id)!;
    expect(secondRow).toMatchObject({ landed: true, method: "gitops-ui", requestedBy: { username: "bob" } });
    expect(secondRow.fields.map((f) => f.field).sort()).toEqual(["image", "replicas"]);
    expect(preview.deployments.find((d) => d.id === push.id)).toMatchObject({
      author: "Tess Tester",
      method: "gitops-git",
    });
    // The commits on the path since the target's, with the deployment each one is.
    const commitShas = preview.commits.map((c) => c.sha);
    expect(commitShas).toContain(pushed);
    expect(commitShas).toContain(secondDone.commitSha);
    expect(preview.commits.find((c) => c.sha === pushed)).toMatchObject({
      subject: "ops: four replicas by hand",
      author: "Tess Tester",
      deploymentNumber: push.number,
    });
    expect(preview.changedFiles).toContain(DEV);
    expect(preview.diff).toContain("ghcr.io/acme/shop");
    // Rendered by the real kustomize: the workload goes back to two replicas and the old image.
    expect(preview.render.verified).toBe(true);
    if (preview.render.verified) {
      const replicas = preview.render.changes.find((c) => c.field.endsWith("spec.replicas"));
      expect(replicas).toMatchObject({ before: 6, after: 2 });
      expect(preview.render.diff).toContain("(rendered)");
    }

    // Nothing is changed by looking.
    const after = await w.admin.api.deployments.list.query({ projectId: w.project.id, limit: 100 });
    expect(after.items.filter((d) => d.method === "rollback")).toHaveLength(0);
  });

  it("is refused for a deployment that never reached Git", async () => {
    const cancelled = (await w.admin.api.deployments.list.query({ projectId: w.project.id, limit: 100 })).items.find(
      (d) => d.status === "cancelled",
    )!;
    expect(await failure(w.s.bob.api.deployments.rollbackPreview.query({ deploymentId: cancelled.id }))).toMatchObject({
      juanie: {
        code: "INVALID_INPUT",
        fieldErrors: { deploymentId: ["has no commit to return to: only committed deployments can be rolled back to"] },
      },
    });
  });
});

describe("the audit log tells the whole story", () => {
  it("every deployment from every source is in the project's and the organization's log, with names", async () => {
    // Sources not exercised above: a rollback (through the commit job) and a manual record.
    const landed = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.development,
      spec: { replicas: 9 },
    });
    await settled(w.s.bob, landed.id);
    const next = await w.s.bob.api.deployments.request.mutate({
      environmentId: w.env.development,
      spec: { replicas: 10 },
    });
    await settled(w.s.bob, next.id);
    const rollback = await w.s.bob.api.deployments.rollback.mutate({ deploymentId: landed.id });
    await settled(w.s.bob, rollback.id);
    const manual = await w.s.bob.api.deployments.createManual.mutate({
      environmentId: w.env.staging,
      version: "7.7.7",
      strategy: "rolling",
    });

    const all = (await w.admin.api.deployments.list.query({ projectId: w.project.id, limit: 100 })).items;
    const methods = new Set(all.map((d) => d.method));
    expect([...methods].sort()).toEqual(["gitops-git", "gitops-ui", "manual", "rollback"]);

    for (const filter of [{ projectId: w.project.id }, { organizationId: w.org.id }]) {
      const { items } = await w.admin.api.audit.list.query({ ...filter, resourceType: "deployment", limit: 200 });
      const byDeployment = new Map<string, typeof items>();
      for (const e of items) byDeployment.set(e.resourceId!, [...(byDeployment.get(e.resourceId!) ?? []), e]);
      for (const d of all) {
        const entries = byDeployment.get(d.id) ?? [];
        expect(
          entries.length,
          `${JSON.stringify(filter)}: #${d.number} (${d.method}) has no audit entry`,
        ).toBeGreaterThan(0);
        for (const e of entries) {
          expect(e).toMatchObject({
            organizationId: w.org.id,
            projectId: w.project.id,
            projectName: "Shop",
            organizationName: "Acme",
            projectPath: { organizationSlug: "acme", projectSlug: "shop" },
            environmentName: d.environment.name,
            deploymentNumber: d.number,
          });
        }
      }
      const actions = new Set(items.map((e) => e.action));
      for (const action of [
        "deployment.request",
        "deployment.commit",
        "deployment.rollback",
        "deployment.push",
        "deployment.bypassed_approval",
        "deployment.manual",
        "deployment.cancel",
      ]) {
        expect(actions.has(action), `${JSON.stringify(filter)}: ${action}`).toBe(true);
      }
    }
    // The platform's own commit is by the platform, named as such; a person's request by their name.
    const { items } = await w.admin.api.audit.list.query({ projectId: w.project.id, limit: 200 });
    const request = items.find((e) => e.action === "deployment.request" && e.resourceId === rollback.id);
    expect(
      request ?? items.find((e) => e.action === "deployment.rollback" && e.resourceId === rollback.id),
    ).toMatchObject({
      actorName: "bob",
    });
    expect(items.find((e) => e.resourceId === manual.id)).toMatchObject({
      action: "deployment.manual",
      actorName: "bob",
    });
  });
});
