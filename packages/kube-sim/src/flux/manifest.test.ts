import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { type KubeSim, startKubeSim } from "../cluster.ts";
import { kubectlFor } from "../kubectl.testing.ts";
import { SIMULATED_MANIFEST_ANNOTATION, serveFluxReleases, simulatedFluxInstallManifest } from "./manifest.ts";

// The simulated Flux install manifest, applied with the real kubectl as a platform would apply install.yaml.
let sim: KubeSim;
let k: Awaited<ReturnType<typeof kubectlFor>>;

beforeAll(async () => {
  sim = await startKubeSim({ workloads: { podStartMs: 50 }, flux: { stepDelayMs: 20 } });
  k = await kubectlFor(sim);
});

afterAll(async () => {
  await sim?.close();
  await k?.cleanup();
});

describe("simulatedFluxInstallManifest", () => {
  it("has the shape of Flux's install.yaml: namespace, CRDs, RBAC, services and the four controllers", () => {
    const docs = parseAllDocuments(simulatedFluxInstallManifest("2.7.3")).map((d) => d.toJS());
    const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`);
    expect(kinds[0]).toBe("Namespace/flux-system");
    expect(kinds).toEqual(
      expect.arrayContaining([
        "CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io",
        "CustomResourceDefinition/kustomizations.kustomize.toolkit.fluxcd.io",
        "CustomResourceDefinition/helmreleases.helm.toolkit.fluxcd.io",
        "CustomResourceDefinition/receivers.notification.toolkit.fluxcd.io",
        "ClusterRoleBinding/cluster-reconciler-flux-system",
        "Service/source-controller",
        "Deployment/source-controller",
        "Deployment/kustomize-controller",
        "Deployment/helm-controller",
        "Deployment/notification-controller",
      ]),
    );
    const images = docs.filter((d) => d.kind === "Deployment").map((d) => d.spec.template.spec.containers[0].image);
    // The controller releases of Flux v2.7.3 (fluxcd/flux2 manifests/bases at that tag).
    expect(images).toEqual([
      "ghcr.io/fluxcd/source-controller:v1.7.3",
      "ghcr.io/fluxcd/kustomize-controller:v1.7.2",
      "ghcr.io/fluxcd/helm-controller:v1.4.3",
      "ghcr.io/fluxcd/notification-controller:v1.7.4",
    ]);
    for (const d of docs) {
      expect(d.metadata.labels["app.kubernetes.io/version"]).toBe("v2.7.3");
      expect(d.metadata.annotations[SIMULATED_MANIFEST_ANNOTATION]).toContain("Juanie simulator");
    }
    expect(() => simulatedFluxInstallManifest("9.9.9")).toThrow(/flux version "9.9.9" is not known/);
  });

  it("installs with kubectl apply --server-side: CRDs established, then the four controllers Ready", async () => {
    const applied = await k.run(["apply", "--server-side", "-f", "-"], simulatedFluxInstallManifest());
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(
      "customresourcedefinition.apiextensions.k8s.io/gitrepositories.source.toolkit.fluxcd.io serverside-applied",
    );
    const established = await k.run([
      "wait",
      "--for=condition=Established",
      "crd/gitrepositories.source.toolkit.fluxcd.io",
      "crd/kustomizations.kustomize.toolkit.fluxcd.io",
      "--timeout=10s",
    ]);
    expect(established.code).toBe(0);
    const ready = await k.run([
      "wait",
      "-n",
      "flux-system",
      "--for=condition=Available",
      "deployment/source-controller",
      "deployment/kustomize-controller",
      "deployment/helm-controller",
      "deployment/notification-controller",
      "--timeout=10s",
    ]);
    expect(ready.stdout).toContain("deployment.apps/kustomize-controller condition met");
    expect(ready.code).toBe(0);
    const shortName = await k.run(["get", "gitrepo", "-A"]);
    expect(shortName.code).toBe(0);
    expect(sim.flux?.controllerReady("source-controller")).toBe(true);
  });
});

describe("serveFluxReleases", () => {
  it("serves /v<version>/install.yaml like a release mirror, and 404 for unknown versions", async () => {
    const mirror = await serveFluxReleases();
    try {
      const res = await fetch(mirror.urlTemplate.replace("{version}", "2.8.0"));
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain("ghcr.io/fluxcd/source-controller:v1.8.0");
      const missing = await fetch(`${mirror.url}/v0.0.1/install.yaml`);
      expect(missing.status).toBe(404);
      expect(mirror.requests).toEqual(["/v2.8.0/install.yaml", "/v0.0.1/install.yaml"]);
    } finally {
      await mirror.close();
    }
  });
});
