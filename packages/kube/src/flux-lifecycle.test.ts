import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type KubeSim, startKubeSim } from "@juanie/kube-sim";
import { afterEach, describe, expect, it } from "vitest";
import { applyObjects, getObject } from "./apply.ts";
import { crd, miniFluxManifest } from "./flux.testing.ts";
import { detectFlux } from "./flux-detect.ts";
import {
  applyFluxInstance,
  FluxInstallError,
  fetchFluxManifest,
  findFluxCli,
  fluxManifestUrl,
  type InstallPhase,
  installFlux,
  type Progress,
  parseManifest,
  planFluxUninstall,
  uninstallFlux,
} from "./flux-install.ts";
import { applyAsOther, simCluster } from "./sim.testing.ts";

let sim: KubeSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("fluxManifestUrl / fetchFluxManifest / parseManifest", () => {
  it("points at the official release or a mirror template", () => {
    expect(fluxManifestUrl("2.7.3")).toBe("https://github.com/fluxcd/flux2/releases/download/v2.7.3/install.yaml");
    expect(fluxManifestUrl("2.7.3", "https://mirror.example.com/flux/v{version}/install.yaml")).toBe(
      "https://mirror.example.com/flux/v2.7.3/install.yaml",
    );
    expect(() => fluxManifestUrl("v2.7")).toThrow(/version "v2.7" must be a Flux release such as 2.7.3/);
    expect(() => fluxManifestUrl("2.7.3", "https://mirror.example.com/install.yaml")).toThrow(
      /must contain \{version\}/,
    );
    expect(() => fluxManifestUrl("2.7.3", "ftp://mirror/{version}")).toThrow(/https:\/\/ or http:\/\//);
  });

  it("downloads through the given fetch, refusing 404 and oversized manifests", async () => {
    const urls: string[] = [];
    const ok = (async (url: string | URL | Request) => {
      urls.push(String(url));
      return new Response("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n");
    }) as typeof fetch;
    const text = await fetchFluxManifest({ kind: "release", version: "2.7.3" }, { fetch: ok });
    expect(urls).toEqual(["https://github.com/fluxcd/flux2/releases/download/v2.7.3/install.yaml"]);
    expect(parseManifest(text)).toEqual([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "flux-system" } }]);
    const missing = (async () => new Response("Not Found", { status: 404 })) as unknown as typeof fetch;
    await expect(fetchFluxManifest({ kind: "release", version: "9.9.9" }, { fetch: missing })).rejects.toThrow(
      /does not exist \(404\): is 9.9.9 a Flux release\?/,
    );
    const big = (async () => new Response("x".repeat(2048))) as unknown as typeof fetch;
    await expect(
      fetchFluxManifest(
        { kind: "mirror", url: "https://m.example.com/{version}.yaml", version: "2.7.3" },
        { fetch: big, maxBytes: 1024 },
      ),
    ).rejects.toBeInstanceOf(FluxInstallError);
  });

  it("runs a flux CLI found on PATH with an argument array, and reports its failure", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "juanie-flux-cli-"));
    try {
      const bin = path.join(dir, "flux");
      await writeFile(
        bin,
        '#!/bin/sh\nif [ "$3" = "--version=v9.9.9" ]; then echo "flux: no such release" >&2; exit 1; fi\nprintf "apiVersion: v1\\nkind: Namespace\\nmetadata:\\n  name: flux-system\\n  annotations:\\n    args: \\"%s %s %s\\"\\n" "$1" "$2" "$3"\n',
        { mode: 0o755 },
      );
      expect(await findFluxCli(`/nonexistent${path.delimiter}${dir}`)).toBe(bin);
      expect(await findFluxCli("/nonexistent")).toBeNull();
      const [ns] = parseManifest(await fetchFluxManifest({ kind: "flux-cli", version: "2.7.3", binary: bin }));
      expect(ns?.metadata.annotations?.args).toBe("install --export --version=v2.7.3");
      await expect(fetchFluxManifest({ kind: "flux-cli", version: "9.9.9", binary: bin })).rejects.toThrow(
        "flux install --export failed: flux: no such release",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("parses multi-document YAML, skipping empty documents and naming the bad one", () => {
    expect(
      parseManifest("---\n# comment only\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n"),
    ).toHaveLength(1);
    expect(() =>
      parseManifest(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\nkind: Service\nmetadata:\n  name: b\n",
      ),
    ).toThrow("document 2 has no apiVersion");
    expect(() => parseManifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")).toThrow(
      "document 1 (ConfigMap) has no metadata.name",
    );
    expect(() => parseManifest("a: [")).toThrow(/document 1 is not valid YAML/);
  });
});

