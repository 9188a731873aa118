import { afterAll, beforeAll, expect, it } from "vitest";
import { type GitServer, startGitServer } from "../../../../test/git-server.ts";
import { type KubeSim, startKubeSim } from "../cluster.ts";
import type { KubeObject } from "../json.ts";
import { fluxObjects, until, workingCopy } from "./flux.testing.ts";

// The simulated helm-controller renders a chart from Git with the real `helm template`.
const TOKEN = "flux-sim-helm-token";
let git: GitServer;
let sim: KubeSim;
let flux: ReturnType<typeof fluxObjects>;

const chart = {
  "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: '1.0'\n",
  "charts/web/values.yaml": "image: nginx:1.27\nreplicas: 1\n",
  "charts/web/templates/deployment.yaml": [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: {{ .Release.Name }}",
    "spec:",
    "  replicas: {{ .Values.replicas }}",
    "  selector:",
    "    matchLabels: {app: {{ .Release.Name }}}",
    "  template:",
    "    metadata:",
    "      labels: {app: {{ .Release.Name }}}",
    "    spec:",
    "      containers:",
    "        - name: web",
    "          image: {{ .Values.image | quote }}",
    "",
  ].join("\n"),
};

const release = () => flux.get("helm.toolkit.fluxcd.io/v2", "HelmRelease", "flux-system", "web") as KubeObject;

beforeAll(async () => {
  git = await startGitServer({ token: TOKEN });
  const url = await git.createRepo("charts");
  const work = await workingCopy(url, TOKEN);
  await work.commit(chart, "chart");
  await work.cleanup();
  sim = await startKubeSim({
    workloads: { podStartMs: 20 },
    flux: {
      preinstalled: true,
      stepDelayMs: 10,
      pollMs: 20,
      gitCredentials: () => ({ username: "git", password: TOKEN }),
    },
  });
  flux = fluxObjects(sim);
  await until("helm-controller", () => sim.flux?.controllerReady("helm-controller"));
  await until("the HelmRelease kind", () => sim.store.findKind("helm.toolkit.fluxcd.io/v2", "HelmRelease"));
  flux.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  flux.apply({
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "GitRepository",
    metadata: { name: "charts", namespace: "flux-system" },
    spec: { url, ref: { branch: "main" }, interval: "10m" },
  });
});

afterAll(async () => {
  await sim?.close();
  await git?.close();
});

it("installs a chart from Git: InstallSucceeded, the rendered Deployment runs, history records the release", async () => {
  flux.apply({
    apiVersion: "helm.toolkit.fluxcd.io/v2",
    kind: "HelmRelease",
    metadata: { name: "web", namespace: "flux-system" },
    spec: {
      interval: "10m",
      targetNamespace: "shop",
      timeout: "20s",
      chart: { spec: { chart: "./charts/web", sourceRef: { kind: "GitRepository", name: "charts" } } },
      values: { image: "nginx:1.28" },
    },
  });
  await until("the install", () => flux.ready(release())?.status === "True");
  expect(flux.ready(release())).toMatchObject({
    reason: "InstallSucceeded",
    message: "Helm install succeeded for release shop/shop-web.v1 with chart web@0.1.0",
  });
  const status = flux.status(release());
  expect(status.history).toEqual([
    expect.objectContaining({
      name: "shop-web",
      namespace: "shop",
      version: 1,
      status: "deployed",
      chartName: "web",
      chartVersion: "0.1.0",
      appVersion: "1.0",
    }),
  ]);
  expect(status.lastAttemptedReleaseAction).toBe("install");
  const deployment = flux.get("apps/v1", "Deployment", "shop", "shop-web") as KubeObject;
  expect(JSON.stringify(deployment.spec)).toContain("nginx:1.28");
  expect(deployment.metadata.annotations).toMatchObject({ "meta.helm.sh/release-name": "shop-web" });
  expect(flux.get("v1", "Secret", "flux-system", "sh.helm.release.v1.shop-web.v1")).toBeDefined();
});

it("an upgrade whose pods cannot start: UpgradeFailed with the health check's message", async () => {
  flux.merge("helm.toolkit.fluxcd.io/v2", "HelmRelease", "flux-system", "web", {
    spec: { timeout: "1s", values: { image: "registry.example/does-not-exist:2" } },
  });
  const ready = await until("the failed upgrade", () => {
    const c = flux.ready(release());
    return c?.status === "False" ? c : undefined;
  });
  expect(ready.reason).toBe("UpgradeFailed");
  expect(ready.message).toBe(
    "Helm upgrade failed for release shop/shop-web with chart web@0.1.0: timeout waiting for: [Deployment/shop/shop-web status: 'InProgress']",
  );
  const history = flux.status(release()).history as { version: number; status: string }[];
  expect(history.map((h) => `${h.version}:${h.status}`)).toEqual(["2:failed", "1:deployed"]);
});
