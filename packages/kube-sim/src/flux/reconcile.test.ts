import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitServer, startGitServer } from "../../../../test/git-server.ts";
import { type KubeSim, startKubeSim } from "../cluster.ts";
import type { KubeObject } from "../json.ts";
import { kubectlFor } from "../kubectl.testing.ts";
import { configMapYaml, deploymentYaml, fluxObjects, until, workingCopy } from "./flux.testing.ts";

// The Flux simulator end to end: real Git (the local smart-HTTP server with token auth), the real
// kustomize (kubectl v1.35), the simulated API server and its workload controller.
const TOKEN = "flux-sim-test-token";
let git: GitServer;
let sim: KubeSim;
let repoUrl: string;
let work: Awaited<ReturnType<typeof workingCopy>>;
let flux: ReturnType<typeof fluxObjects>;
let firstSha: string;

const gitRepository = (name: string, url: string, secret = "git-auth"): KubeObject => ({
  apiVersion: "source.toolkit.fluxcd.io/v1",
  kind: "GitRepository",
  metadata: { name, namespace: "flux-system" },
  spec: { url, ref: { branch: "main" }, interval: "10m", secretRef: { name: secret } },
});

const kustomization = (name: string, spec: Record<string, unknown>): KubeObject =>
  ({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name, namespace: "flux-system" },
    spec: {
      interval: "10m",
      sourceRef: { kind: "GitRepository", name: "app" },
      prune: true,
      targetNamespace: "apps",
      ...spec,
    },
  }) as KubeObject;

const requestNow = (kind: "GitRepository" | "Kustomization", name: string) => {
  const token = new Date().toISOString().replace("Z", `${process.hrtime.bigint() % 1000n}Z`);
  const apiVersion = kind === "GitRepository" ? "source.toolkit.fluxcd.io/v1" : "kustomize.toolkit.fluxcd.io/v1";
  flux.merge(apiVersion, kind, "flux-system", name, {
    metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } },
  });
  return token;
};

const appliedRevision = (name: string) => flux.status(flux.kustomization("flux-system", name)).lastAppliedRevision;

beforeAll(async () => {
  git = await startGitServer({ token: TOKEN });
  repoUrl = await git.createRepo("app");
  work = await workingCopy(repoUrl, TOKEN);
  firstSha = await work.commit(
    {
      "deploy/web.yaml": deploymentYaml("web"),
      "deploy/settings.yaml": configMapYaml("settings"),
      "broken/kustomization.yaml": "resources:\n  - missing.yaml\n",
      "bad-image/app.yaml": deploymentYaml("bad", "registry.example/does-not-exist:1"),
      "gate/gate.yaml": configMapYaml("gate"),
    },
    "first",
  );
  sim = await startKubeSim({
    workloads: { podStartMs: 30 },
    flux: { preinstalled: true, stepDelayMs: 20, pollMs: 25, dependencyRequeueMs: 100 },
  });
  flux = fluxObjects(sim);
  await until("the simulated Flux controllers to be Ready", () => sim.flux?.controllerReady("kustomize-controller"));
  await until("the Flux CRDs to be served", () =>
    sim.store.findKind("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
  );
  flux.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } });
  flux.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "gated" } });
  flux.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "fixed" } });
  flux.apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "git-auth", namespace: "flux-system" },
    type: "Opaque",
    data: { username: Buffer.from("git").toString("base64"), password: Buffer.from(TOKEN).toString("base64") },
  });
});

afterAll(async () => {
  await sim?.close();
  await git?.close();
  await work?.cleanup();
});

