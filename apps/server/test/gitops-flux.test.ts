import { type FluxReleasesMirror, type KubeSim, serveFluxReleases, startKubeSim } from "@juanie/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV, type GitopsWorld, pushByHand, startGitopsWorld } from "./gitops-world.ts";
import type { Session } from "./harness.ts";
import { failure, waitFor } from "./support.ts";

type Env = Awaited<ReturnType<Session["api"]["environments"]["list"]["query"]>>[number];

/**
 * The cluster half of the loop on the real server, a real Git server and the Kubernetes API simulator with
 * its Flux simulator (real git, real kustomize): install Flux, bind an environment, and follow deployments
 * from the form and from `git push` to healthy — or to Flux's own failure.
 */
describe("GitOps with Flux in a cluster", () => {
  let w: GitopsWorld;
  let sim: KubeSim;
  let mirror: FluxReleasesMirror;
  let clusterId: string;

  const envNamed = async (name: string): Promise<Env> =>
    (await w.admin.api.environments.list.query({ projectId: w.project.id })).find((e) => e.name === name)!;
  const envUntil = (name: string, ok: (e: Env) => boolean, ms = 30_000) => waitFor(() => envNamed(name), ok, ms);
  const deploymentUntil = (id: string, ok: (d: Awaited<ReturnType<typeof get>>) => boolean, ms = 40_000) =>
    waitFor(() => get(id), ok, ms);
  const get = (id: string) => w.admin.api.deployments.get.query({ deploymentId: id });

  beforeAll(async () => {
    [w, sim, mirror] = await Promise.all([
      startGitopsWorld({ JUANIE_CLUSTER_CHECK_INTERVAL_MS: "1000" }),
      startKubeSim({ flux: { stepDelayMs: 50 } }),
      serveFluxReleases(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await w?.close();
    await sim?.close();
    await mirror?.close();
  });

  it("installs Flux from a mirror: CRDs first, then the controllers become Ready, with live progress", async () => {
    const c = await w.admin.api.clusters.register.mutate({
      organizationId: w.org.id,
      name: "edge",
      connection: { type: "kubeconfig", kubeconfig: sim.kubeconfig() },
    });
    clusterId = c.id;
    const absent = await w.admin.api.clusters.flux.query({ clusterId });
    expect(absent).toMatchObject({ reachable: true, installed: false });
    await w.admin.api.clusters.update.mutate({ clusterId, fluxMirrorUrl: mirror.urlTemplate });
    const op = await w.admin.api.clusters.installFlux.mutate({ clusterId, source: "mirror", version: "2.7.3" });
    expect(op).toMatchObject({ action: "install", status: "queued", version: "2.7.3" });
    const done = await waitFor(
      () => w.admin.api.clusters.flux.query({ clusterId }),
      (f) => ["succeeded", "failed"].includes(f.operations[0]?.status ?? ""),
      90_000,
    );
    expect(done.operations[0]?.error ?? null).toBeNull();
    const phases = done.operations[0]!.progress.map((p) => p.phase);
    expect(phases.indexOf("crds")).toBeLessThan(phases.indexOf("establish"));
    expect(phases.indexOf("establish")).toBeLessThan(phases.indexOf("rollout"));
    expect(phases.at(-1)).toBe("done");
    expect(done).toMatchObject({ installed: true, healthy: true, version: "v2.7.3", managedBy: "juanie" });
    const required = done.components.filter((x) => x.required);
    expect(required.map((x) => [x.name, x.ready])).toEqual([
      ["source-controller", true],
      ["kustomize-controller", true],
      ["helm-controller", true],
      ["notification-controller", true],
    ]);
  }, 120_000);

  it("binding an environment applies its Secret, GitRepository and Kustomization as `juanie`, and the watch reports them", async () => {
    const dev = await envNamed("development");
    await w.admin.api.environments.update.mutate({
      environmentId: dev.id,
      name: dev.name,
      type: dev.type,
      cloudProvider: null,
      region: null,
      approvalRequired: dev.approvalRequired,
      minApprovals: dev.minApprovals,
      gitops: { ...dev.gitops, clusterId, syncInterval: "10s", timeout: "10s" },
    });
    const applied = await envUntil("development", (e) => e.cluster?.gitopsState !== "applying");
    expect(applied.cluster).toMatchObject({
      name: "edge",
      simulated: true,
      namespace: "shop-development",
      fluxName: "shop-development",
      gitopsState: "applied",
      gitopsError: null,
    });
    const ks = sim.store.get(
      sim.type("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
      "flux-system",
      "shop-development",
    );
    const managers = (ks.metadata.managedFields as { manager: string }[]).map((m) => m.manager);
    expect(managers).toContain("juanie");
    expect(ks.spec).toMatchObject({
      path: "./k8s/overlays/development",
      targetNamespace: "shop-development",
      prune: true,
    });
    const repo = sim.store.get(
      sim.type("source.toolkit.fluxcd.io/v1", "GitRepository"),
      "flux-system",
      "shop-development",
    );
    expect(repo.spec).toMatchObject({ url: `${w.git.url}/shop.git`, ref: { branch: "develop" } });
    // The Secret holds the token; the Kustomization and GitRepository do not.
    expect(JSON.stringify(ks)).not.toContain(w.token);
    expect(JSON.stringify(repo)).not.toContain(w.token);
    // The live watch reached the environment card (even if the branch does not exist yet).
    const watched = await envUntil("development", (e) => e.flux !== null);
    expect(watched.flux).not.toBeNull();
  }, 60_000);

  it("a deploy from the form goes Git commit → fetched → applied → healthy, with ready pods over desired", async () => {
    const dev = await envNamed("development");
    const d = await w.admin.api.deployments.request.mutate({ environmentId: dev.id, spec: { replicas: 2 } });
    const healthy = await deploymentUntil(d.id, (x) => ["healthy", "failed", "superseded"].includes(x.status));
    expect(healthy.status).toBe("healthy");
    const r = healthy.rollout!;
    expect(r.cluster.name).toBe("edge");
    for (const t of [r.committedAt, r.fetchedAt, r.appliedAt, r.healthyAt]) expect(t).not.toBeNull();
    expect(Date.parse(r.fetchedAt!)).toBeLessThanOrEqual(Date.parse(r.appliedAt!));
    expect(Date.parse(r.appliedAt!)).toBeLessThanOrEqual(Date.parse(r.healthyAt!));
    const env = await envUntil("development", (e) => e.flux?.appliedRevision?.includes(healthy.commitSha!) ?? false);
    expect(env.flux).toMatchObject({ state: "ready", suspended: false });
    const steps = healthy.events.map((e) => e.to);
    expect(steps).toContain("healthy");
  }, 90_000);

  it("a `git push` to the environment's branch becomes a gitops-git deployment that reaches healthy", async () => {
    const sha = await pushByHand(w, "develop", DEV, (t) => `${t}\n# touched by hand\n`, "Tune the development overlay");
    const found = await waitFor(
      () => w.admin.api.deployments.list.query({ projectId: w.project.id }),
      (p) => p.items.some((d) => d.commitSha === sha),
      40_000,
    );
    const d = found.items.find((x) => x.commitSha === sha)!;
    expect(d.method).toBe("gitops-git");
    const healthy = await deploymentUntil(d.id, (x) => ["healthy", "failed"].includes(x.status));
    expect(healthy.status).toBe("healthy");
    expect(healthy.author).toBe("Tess Tester");
  }, 90_000);

  it("a revision Flux applied without a deployment record (a commit to the shared base, outside the path) becomes a gitops-git deployment", async () => {
    const sha = await pushByHand(
      w,
      "develop",
      "k8s/base/kustomization.yaml",
      (t) => `${t}\n# shared by every overlay\n`,
      "Comment the base",
    );
    const found = await waitFor(
      () => w.admin.api.deployments.list.query({ projectId: w.project.id }),
      (p) => p.items.some((d) => d.commitSha === sha),
      40_000,
    );
    const d = found.items.find((x) => x.commitSha === sha)!;
    expect(d.method).toBe("gitops-git");
    expect(d.author).toBe("Tess Tester");
    const healthy = await deploymentUntil(d.id, (x) => ["healthy", "failed"].includes(x.status));
    expect(healthy.status).toBe("healthy");
    expect(healthy.request).toMatchObject({ appliedByFlux: true });
  }, 90_000);

  it("a workload that cannot start fails the deployment with Flux's reason and message", async () => {
    const dev = await envNamed("development");
    const d = await w.admin.api.deployments.request.mutate({
      environmentId: dev.id,
      spec: { image: "registry.example.com/acme/does-not-exist:9.9.9" },
    });
    const failed = await deploymentUntil(d.id, (x) => ["healthy", "failed"].includes(x.status), 60_000);
    expect(failed.status).toBe("failed");
    expect(failed.rollout?.reason).toBe("HealthCheckFailed");
    expect(failed.rollout?.message ?? "").toMatch(/timeout|health/i);
    expect(failed.error).toContain("HealthCheckFailed");
  }, 90_000);

  it("sync now is in progress until Flux handled it; suspend and resume change the Kustomization", async () => {
    const dev = await envNamed("development");
    const { token } = await w.admin.api.environments.fluxAction.mutate({ environmentId: dev.id, action: "sync" });
    expect(token).toBeTruthy();
    const handled = await envUntil("development", (e) => e.flux?.syncPending === false);
    expect(handled.flux?.syncPending).toBe(false);
    await w.admin.api.environments.fluxAction.mutate({ environmentId: dev.id, action: "suspend" });
    const ksType = sim.type("kustomize.toolkit.fluxcd.io/v1", "Kustomization");
    expect(sim.store.get(ksType, "flux-system", "shop-development").spec).toMatchObject({ suspend: true });
    const suspended = await envUntil("development", (e) => e.flux?.state === "suspended");
    expect(suspended.flux?.suspended).toBe(true);
    await w.admin.api.environments.fluxAction.mutate({ environmentId: dev.id, action: "resume" });
    expect(sim.store.get(ksType, "flux-system", "shop-development").spec).toMatchObject({ suspend: false });
    await envUntil("development", (e) => e.flux?.suspended === false);
    // A viewer-level user may not: Bob is a developer (allowed); an outsider is not tested here (permissions matrix).
    const bob = await w.s.bob.api.environments.fluxAction.mutate({ environmentId: dev.id, action: "sync" });
    expect(bob.token).toBeTruthy();
  }, 60_000);

  it("turning the cluster off asks first, lists what pruning deletes, then removes the Flux objects and what they applied", async () => {
    const dev = await envNamed("development");
    const input = {
      environmentId: dev.id,
      name: dev.name,
      type: dev.type,
      cloudProvider: null,
      region: null,
      approvalRequired: dev.approvalRequired,
      minApprovals: dev.minApprovals,
      gitops: { ...dev.gitops, clusterId: null },
    };
    const refused = await failure(w.admin.api.environments.update.mutate(input));
    expect(refused.juanie.fieldErrors?.["gitops.clusterId"]?.[0]).toMatch(/removes .*"edge".*confirm/);
    const plan = await w.admin.api.environments.gitopsRemovalPlan.query({ environmentId: dev.id });
    expect(plan).toMatchObject({ applied: true, prune: true, cluster: "edge" });
    expect(plan.fluxObjects?.map((o) => o.kind)).toEqual(["Kustomization", "GitRepository", "Secret"]);
    expect(plan.objects).toContainEqual({ kind: "Deployment", namespace: "shop-development", name: "shop" });
    const off = await w.admin.api.environments.update.mutate({ ...input, confirmGitopsRemoval: true });
    expect(off.cluster).toBeNull();
    const ksType = sim.type("kustomize.toolkit.fluxcd.io/v1", "Kustomization");
    const depType = sim.type("apps/v1", "Deployment");
    await waitFor(
      async () => ({
        ks: sim.store.list(ksType, "flux-system").some((o) => o.metadata.name === "shop-development"),
        app: sim.store.list(depType, "shop-development").length,
      }),
      (x) => !x.ks && x.app === 0,
      30_000,
    );
    expect(sim.store.list(ksType, "flux-system").map((o) => o.metadata.name)).not.toContain("shop-development");
    expect(sim.store.list(depType, "shop-development")).toEqual([]);
  }, 60_000);

  it("adopts a Flux that already runs in a cluster, without reinstalling it", async () => {
    const existing = await startKubeSim({ flux: { preinstalled: true, version: "2.6.4" } });
    try {
      const c = await w.admin.api.clusters.register.mutate({
        organizationId: w.org.id,
        name: "bootstrapped",
        connection: { type: "kubeconfig", kubeconfig: existing.kubeconfig() },
      });
      const flux = await waitFor(
        () => w.admin.api.clusters.flux.query({ clusterId: c.id }),
        (f) => f.healthy,
        30_000,
      );
      expect(flux).toMatchObject({ installed: true, version: "v2.6.4", managedBy: "other" });
      const op = await w.admin.api.clusters.adoptFlux.mutate({ clusterId: c.id });
      expect(op).toMatchObject({ action: "adopt", status: "succeeded", version: "v2.6.4" });
      const rv = existing.store.get(existing.type("apps/v1", "Deployment"), "flux-system", "source-controller").metadata
        .resourceVersion;
      // Nothing was re-applied.
      expect(
        existing.store.get(existing.type("apps/v1", "Deployment"), "flux-system", "source-controller").metadata
          .resourceVersion,
      ).toBe(rv);
      const again = await failure(
        w.admin.api.clusters.installFlux.mutate({ clusterId: c.id, source: "mirror", version: "2.7.3" }),
      );
      expect(again.juanie.fieldErrors?.source?.[0]).toMatch(/mirror URL/);
    } finally {
      await existing.close();
    }
  }, 60_000);
});
