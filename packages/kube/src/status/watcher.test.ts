import http from "node:http";
import type net from "node:net";
import { type KubeSim, startKubeSim } from "@juanie/kube-sim";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fluxResourceState } from "./reducers.ts";
import { startRelay } from "./relay.testing.ts";
import {
  type ClusterEvent,
  ClusterWatcher,
  type ConnectionChange,
  compareResourceVersions,
  GIT_REPOSITORY,
  HELM_RELEASE,
  KUSTOMIZATION,
  nextRestart,
} from "./watcher.ts";

const SHA_A = "1111111111111111111111111111111111111111";
const FAST = { initialMs: 30, maxMs: 200, resetAfterMs: 60_000 };

const until = async (check: () => boolean, what: string, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const crdFor = (k: { group: string; version: string; kind: string; plural: string }) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${k.plural}.${k.group}` },
  spec: {
    group: k.group,
    scope: "Namespaced",
    names: { kind: k.kind, plural: k.plural, singular: k.kind.toLowerCase(), listKind: `${k.kind}List` },
    versions: [
      {
        name: k.version,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    ],
  },
});

const test = { manager: "test" };

async function installCrd(sim: KubeSim, k: { group: string; version: string; kind: string; plural: string }) {
  sim.store.create(sim.type("apiextensions.k8s.io/v1", "CustomResourceDefinition"), undefined, crdFor(k), test);
  await until(() => sim.store.findKind(`${k.group}/${k.version}`, k.kind) !== undefined, `${k.kind} served`);
}

function createNamespace(sim: KubeSim, name: string) {
  sim.store.create(sim.type("v1", "Namespace"), undefined, { metadata: { name } }, test);
}

const gitRepository = (name: string) => ({
  apiVersion: "source.toolkit.fluxcd.io/v1",
  kind: "GitRepository",
  metadata: { name, namespace: "flux-system" },
  spec: { url: `https://git.example.com/team/${name}.git`, interval: "1m", ref: { branch: "main" } },
});

const deployment = (name: string, labels: Record<string, string>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "apps", labels },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } },
  },
});

function kubeConfigFor(sim: KubeSim, server?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig());
  if (server) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("no cluster in the simulator's kubeconfig");
    kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server } : c));
  }
  return kc;
}

function record(watcher: ClusterWatcher) {
  const events: ClusterEvent[] = [];
  const connections: ConnectionChange[] = [];
  watcher.on("event", (e) => events.push(e));
  watcher.on("connection", (c) => connections.push(c));
  const names = () => events.map((e) => `${e.type} ${e.kind} ${e.object.metadata?.name}`);
  return { events, connections, names };
}