describe("simulated source-controller", () => {
  it("fetches the branch with the basic-auth Secret: artifact revision main@sha1:<pushed SHA>, Ready=True", async () => {
    flux.apply(gitRepository("app", repoUrl));
    const repo = await until("the GitRepository to be Ready", () => {
      const o = flux.gitRepository("flux-system", "app");
      return flux.ready(o)?.status === "True" ? o : undefined;
    });
    const status = flux.status(repo);
    const artifact = status.artifact as Record<string, string>;
    expect(artifact.revision).toBe(`main@sha1:${firstSha}`);
    expect(artifact.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(artifact.url).toContain(`gitrepository/flux-system/app/${firstSha}.tar.gz`);
    expect(flux.ready(repo)).toMatchObject({
      reason: "Succeeded",
      message: `stored artifact for revision 'main@sha1:${firstSha}'`,
    });
    expect(status.observedGeneration).toBe(1);
    expect(repo.metadata.finalizers).toEqual(["finalizers.fluxcd.io"]);
    // The credentials went as a header: every request the Git server saw was authorized.
    expect(git.requests.filter((r) => r.path.startsWith("/app.git")).every((r) => r.authorized)).toBe(true);
  });

  it("a wrong password: Ready=False GitOperationFailed, and the secret appears nowhere in the status", async () => {
    flux.apply({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "wrong-auth", namespace: "flux-system" },
      data: {
        username: Buffer.from("git").toString("base64"),
        password: Buffer.from("not-the-token").toString("base64"),
      },
    });
    flux.apply(gitRepository("wrong", repoUrl, "wrong-auth"));
    const ready = await until("the failure", () => {
      const c = flux.ready(flux.gitRepository("flux-system", "wrong"));
      return c?.status === "False" ? c : undefined;
    });
    expect(ready.reason).toBe("GitOperationFailed");
    expect(ready.message).toContain(`failed to checkout and determine revision: unable to clone '${repoUrl}'`);
    expect(JSON.stringify(flux.gitRepository("flux-system", "wrong"))).not.toContain("not-the-token");

    flux.apply(gitRepository("missing-secret", repoUrl, "nope"));
    const missing = await until("the missing Secret failure", () => {
      const c = flux.ready(flux.gitRepository("flux-system", "missing-secret"));
      return c?.status === "False" ? c : undefined;
    });
    expect(missing).toMatchObject({
      reason: "AuthenticationFailed",
      message: `failed to get secret 'flux-system/nope': secrets "nope" not found`,
    });
  });
});