describe("Flux on a cluster", () => {
  it("detects no Flux on an empty cluster", async () => {
    sim = await startKubeSim({ workloads: false });
    const d = await detectFlux(simCluster(sim));
    expect(d.installed).toBe(false);
    expect(d.version).toBeNull();
    expect(d.crds).toEqual([]);
    expect(d.healthy).toBe(false);
    expect(d.operator).toEqual({ present: false, instance: null });
    expect(d.components.filter((x) => x.required).map((x) => x.name)).toEqual([
      "source-controller",
      "kustomize-controller",
      "helm-controller",
      "notification-controller",
    ]);
    expect(d.components.every((x) => !x.present)).toBe(true);
  });

  it("detects a Flux installed by someone else (applied directly), its version and unready controllers", async () => {
    sim = await startKubeSim({ workloads: false, crdEstablishDelayMs: 0 });
    const c = simCluster(sim);
    const manifest = miniFluxManifest({ version: "v2.6.4", components: ["source-controller", "kustomize-controller"] });
    await applyAsOther(c, manifest);
    const d = await detectFlux(c);
    expect(d.installed).toBe(true);
    expect(d.version).toBe("v2.6.4");
    expect(d.crds.map((x) => [x.name, x.established, x.versions])).toContainEqual([
      "kustomizations.kustomize.toolkit.fluxcd.io",
      true,
      ["v1"],
    ]);
    const source = d.components.find((x) => x.name === "source-controller")!;
    expect(source).toMatchObject({
      present: true,
      required: true,
      ready: false,
      replicas: 1,
      readyReplicas: 0,
      version: "v2.6.4",
    });
    expect(source.image).toBe("ghcr.io/fluxcd/source-controller:v1.7.3");
    expect(d.components.find((x) => x.name === "helm-controller")?.present).toBe(false);
    expect(d.healthy).toBe(false);
    expect(d.managedBy).toBe("other");
  });

  it("installs Flux in order, waits for the controllers, upgrades in place, plans and runs the uninstall", async () => {
    sim = await startKubeSim({ crdEstablishDelayMs: 30, workloads: { podStartMs: 50 } });
    const c = simCluster(sim);
    const manifest = miniFluxManifest({ version: "v2.7.3" });
    const events: Progress<InstallPhase>[] = [];
    const refs = await installFlux(c, manifest, { onProgress: (p) => events.push(p), pollMs: 20, timeoutMs: 20_000 });
    expect(refs).toHaveLength(manifest.length);

    const phases = events.map((e) => e.phase).filter((p, i, all) => all[i - 1] !== p);
    expect(phases).toEqual(["crds", "establish", "namespaces", "resources", "rollout", "done"]);
    const last = (phase: InstallPhase) => events.filter((e) => e.phase === phase).at(-1)!;
    expect(last("crds")).toMatchObject({ done: 5, total: 5 });
    expect(last("establish")).toMatchObject({ done: 5, total: 5 });
    expect(last("rollout")).toMatchObject({ done: 4, total: 4 });

    const d = await detectFlux(c);
    expect(d.installed).toBe(true);
    expect(d.healthy).toBe(true);
    expect(d.version).toBe("v2.7.3");
    expect(d.managedBy).toBe("juanie");
    expect(d.components.filter((x) => x.required).every((x) => x.ready && x.readyReplicas === 1)).toBe(true);
    expect(d.components.find((x) => x.name === "kustomize-controller")?.restarts).toBe(0);

    // A Flux object a user made: the uninstall plan counts it, the uninstall removes it.
    await applyObjects(c, [
      {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        metadata: { name: "web", namespace: "flux-system" },
        spec: { url: "https://git.example.com/web.git", interval: "1m" },
      },
    ]);

    // Upgrade: a newer manifest (new controller image and version) keeps every object.
    const newer = miniFluxManifest({ version: "v2.8.0", controllerTag: "v1.8.0" });
    const upgradeEvents: Progress<InstallPhase>[] = [];
    await installFlux(c, newer, { onProgress: (p) => upgradeEvents.push(p), pollMs: 20, timeoutMs: 20_000 });
    expect(upgradeEvents.at(-1)?.phase).toBe("done");
    const up = await detectFlux(c);
    expect(up.version).toBe("v2.8.0");
    expect(up.healthy).toBe(true);
    expect(up.components.find((x) => x.name === "helm-controller")?.image).toBe(
      "ghcr.io/fluxcd/helm-controller:v1.8.0",
    );
    expect(
      await getObject(c, {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        namespace: "flux-system",
        name: "web",
      }),
    ).not.toBeNull();

    const plan = await planFluxUninstall(c, newer);
    expect(plan.crds).toContainEqual({
      name: "gitrepositories.source.toolkit.fluxcd.io",
      kind: "GitRepository",
      objects: 1,
    });
    expect(plan.customObjects).toBe(1);
    expect(plan.namespaces).toEqual(["flux-system"]);
    expect(plan.clusterScoped.map((r) => `${r.kind}/${r.name}`)).toEqual([
      "ClusterRole/crd-controller-flux-system",
      "ClusterRoleBinding/crd-controller-flux-system",
    ]);

    const phasesOut: string[] = [];
    await uninstallFlux(c, newer, { onProgress: (p) => phasesOut.push(p.phase), pollMs: 20 });
    expect([...new Set(phasesOut)]).toEqual(["custom-objects", "resources", "namespaces", "crds", "done"]);
    const gone = await detectFlux(c);
    expect(gone.crds).toEqual([]);
    expect(gone.components.some((x) => x.present)).toBe(false);
    expect(
      await getObject(c, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        name: "crd-controller-flux-system",
      }),
    ).toBeNull();
  });

  it("reports a crash-looping controller: not ready, its restarts counted, Flux unhealthy", async () => {
    sim = await startKubeSim({
      crdEstablishDelayMs: 0,
      workloads: {
        podStartMs: 20,
        restartIntervalMs: 50,
        failures: [{ image: "helm-controller:v0.0.1-broken", reason: "CrashLoopBackOff" }],
      },
    });
    const c = simCluster(sim);
    const manifest = miniFluxManifest().map((o) =>
      o.kind === "Deployment" && o.metadata.name === "helm-controller"
        ? JSON.parse(JSON.stringify(o).replace("helm-controller:v1.7.3", "helm-controller:v0.0.1-broken"))
        : o,
    );
    await expect(installFlux(c, manifest, { pollMs: 20, timeoutMs: 1500 })).rejects.toThrow(
      /timed out waiting for Deployment flux-system\/helm-controller to be ready \(0\/1 ready\)/,
    );
    const deadline = Date.now() + 5000;
    let helm = (await detectFlux(c)).components.find((x) => x.name === "helm-controller")!;
    while (helm.restarts < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      helm = (await detectFlux(c)).components.find((x) => x.name === "helm-controller")!;
    }
    expect(helm).toMatchObject({ present: true, ready: false, readyReplicas: 0 });
    expect(helm.restarts).toBeGreaterThanOrEqual(2);
    const d = await detectFlux(c);
    expect(d.healthy).toBe(false);
    expect(d.components.find((x) => x.name === "source-controller")?.ready).toBe(true);
  });

  it("applies CRDs and waits for them to be Established before any custom resource", async () => {
    sim = await startKubeSim({ workloads: false, crdEstablishDelayMs: 300 });
    const c = simCluster(sim);
    const manifest = [
      crd("example.juanie.dev", "Widget", "widgets"),
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } },
      {
        apiVersion: "example.juanie.dev/v1",
        kind: "Widget",
        metadata: { name: "w", namespace: "demo" },
        spec: { size: 1 },
      },
    ];
    const events: string[] = [];
    await installFlux(c, manifest, { onProgress: (p) => events.push(`${p.phase} ${p.done}/${p.total}`), pollMs: 20 });
    expect(events.indexOf("establish 1/1")).toBeLessThan(events.indexOf("resources 1/1"));
    expect(
      await getObject(c, { apiVersion: "example.juanie.dev/v1", kind: "Widget", namespace: "demo", name: "w" }),
    ).not.toBeNull();
  });

  it("applies a FluxInstance for the Flux Operator and detects it", async () => {
    sim = await startKubeSim({ workloads: false, crdEstablishDelayMs: 0 });
    const c = simCluster(sim);
    await installFlux(
      c,
      [
        crd("fluxcd.controlplane.io", "FluxInstance", "fluxinstances"),
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "flux-system" } },
      ],
      { pollMs: 10 },
    );
    await expect(applyFluxInstance(c, { version: "latest" })).rejects.toThrow(/must be a release \(2.7.1\) or a range/);
    const fi = await applyFluxInstance(c, {
      version: "2.x",
      components: ["source-controller", "kustomize-controller"],
    });
    expect(fi.metadata.name).toBe("flux");
    expect(fi.spec).toEqual({
      distribution: { version: "2.x", registry: "ghcr.io/fluxcd" },
      components: ["source-controller", "kustomize-controller"],
      cluster: { type: "kubernetes" },
    });
    const d = await detectFlux(c);
    expect(d.operator.present).toBe(true);
    expect(d.operator.instance).toMatchObject({ name: "flux", namespace: "flux-system", version: "2.x", ready: false });
    expect(d.managedBy).toBe("operator");
    expect(fi.apiVersion).toBe("fluxcd.controlplane.io/v1");
  });
});