describe("ClusterWatcher against the simulated cluster", () => {
  let sim: KubeSim;
  const watchers: ClusterWatcher[] = [];
  const track = (w: ClusterWatcher) => {
    watchers.push(w);
    return w;
  };

  beforeAll(async () => {
    sim = await startKubeSim({ workloads: false });
    createNamespace(sim, "flux-system");
    createNamespace(sim, "apps");
    for (const k of [GIT_REPOSITORY, KUSTOMIZATION, HELM_RELEASE]) await installCrd(sim, k);
  });

  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop()));
  });

  afterAll(async () => {
    await sim?.close();
  });

  it("lists and watches Flux objects and Flux-applied Deployments, with status updates and deletions", async () => {
    const gitRepos = sim.type("source.toolkit.fluxcd.io/v1", "GitRepository");
    const kustomizations = sim.type("kustomize.toolkit.fluxcd.io/v1", "Kustomization");
    const helmReleases = sim.type("helm.toolkit.fluxcd.io/v2", "HelmRelease");
    const deployments = sim.type("apps/v1", "Deployment");
    sim.store.create(gitRepos, "flux-system", gitRepository("web"), test);
    sim.store.create(
      kustomizations,
      "flux-system",
      {
        metadata: { name: "web", namespace: "flux-system" },
        spec: { sourceRef: { kind: "GitRepository", name: "web" }, path: "./deploy", interval: "5m", prune: true },
      },
      test,
    );
    sim.store.create(
      helmReleases,
      "apps",
      { metadata: { name: "cache", namespace: "apps" }, spec: { chart: { spec: { chart: "redis" } } } },
      test,
    );
    sim.store.create(
      deployments,
      "apps",
      deployment("web", {
        "kustomize.toolkit.fluxcd.io/name": "web",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
      }),
      test,
    );
    sim.store.create(deployments, "apps", deployment("hand-made", { team: "ops" }), test);

    const watcher = track(new ClusterWatcher({ id: "c1", kc: kubeConfigFor(sim), backoff: FAST }));
    const { events, connections, names } = record(watcher);
    await watcher.start();
    // OCIRepository and HelmRepository are watched too where served; this cluster has no CRD for them.
    expect(watcher.watchedKinds().sort()).toEqual(["Deployment", "GitRepository", "HelmRelease", "Kustomization"]);
    await until(() => events.length >= 4, "the initial list");
    expect(names().sort()).toEqual([
      "upsert Deployment web",
      "upsert GitRepository web",
      "upsert HelmRelease cache",
      "upsert Kustomization web",
    ]);
    expect(events.every((e) => e.cluster === "c1")).toBe(true);
    // List items of built-in kinds carry no kind/apiVersion on a real API server; events always do.
    expect(events.find((e) => e.kind === "Deployment")?.object).toMatchObject({
      apiVersion: "apps/v1",
      kind: "Deployment",
    });
    expect(connections.map((c) => c.state)).toEqual(["connected"]);

    // kustomize-controller reports a reconciliation: the watcher passes the status on.
    sim.store.patch(
      kustomizations,
      "flux-system",
      "web",
      "merge",
      {
        status: {
          observedGeneration: 1,
          lastAppliedRevision: `main@sha1:${SHA_A}`,
          lastAttemptedRevision: `main@sha1:${SHA_A}`,
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "ReconciliationSucceeded",
              message: `Applied revision: main@sha1:${SHA_A}`,
              lastTransitionTime: "2026-12-03T10:00:00Z",
            },
          ],
        },
      },
      { manager: "kustomize-controller", scope: "status" },
    );
    await until(() => events.length >= 5, "the status update");
    const update = events[4] as ClusterEvent;
    expect(update.type).toBe("upsert");
    expect(fluxResourceState(update.object)).toMatchObject({ state: "ready", appliedRevision: `main@sha1:${SHA_A}` });

    sim.store.delete(helmReleases, "apps", "cache");
    // Labelling a hand-made Deployment later brings it in (it now belongs to a Kustomization).
    sim.store.patch(
      deployments,
      "apps",
      "hand-made",
      "merge",
      { metadata: { labels: { "kustomize.toolkit.fluxcd.io/name": "web" } } },
      test,
    );
    await until(() => events.length >= 7, "the deletion and the labelled Deployment");
    expect(names().slice(5).sort()).toEqual(["delete HelmRelease cache", "upsert Deployment hand-made"]);
    expect(watcher.objects("HelmRelease")).toEqual([]);
  });

  it("re-lists after the history was compacted while disconnected, without losing or duplicating objects", async () => {
    const gitRepos = sim.type("source.toolkit.fluxcd.io/v1", "GitRepository");
    sim.store.create(gitRepos, "flux-system", gitRepository("stays"), test);
    sim.store.create(gitRepos, "flux-system", gitRepository("goes"), test);
    sim.store.create(gitRepos, "flux-system", gitRepository("recreated"), test);
    const watcher = track(
      new ClusterWatcher({ id: "c1", kc: kubeConfigFor(sim), kinds: [GIT_REPOSITORY], backoff: FAST }),
    );
    const { events, names } = record(watcher);
    await watcher.start();
    await until(() => names().includes("upsert GitRepository recreated"), "the initial list");
    const initial = events.length;
    const oldUid = sim.store.get(gitRepos, "flux-system", "recreated").metadata.uid;

    // The API server ends every watch; before the informer is back, things change and etcd compacts.
    sim.server.dropWatches();
    sim.store.delete(gitRepos, "flux-system", "goes");
    sim.store.create(gitRepos, "flux-system", gitRepository("arrived"), test);
    sim.store.delete(gitRepos, "flux-system", "recreated");
    sim.store.create(gitRepos, "flux-system", gitRepository("recreated"), test);
    sim.store.compact();
    await until(() => events.length >= initial + 4, "the re-list");
    // Let any duplicate arrive before counting: the watch is live again once a new object shows up.
    sim.store.create(gitRepos, "flux-system", gitRepository("after"), test);
    await until(() => names().includes("upsert GitRepository after"), "an event after the re-list");

    const afterDrop = events.slice(initial);
    expect(afterDrop.map((e) => `${e.type} ${e.object.metadata?.name}`).sort()).toEqual([
      "delete goes",
      "delete recreated",
      "upsert after",
      "upsert arrived",
      "upsert recreated",
    ]);
    expect(
      afterDrop.find((e) => e.type === "delete" && e.object.metadata?.name === "recreated")?.object.metadata?.uid,
    ).toBe(oldUid);
    const known = watcher.objects("GitRepository").map((o) => `${o.metadata?.name} ${o.metadata?.uid}`);
    const stored = sim.store.list(gitRepos, undefined).map((o) => `${o.metadata.name} ${o.metadata.uid}`);
    expect(known.sort()).toEqual(stored.sort());
  });

  it("reports reconnecting while the connection is cut, then connected, and catches up on what changed", async () => {
    const relay = await startRelay(sim.url);
    const gitRepos = sim.type("source.toolkit.fluxcd.io/v1", "GitRepository");
    try {
      const watcher = track(
        new ClusterWatcher({ id: "c2", kc: kubeConfigFor(sim, relay.url), kinds: [GIT_REPOSITORY], backoff: FAST }),
      );
      const { connections, names } = record(watcher);
      await watcher.start();
      await until(() => connections.length === 1, "connected");
      relay.cut();
      await until(() => connections.length === 2, "reconnecting");
      expect(connections[1]).toMatchObject({ cluster: "c2", state: "reconnecting" });
      expect(connections[1]?.error).toMatch(/\S/);
      expect(connections[1]?.error).not.toContain(sim.token);
      sim.store.create(gitRepos, "flux-system", gitRepository("during-outage"), test);
      relay.restore();
      await until(() => connections.length === 3, "connected again");
      expect(connections.map((c) => c.state)).toEqual(["connected", "reconnecting", "connected"]);
      await until(() => names().includes("upsert GitRepository during-outage"), "the change made during the outage");
    } finally {
      await Promise.all(watchers.splice(0).map((w) => w.stop()));
      await relay.close();
    }
  });

  it("notices a watch connection that died silently and resumes through a new one", async () => {
    const relay = await startRelay(sim.url);
    const gitRepos = sim.type("source.toolkit.fluxcd.io/v1", "GitRepository");
    const watcher = new ClusterWatcher({
      id: "c4",
      kc: kubeConfigFor(sim, relay.url),
      kinds: [GIT_REPOSITORY],
      backoff: FAST,
      watchTimeoutSeconds: 1,
      watchGraceMs: 100,
    });
    try {
      const { connections, names } = record(watcher);
      await watcher.start();
      // The open watch stops carrying anything, even the server's end of it; nothing reports an error.
      relay.freeze();
      sim.store.create(gitRepos, "flux-system", gitRepository("while-frozen"), test);
      await until(() => names().includes("upsert GitRepository while-frozen"), "the change, through a new watch");
      // An ordinary end of a watch, not an outage.
      expect(connections.map((c) => c.state)).toEqual(["connected"]);
    } finally {
      await watcher.stop();
      await relay.close();
    }
  });

  it("does not hang on a cluster that accepts connections but never answers", async () => {
    const relay = await startRelay(sim.url);
    relay.blackhole();
    const watcher = new ClusterWatcher({
      id: "c6",
      kc: kubeConfigFor(sim, relay.url),
      kinds: [GIT_REPOSITORY],
      backoff: FAST,
      requestTimeoutMs: 200,
    });
    try {
      const { connections, names } = record(watcher);
      await watcher.start();
      expect(connections).toMatchObject([
        { state: "reconnecting", error: expect.stringContaining("no answer within 200 ms") },
      ]);
      relay.restore();
      await until(() => watcher.connection?.state === "connected", "connected once the cluster answers");
      await until(() => names().includes("upsert GitRepository web"), "the objects");
    } finally {
      await watcher.stop();
      await relay.close();
    }
  });

  it("keeps watching when an event listener throws", async () => {
    const gitRepos = sim.type("source.toolkit.fluxcd.io/v1", "GitRepository");
    const failures: string[] = [];
    const watcher = track(
      new ClusterWatcher({
        id: "c5",
        kc: kubeConfigFor(sim),
        kinds: [GIT_REPOSITORY],
        backoff: FAST,
        onListenerError: (err, e) => failures.push(`${e.object.metadata?.name}: ${(err as Error).message}`),
      }),
    );
    const { names } = record(watcher);
    watcher.on("event", (e) => {
      if (e.object.metadata?.name === "poison") throw new Error("listener bug");
    });
    await watcher.start();
    sim.store.create(gitRepos, "flux-system", gitRepository("poison"), test);
    sim.store.create(gitRepos, "flux-system", gitRepository("next"), test);
    await until(() => names().includes("upsert GitRepository next"), "the event after the failing one");
    expect(failures).toEqual(["poison: listener bug"]);
  });

  it("stop() leaves no timers or connections behind", async () => {
    const count = (type: string) => process.getActiveResourcesInfo().filter((r) => r === type).length;
    // The simulator's own short timers from the setup finish first; then any timer left is the watcher's.
    await until(() => count("Timeout") === 0, "a quiet process");
    const sockets = count("TCPSocketWrap");
    const watcher = new ClusterWatcher({ id: "c3", kc: kubeConfigFor(sim), backoff: FAST });
    await watcher.start();
    expect(count("TCPSocketWrap")).toBeGreaterThan(sockets); // watches are open
    await watcher.stop();
    // Our timers (discovery, restarts, watch watchdogs) and the simulator's per-watch timeouts all end.
    await until(() => count("Timeout") === 0 && count("TCPSocketWrap") <= sockets, "timers and connections to end");
  });
});

