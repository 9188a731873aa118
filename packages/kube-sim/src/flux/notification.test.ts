import { createHmac } from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type GitServer, startGitServer } from "../../../../test/git-server.ts";
import { type KubeSim, startKubeSim } from "../cluster.ts";
import { deploymentYaml, fluxObjects, until, workingCopy } from "./flux.testing.ts";

// The simulated notification-controller posts the controllers' events to a generic-hmac Provider.
const TOKEN = "flux-sim-notify-token";
const HMAC_KEY = "webhook-secret";
let git: GitServer;
let sim: KubeSim;
let receiver: http.Server;
let receiverUrl: string;
const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString();
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const addr = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/api/flux/events`;
  git = await startGitServer({ token: TOKEN });
  const url = await git.createRepo("svc");
  const work = await workingCopy(url, TOKEN);
  await work.commit({ "app/api.yaml": deploymentYaml("api") }, "add api");
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
  const flux = fluxObjects(sim);
  await until("the controllers", () => sim.flux?.controllerReady("notification-controller"));
  await until("the Alert kind", () => sim.store.findKind("notification.toolkit.fluxcd.io/v1beta3", "Alert"));
  flux.apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "juanie-webhook", namespace: "flux-system" },
    stringData: { address: receiverUrl, token: HMAC_KEY, headers: "X-Juanie-Cluster: sim-1\n" },
  });
  flux.apply({
    apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
    kind: "Provider",
    metadata: { name: "juanie", namespace: "flux-system" },
    spec: { type: "generic-hmac", secretRef: { name: "juanie-webhook" } },
  });
  flux.apply({
    apiVersion: "notification.toolkit.fluxcd.io/v1beta3",
    kind: "Alert",
    metadata: { name: "juanie", namespace: "flux-system" },
    spec: {
      providerRef: { name: "juanie" },
      eventSeverity: "info",
      eventSources: [
        { kind: "GitRepository", name: "*" },
        { kind: "Kustomization", name: "*" },
      ],
    },
  });
  flux.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "svc" } });
  flux.apply({
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "GitRepository",
    metadata: { name: "svc", namespace: "flux-system" },
    spec: { url, ref: { branch: "main" }, interval: "10m" },
  });
  flux.apply({
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: "svc", namespace: "flux-system" },
    spec: {
      interval: "10m",
      path: "./app",
      prune: true,
      wait: true,
      timeout: "20s",
      targetNamespace: "svc",
      sourceRef: { kind: "GitRepository", name: "svc" },
    },
  });
});

afterAll(async () => {
  await sim?.close();
  await git?.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

it("posts Flux's event JSON, signed with X-Signature, with the revision in metadata", async () => {
  const succeeded = await until("the ReconciliationSucceeded event", () =>
    received.find((r) => (JSON.parse(r.body) as { reason: string }).reason === "ReconciliationSucceeded"),
  );
  const event = JSON.parse(succeeded.body);
  expect(event).toMatchObject({
    involvedObject: {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      name: "svc",
      namespace: "flux-system",
    },
    severity: "info",
    reportingController: "kustomize-controller",
  });
  expect(event.metadata.revision).toMatch(/^main@sha1:[0-9a-f]{40}$/);
  expect(event.message).toMatch(/^Reconciliation finished in .+, next run in 10m0s$/);
  expect(succeeded.headers["gotk-component"]).toBe("kustomize-controller");
  expect(succeeded.headers["content-type"]).toBe("application/json");
  expect(succeeded.headers["x-juanie-cluster"]).toBe("sim-1");
  const expected = createHmac("sha256", HMAC_KEY).update(succeeded.body).digest("hex");
  expect(succeeded.headers["x-signature"]).toBe(`sha256=${expected}`);
  const artifact = received.map((r) => JSON.parse(r.body)).find((e) => e.reason === "NewArtifact");
  expect(artifact).toMatchObject({
    reportingController: "source-controller",
    message: "stored artifact for commit 'add api'",
  });
  expect(artifact.metadata.digest).toMatch(/^sha256:/);
});
