import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type GitServer, startGitServer } from "../../../../test/git-server.ts";
import { type KubeSim, startKubeSim } from "../cluster.ts";
import type { KubeObject } from "../json.ts";
import { kubectlFor } from "../kubectl.testing.ts";
import type { ResourceType } from "../resources.ts";
import { configMapYaml, fluxObjects, until, workingCopy } from "./flux.testing.ts";
import { simulatedFluxInstallObjects } from "./manifest.ts";

// Flux's lifecycle in the simulated cluster: the controllers act only while their Deployments run.
const TOKEN = "flux-sim-lifecycle-token";
let git: GitServer;
let sim: KubeSim;
let repoUrl: string;
let work: Awaited<ReturnType<typeof workingCopy>>;
let flux: ReturnType<typeof fluxObjects>;

const applyAll = (objects: KubeObject[]) => {
  for (const o of objects) flux.apply(o);
};

beforeAll(async () => {
  git = await startGitServer({ token: TOKEN });
  repoUrl = await git.createRepo("site");
  work = await workingCopy(repoUrl, TOKEN);
  await work.commit({ "config.yaml": configMapYaml("site") }, "first");
  sim = await startKubeSim({
    workloads: { podStartMs: 30, podStopMs: 20 },
    // No secretRef on the GitRepository below: the simulator's resolver gives the demo's credentials.
    flux: {
      stepDelayMs: 10,
      pollMs: 25,
      gitCredentials: (url) => (url.startsWith(git.url) ? { username: "git", password: TOKEN } : undefined),
    },
  });
  flux = fluxObjects(sim);
});

afterAll(async () => {
  await sim?.close();
  await git?.close();
  await work?.cleanup();
});

describe("the Flux simulator follows the installed controllers", () => {
  it("does nothing before the controllers run; reconciles once their Deployments are Ready", async () => {
    const manifest = simulatedFluxInstallObjects("2.7.3") as KubeObject[];
    // CRDs first, as an installer does; the controllers' Deployments come last.
    applyAll(manifest.filter((o) => o.kind !== "Deployment"));
    await until("the GitRepository kind to be served", () =>
      sim.store.findKind("source.toolkit.fluxcd.io/v1", "GitRepository"),
    );
    flux.apply({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: "site", namespace: "flux-system" },
      spec: { url: repoUrl, ref: { branch: "main" }, interval: "10m" },
    });
    expect(sim.flux?.controllerReady("source-controller")).toBe(false);
    // The new object is queued at once (store events are synchronous); let the queue run before looking.
    await new Promise((r) => setTimeout(r, 100));
    expect(flux.gitRepository("flux-system", "site")?.status).toBeUndefined();

    applyAll(manifest.filter((o) => o.kind === "Deployment"));
    const repo = await until("the GitRepository to be Ready after the install", () => {
      const o = flux.gitRepository("flux-system", "site");
      return flux.ready(o)?.status === "True" ? o : undefined;
    });
    expect(String((flux.status(repo).artifact as { revision: string }).revision)).toMatch(/^main@sha1:[0-9a-f]{40}$/);
    // Flux records an Event on the object for a new artifact.
    const newArtifact = await until("the NewArtifact event", () =>
      sim.store
        .list(sim.type("v1", "Event"), "flux-system")
        .find((e) => e.reason === "NewArtifact" && (e.involvedObject as { name: string }).name === "site"),
    );
    expect(newArtifact).toMatchObject({
      type: "Normal",
      message: "stored artifact for commit 'first'",
      source: { component: "source-controller" },
    });
  });

  it("stops when source-controller is uninstalled and resumes (handling the pending request) when reinstalled", async () => {
    const deployments = sim.type("apps/v1", "Deployment") as ResourceType;
    const pods = sim.type("v1", "Pod") as ResourceType;
    const writes: string[] = [];
    const off = sim.store.subscribe((e) => {
      if (
        e.object.kind === "GitRepository" &&
        e.type === "MODIFIED" &&
        JSON.stringify(e.object.status) !== JSON.stringify(e.previous?.status)
      ) {
        writes.push(
          String((e.object.status as { lastHandledReconcileAt?: string } | undefined)?.lastHandledReconcileAt),
        );
      }
    });
    sim.store.delete(deployments, "flux-system", "source-controller");
    await until("source-controller's pods to be gone", () =>
      sim.store.list(pods, "flux-system").every((p) => !String(p.metadata.name).startsWith("source-controller")),
    );
    expect(sim.flux?.controllerReady("source-controller")).toBe(false);
    const sha = await work.commit({ "config.yaml": configMapYaml("site", "2") }, "second");
    const token = "2026-12-03T10:00:00.000000001Z";
    flux.merge("source.toolkit.fluxcd.io/v1", "GitRepository", "flux-system", "site", {
      metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } },
    });
    // The request is queued at once (store events are synchronous); let the queue run before looking.
    await new Promise((r) => setTimeout(r, 100));
    // Not even a "Progressing" status write while the controller is not installed.
    expect(writes).toEqual([]);
    expect(flux.status(flux.gitRepository("flux-system", "site")).lastHandledReconcileAt).toBeUndefined();

    const deployment = (simulatedFluxInstallObjects("2.7.3") as KubeObject[]).find(
      (o) => o.kind === "Deployment" && o.metadata.name === "source-controller",
    ) as KubeObject;
    flux.apply(deployment);
    const repo = await until("the pending request to be handled after the reinstall", () => {
      const o = flux.gitRepository("flux-system", "site");
      return flux.status(o).lastHandledReconcileAt === token ? o : undefined;
    });
    off();
    expect((flux.status(repo).artifact as { revision: string }).revision).toBe(`main@sha1:${sha}`);
  });

  it("objects applied over HTTPS by kubectl --server-side (as the platform does) reconcile to Ready", async () => {
    const k = await kubectlFor(sim);
    try {
      const objects = [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "web-dev" } },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "web-git", namespace: "flux-system" },
          stringData: { username: "git", password: TOKEN },
        },
        {
          apiVersion: "source.toolkit.fluxcd.io/v1",
          kind: "GitRepository",
          metadata: { name: "web", namespace: "flux-system" },
          spec: { url: repoUrl, ref: { branch: "main" }, interval: "1m", secretRef: { name: "web-git" } },
        },
        {
          apiVersion: "kustomize.toolkit.fluxcd.io/v1",
          kind: "Kustomization",
          metadata: { name: "web", namespace: "flux-system" },
          spec: {
            interval: "5m",
            path: "./",
            prune: true,
            wait: true,
            timeout: "30s",
            targetNamespace: "web-dev",
            sourceRef: { kind: "GitRepository", name: "web" },
          },
        },
      ];
      const applied = await k.run(
        ["apply", "--server-side", "--field-manager", "juanie", "-f", "-"],
        objects.map((o) => `---\n${stringify(o)}`).join(""),
      );
      expect(applied.stderr).toBe("");
      expect(applied.code).toBe(0);
      const waited = await k.run([
        "wait",
        "-n",
        "flux-system",
        "--for=condition=Ready",
        "kustomization/web",
        "--timeout=20s",
      ]);
      expect(waited.stdout).toBe("kustomization.kustomize.toolkit.fluxcd.io/web condition met\n");
      const cm = await k.run(["get", "configmap", "site", "-n", "web-dev", "-o", "jsonpath={.metadata.labels}"]);
      expect(JSON.parse(cm.stdout)).toMatchObject({ "kustomize.toolkit.fluxcd.io/name": "web" });
    } finally {
      await k.cleanup();
    }
  });
});