describe("ClusterWatcher discovery", () => {
  it("starts watching a Flux kind whose CRD is installed after start, and retires it when removed", async () => {
    const sim = await startKubeSim({ workloads: false });
    const watcher = new ClusterWatcher({
      id: "late",
      kc: kubeConfigFor(sim),
      discoveryIntervalMs: 50,
      backoff: FAST,
    });
    try {
      createNamespace(sim, "flux-system");
      const { names, connections } = record(watcher);
      await watcher.start();
      expect(watcher.watchedKinds()).toEqual(["Deployment"]);
      expect(connections.map((c) => c.state)).toEqual(["connected"]);

      await installCrd(sim, GIT_REPOSITORY);
      sim.store.create(
        sim.type("source.toolkit.fluxcd.io/v1", "GitRepository"),
        "flux-system",
        gitRepository("late"),
        test,
      );
      await until(() => names().includes("upsert GitRepository late"), "the late kind's object");
      expect(watcher.watchedKinds().sort()).toEqual(["Deployment", "GitRepository"]);

      sim.store.delete(
        sim.type("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        undefined,
        "gitrepositories.source.toolkit.fluxcd.io",
      );
      await until(() => watcher.watchedKinds().length === 1, "the kind to be retired");
      expect(watcher.watchedKinds()).toEqual(["Deployment"]);
      // Its objects went with the CRD: one delete, whichever of the watch or the retirement saw it first.
      expect(names().filter((n) => n.endsWith("GitRepository late"))).toEqual([
        "upsert GitRepository late",
        "delete GitRepository late",
      ]);
    } finally {
      await watcher.stop();
      await sim.close();
    }
  });
});

/**
 * A scripted API server (plain HTTP) for what a real one only does under load or through proxies:
 * duplicated and out-of-order watch events. It serves discovery, one list and one watch stream.
 */
async function startScriptedApi(listed: object[], watchEvents: { type: string; object: object }[]) {
  const group = "source.toolkit.fluxcd.io/v1";
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    res.setHeader("content-type", "application/json");
    if (url.pathname === `/apis/${group}`) {
      res.end(
        JSON.stringify({
          kind: "APIResourceList",
          groupVersion: group,
          resources: [
            {
              name: "gitrepositories",
              kind: "GitRepository",
              namespaced: true,
              singularName: "gitrepository",
              verbs: ["list", "watch"],
            },
          ],
        }),
      );
    } else if (url.pathname === `/apis/${group}/gitrepositories` && url.searchParams.get("watch") === "true") {
      res.writeHead(200);
      for (const e of watchEvents) res.write(`${JSON.stringify(e)}\n`);
      // Keep the stream open like a real watch; the client ends it.
    } else if (url.pathname === `/apis/${group}/gitrepositories`) {
      res.end(
        JSON.stringify({
          apiVersion: group,
          kind: "GitRepositoryList",
          metadata: { resourceVersion: "10" },
          items: listed,
        }),
      );
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: "Status", code: 404, reason: "NotFound", message: "not found" }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "scripted", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "scripted", token: "scripted-token" }],
    contexts: [{ name: "scripted", cluster: "scripted", user: "scripted" }],
    currentContext: "scripted",
  });
  return {
    kc,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("ClusterWatcher event ordering", () => {
  it("drops duplicated and out-of-order updates and late events for a deleted object", async () => {
    const repo = (rv: string, revision: string) => ({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: "web", namespace: "flux-system", uid: "uid-web", resourceVersion: rv },
      status: { artifact: { revision: `main@sha1:${revision.repeat(40)}` } },
    });
    const api = await startScriptedApi(
      [repo("10", "a")],
      [
        { type: "MODIFIED", object: repo("12", "c") },
        { type: "MODIFIED", object: repo("11", "b") }, // older, arrives late
        { type: "MODIFIED", object: repo("12", "c") }, // duplicate
        { type: "MODIFIED", object: repo("13", "d") },
        { type: "DELETED", object: repo("14", "d") },
        { type: "ADDED", object: repo("13", "d") }, // late event for the deleted object
        {
          type: "ADDED",
          object: { ...repo("15", "e"), metadata: { ...repo("15", "e").metadata, name: "marker", uid: "uid-marker" } },
        },
      ],
    );
    const watcher = new ClusterWatcher({ id: "scripted", kc: api.kc, kinds: [GIT_REPOSITORY], backoff: FAST });
    try {
      const { events } = record(watcher);
      await watcher.start();
      await until(() => events.some((e) => e.object.metadata?.name === "marker"), "the whole script");
      expect(events.map((e) => `${e.type} ${e.object.metadata?.name} ${e.object.metadata?.resourceVersion}`)).toEqual([
        "upsert web 10",
        "upsert web 12",
        "upsert web 13",
        "delete web 14",
        "upsert marker 15",
      ]);
      expect(watcher.objects("GitRepository").map((o) => o.metadata?.name)).toEqual(["marker"]);
    } finally {
      await watcher.stop();
      await api.close();
    }
  });
});

describe("nextRestart", () => {
  const policy = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };
  it.each<[string, number, number | null, number, number]>([
    ["first failure", 0, null, 1000, 1],
    ["second in a row", 1, null, 2000, 2],
    ["doubling", 4, 5_000, 16_000, 5],
    ["capped at 30 s", 5, null, 30_000, 6],
    ["still capped much later", 100, 10_000, 30_000, 31],
    ["back to 1 s after a healthy minute", 7, 60_000, 1000, 1],
  ])("%s", (_name, attempt, healthyFor, delayMs, next) => {
    expect(nextRestart(policy, attempt, healthyFor)).toEqual({ delayMs, attempt: next });
  });
});

describe("compareResourceVersions", () => {
  it.each([
    ["10", "9", 1],
    ["9", "10", -1],
    ["12", "12", 0],
    ["123456789012345678901", "123456789012345678900", 1],
    ["abc", "9", null],
    ["", "9", null],
  ])("%s vs %s → %s", (a, b, expected) => {
    expect(compareResourceVersions(a, b)).toBe(expected);
  });
});