describe("simulated kustomize-controller", () => {
  it("applies the path with server-side apply, waits for the pods, then Ready=True 'Applied revision: …'", async () => {
    const seen: string[] = [];
    const off = sim.store.subscribe((e) => {
      if (e.object.kind !== "Kustomization") return;
      const conditions = (e.object.status as { conditions?: { type: string; status: string; reason: string }[] })
        ?.conditions;
      const reconciling = conditions?.find((c) => c.type === "Reconciling");
      if (reconciling) seen.push(`${reconciling.status}/${reconciling.reason}`);
    });
    flux.apply(kustomization("app", { path: "./deploy", wait: true, timeout: "10s" }));
    const revision = `main@sha1:${firstSha}`;
    await until("the Kustomization to apply the first revision", () => appliedRevision("app") === revision);
    off();
    const ks = flux.kustomization("flux-system", "app");
    const status = flux.status(ks);
    expect(flux.ready(ks)).toMatchObject({
      status: "True",
      reason: "ReconciliationSucceeded",
      message: `Applied revision: ${revision}`,
    });
    expect(status.lastAttemptedRevision).toBe(revision);
    expect(status.observedGeneration).toBe(1);
    expect(seen).toContain("True/Progressing");
    expect((status.conditions as { type: string; status: string }[]).find((c) => c.type === "Healthy")?.status).toBe(
      "True",
    );
    expect((status.inventory as { entries: unknown[] }).entries).toEqual([
      { id: "apps_settings__ConfigMap", v: "v1" },
      { id: "apps_web_apps_Deployment", v: "v1" },
    ]);
    const web = flux.get("apps/v1", "Deployment", "apps", "web") as KubeObject;
    expect(web.metadata.labels).toMatchObject({
      "kustomize.toolkit.fluxcd.io/name": "app",
      "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    });
    expect((web.status as { readyReplicas?: number }).readyReplicas).toBe(1);
    expect((web.metadata.managedFields as { manager: string }[]).map((f) => f.manager)).toContain(
      "kustomize-controller",
    );
    // What a user sees with kubectl: the CRD's printer columns show Flux's status message.
    const k = await kubectlFor(sim);
    try {
      const waited = await k.run([
        "wait",
        "-n",
        "flux-system",
        "--for=condition=Ready",
        "kustomization/app",
        "--timeout=5s",
      ]);
      expect(waited.stdout).toBe("kustomization.kustomize.toolkit.fluxcd.io/app condition met\n");
      const table = await k.run(["get", "ks", "app", "-n", "flux-system"]);
      expect(table.stdout).toMatch(/^NAME\s+AGE\s+READY\s+STATUS\n/);
      expect(table.stdout).toContain(`True    Applied revision: ${revision}`);
    } finally {
      await k.cleanup();
    }
    const history = status.history as Record<string, unknown>[];
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      lastReconciledStatus: "ReconciliationSucceeded",
      totalReconciliations: 1,
      metadata: { revision },
    });
  });

  it("a new commit is fetched and applied; history grows newest first; a removed file is pruned", async () => {
    const sha = await work.commit({
      "deploy/web.yaml": deploymentYaml("web", "nginx:1.28"),
      "deploy/settings.yaml": null,
    });
    requestNow("GitRepository", "app");
    await until("the second revision to be applied", () => appliedRevision("app") === `main@sha1:${sha}`);
    const status = flux.status(flux.kustomization("flux-system", "app"));
    const history = status.history as { metadata: { revision: string } }[];
    expect(history.map((h) => h.metadata.revision)).toEqual([`main@sha1:${sha}`, `main@sha1:${firstSha}`]);
    expect(flux.get("v1", "ConfigMap", "apps", "settings")).toBeUndefined();
    const web = flux.get("apps/v1", "Deployment", "apps", "web") as KubeObject;
    expect(JSON.stringify(web.spec)).toContain("nginx:1.28");
  });

  it("requestedAt: lastHandledReconcileAt equals the token once handled", async () => {
    const token = requestNow("Kustomization", "app");
    const handled = await until(
      "the request to be handled",
      () => flux.status(flux.kustomization("flux-system", "app")).lastHandledReconcileAt === token,
    );
    expect(handled).toBe(true);
  });

  it("a workload that cannot start: HealthCheckFailed with Flux's message after the timeout", async () => {
    flux.apply(kustomization("bad-image", { path: "./bad-image", wait: true, timeout: "1s" }));
    const ready = await until("the health check failure", () => {
      const c = flux.ready(flux.kustomization("flux-system", "bad-image"));
      return c?.status === "False" ? c : undefined;
    });
    expect(ready.reason).toBe("HealthCheckFailed");
    expect(ready.message).toMatch(
      /^health check failed after \d+(\.\d+)?(ms|s): timeout waiting for: \[Deployment\/apps\/bad status: 'InProgress'\]$/,
    );
    const status = flux.status(flux.kustomization("flux-system", "bad-image"));
    expect(status.lastAppliedRevision).toBeUndefined();
    expect(String(status.lastAttemptedRevision)).toMatch(/^main@sha1:/);
    expect((status.history as { lastReconciledStatus: string }[])[0]?.lastReconciledStatus).toBe("HealthCheckFailed");
  });

  it("a fix while a health check waits cancels it (HealthCheckCanceled) and applies at once", async () => {
    const reasons: string[] = [];
    const off = sim.store.subscribe((e) => {
      if (e.object.kind === "Kustomization" && e.object.metadata.name === "fix-me") {
        const c = flux.ready(e.object);
        if (c && reasons.at(-1) !== c.reason) reasons.push(c.reason);
      }
    });
    flux.apply(kustomization("fix-me", { path: "./bad-image", targetNamespace: "fixed", wait: true, timeout: "5m" }));
    await until("the health check to start", () => {
      const healthy = (flux.status(flux.kustomization("flux-system", "fix-me")).conditions as { type: string }[])?.find(
        (c) => c.type === "Healthy",
      );
      return healthy !== undefined;
    });
    flux.merge("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "fix-me", {
      spec: { path: "./gate" },
    });
    await until(
      "the fixed path to be applied",
      () => flux.ready(flux.kustomization("flux-system", "fix-me"))?.status === "True",
    );
    off();
    expect(reasons).toContain("HealthCheckCanceled");
    expect(flux.ready(flux.kustomization("flux-system", "fix-me"))?.reason).toBe("ReconciliationSucceeded");
    // The broken Deployment of the first path was pruned.
    expect(flux.get("apps/v1", "Deployment", "fixed", "bad")).toBeUndefined();
  });

  it("a broken kustomization.yaml: BuildFailed with kustomize's error", async () => {
    flux.apply(kustomization("broken", { path: "./broken" }));
    const ready = await until("the build failure", () => {
      const c = flux.ready(flux.kustomization("flux-system", "broken"));
      return c?.status === "False" ? c : undefined;
    });
    expect(ready.reason).toBe("BuildFailed");
    expect(ready.message).toMatch(/^kustomize build failed: .*missing\.yaml/);
  });

  it("dependsOn: waits (DependencyNotReady) until the dependency is Ready", async () => {
    flux.apply(kustomization("gate", { path: "./gate", suspend: true }));
    flux.apply(
      kustomization("after-gate", { path: "./deploy", targetNamespace: "gated", dependsOn: [{ name: "gate" }] }),
    );
    const waiting = await until("the dependency wait", () => {
      const c = flux.ready(flux.kustomization("flux-system", "after-gate"));
      return c?.status === "False" ? c : undefined;
    });
    expect(waiting).toMatchObject({
      reason: "DependencyNotReady",
      message: "dependency 'flux-system/gate' is not ready",
    });
    flux.merge("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "gate", { spec: { suspend: false } });
    await until(
      "the dependent to be applied",
      () => flux.ready(flux.kustomization("flux-system", "after-gate"))?.status === "True",
    );
    expect(flux.ready(flux.kustomization("flux-system", "gate"))?.status).toBe("True");
  });

  it("suspend stops reconciling new revisions; resume applies them", async () => {
    flux.merge("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "app", { spec: { suspend: true } });
    const before = appliedRevision("app");
    const sha = await work.commit({ "deploy/extra.yaml": configMapYaml("extra") }, "third");
    requestNow("GitRepository", "app");
    // after-gate follows the same source: once it has applied the new revision, app has had its chance.
    await until("the unsuspended Kustomization to apply", () => appliedRevision("after-gate") === `main@sha1:${sha}`);
    expect(appliedRevision("app")).toBe(before);
    flux.merge("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "app", { spec: { suspend: false } });
    await until("the resumed Kustomization to apply", () => appliedRevision("app") === `main@sha1:${sha}`);
    expect(flux.get("v1", "ConfigMap", "apps", "extra")).toBeDefined();
  });

  it("a new revision whose pods cannot start fails the health check while the old pod still serves", async () => {
    flux.merge("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "app", { spec: { timeout: "1s" } });
    await until("the timeout change to be applied", () => {
      const o = flux.kustomization("flux-system", "app");
      return flux.status(o).observedGeneration === o?.metadata.generation && flux.ready(o)?.status === "True";
    });
    const sha = await work.commit({ "deploy/web.yaml": deploymentYaml("web", "registry.example/does-not-exist:3") });
    requestNow("GitRepository", "app");
    const ready = await until("the failed rollout", () => {
      const o = flux.kustomization("flux-system", "app");
      const c = flux.ready(o);
      return c?.status === "False" && flux.status(o).lastAttemptedRevision === `main@sha1:${sha}` ? c : undefined;
    });
    expect(ready.reason).toBe("HealthCheckFailed");
    expect(ready.message).toMatch(/timeout waiting for: \[Deployment\/apps\/web status: 'InProgress'\]$/);
    expect(appliedRevision("app")).not.toBe(`main@sha1:${sha}`);
  });

  it("deleting a Kustomization with prune deletes what it applied, then the object goes (Flux's finalizer)", async () => {
    expect(flux.get("apps/v1", "Deployment", "gated", "web")).toBeDefined();
    sim.store.delete(sim.type("kustomize.toolkit.fluxcd.io/v1", "Kustomization"), "flux-system", "after-gate");
    await until("the Kustomization to be gone", () => flux.kustomization("flux-system", "after-gate") === undefined);
    expect(flux.get("apps/v1", "Deployment", "gated", "web")).toBeUndefined();
    expect(flux.get("v1", "ConfigMap", "gated", "extra")).toBeUndefined();
    // The other Kustomization's copies in its own namespace stay.
    expect(flux.get("apps/v1", "Deployment", "apps", "web")).toBeDefined();
  });
});
