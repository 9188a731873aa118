// Cluster benchmarks on the built server with the Kubernetes API simulator (and its Flux simulator) from
// @juanie/kube-sim: a status change in the cluster → the browser's live stream with 1,000 Kustomizations
// watched; informer memory with 10,000 Flux objects across 10 clusters; deploy from the form → healthy.
// Each part runs on its own fresh server (own data dir and embedded PostgreSQL), so one does not load another.
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster, DeploymentDetail, Environment, FluxStatus, Me, Organization, Project } from "@juanie/contracts";
import { type KubeSim, serveFluxReleases, simulatedFluxInstallObjects, startKubeSim } from "@juanie/kube-sim";
import pg from "pg";
import { startGitServer } from "../test/git-server.ts";
import { type Input, mutation, percentile, queryUrl, request, trpcData } from "./http.ts";
import { embeddedDatabaseUrl, freePort, rssMb, startServer } from "./server.ts";
import { type Row, round } from "./table.ts";

export const CLUSTERS_TARGET = { statusP95Ms: 200, informerMb: 150 };

/** Part 1: Kustomizations in the watched cluster, of which BOUND belong to environments (the rest are foreign). */
const KUSTOMIZATIONS = 1_000;
const BOUND = 10;
const STATUS_SAMPLES = 200;
/** Part 2: clusters × objects (half GitRepositories, half Kustomizations). */
const MEM_CLUSTERS = 10;
const MEM_OBJECTS_PER_CLUSTER = 1_000;
/** After the last object is in the table, before RSS is read. */
const QUIET_MS = 3_000;
/** Part 3: measured deploys (after one warm-up), and the "sync with source right after the commit" series. */
const DEPLOYS = 10;
const DEPLOYS_WITH_SYNC = 3;
/** The GitRepository/Kustomization interval of the bench's environment (the smallest the platform accepts). */
const SYNC_INTERVAL = "10s";
/** The Flux simulator's pause between the visible steps of a reconciliation (its default). */
const FLUX_STEP_DELAY_MS = 150;
const FLUX_VERSION = "2.7.3";

const TOKEN = "bench-git-token";
const KS_API = "kustomize.toolkit.fluxcd.io/v1";
const GIT_API = "source.toolkit.fluxcd.io/v1";
const FLUX_NS = "flux-system";

interface Stats {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: round(percentile(s, 50), 1),
    p95: round(percentile(s, 95), 1),
    max: round(s[s.length - 1] ?? Number.NaN, 1),
  };
}

/** Polls `read` until `ok`, or throws after `ms` naming what it waited for. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms: number, every = 100) {
  const deadline = performance.now() + ms;
  let last: T | undefined;
  while (performance.now() < deadline) {
    last = await read();
    if (ok(last)) return last;
    await sleep(every);
  }
  throw new Error(`${what}: not reached within ${ms} ms (last: ${JSON.stringify(last)?.slice(0, 300)})`);
}

// ----- a fresh server with an admin and an organization -----

interface Platform {
  base: string;
  pid: number;
  cookie: string;
  org: Organization;
  db: pg.Client;
  agent: http.Agent;
  get<T>(procedure: string, input: Input): Promise<T>;
  call<T>(procedure: string, input: object): Promise<T>;
}

async function startPlatform(bundle: string, label: string, defer: (fn: () => Promise<void>) => void) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), `juanie-bench-${label}-`));
  // As root, the embedded PostgreSQL runs as its own user, which must be able to enter the directory.
  await chmod(tmp, 0o755);
  defer(() => rm(tmp, { recursive: true, force: true }));
  const opts = {
    bundle,
    port: await freePort(),
    dataDir: path.join(tmp, "data"),
    pgPort: await freePort(),
    databaseUrl: undefined,
    logLevel: process.env.LOG_LEVEL ?? "warn",
    env: { JUANIE_ALLOW_LOCAL_REPOSITORIES: "true" },
  };
  const server = await startServer(opts, 180_000);
  defer(() => server.stop());
  const base = server.baseUrl;
  const setup = await mutation<Me>(base, "auth.setup", {
    email: "bench-admin@example.test",
    username: "bench-admin",
    displayName: "Bench Admin",
    password: "bench-password-123",
  });
  const setCookie = setup.res.headers["set-cookie"]?.find((c) => c.startsWith("juanie_session="));
  if (!setCookie) throw new Error("auth.setup returned no juanie_session cookie");
  const cookie = setCookie.split(";")[0]!;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  defer(async () => agent.destroy());
  const org = (await mutation<Organization>(base, "orgs.create", { name: "Bench Org", slug: "bench-org" }, cookie))
    .data;
  const db = new pg.Client({ connectionString: embeddedDatabaseUrl(opts.dataDir, opts.pgPort) });
  // The server (and its PostgreSQL) may stop before this client ends.
  db.on("error", () => {});
  await db.connect();
  defer(() => db.end());
  const p: Platform = {
    base,
    pid: server.pid,
    cookie,
    org,
    db,
    agent,
    get: async <T>(procedure: string, input: Input) =>
      trpcData<T>(await request("GET", queryUrl(base, procedure, input), { headers: { cookie }, agent }), procedure),
    call: async <T>(procedure: string, input: object) =>
      (await mutation<T>(base, procedure, input, cookie, agent)).data,
  };
  return p;
}

/**
 * A tRPC subscription over SSE, as the web UI opens it. Resolves with null when the server does not
 * serve the procedure (an older server), so the caller can fall back.
 */
async function subscribe<T>(
  p: Platform,
  procedure: string,
  input: object,
  onData: (value: T) => void,
): Promise<{ close(): void } | null> {
  const url = `${p.base}/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;
  const req = http.get(url, { headers: { cookie: p.cookie, accept: "text/event-stream" } });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on("response", resolve);
    req.on("error", reject);
  });
  if (res.statusCode === 404) {
    req.destroy();
    return null;
  }
  if (res.statusCode !== 200) throw new Error(`${procedure} answered ${res.statusCode}`);
  res.setEncoding("utf8");
  let buffer = "";
  res.on("data", (chunk: string) => {
    buffer += chunk;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? "message";
      const data = /^data: ?(.*)$/m.exec(block)?.[1];
      if (event !== "message" || !data) continue;
      onData(JSON.parse(data) as T);
    }
  });
  // The first bytes (the stream's "connected" event) say the subscription is registered on the server.
  return { close: () => req.destroy() };
}

// ----- Flux objects in a simulated cluster -----

/** The Flux CRDs (and the flux-system namespace) of the simulated install, without its controllers. */
async function applyFluxCrds(sim: KubeSim) {
  for (const o of simulatedFluxInstallObjects(FLUX_VERSION)) {
    if (o.kind !== "CustomResourceDefinition" && o.kind !== "Namespace") continue;
    const type = sim.type(String(o.apiVersion), String(o.kind));
    const meta = o.metadata as { name: string; namespace?: string };
    sim.store.patch(type, meta.namespace, meta.name, "apply", o, { manager: "bench", force: true });
  }
  const deadline = performance.now() + 10_000;
  while (!(sim.store.findKind(KS_API, "Kustomization") && sim.store.findKind(GIT_API, "GitRepository"))) {
    if (performance.now() > deadline) throw new Error("the Flux CRDs were not served within 10 s");
    await sleep(20);
  }
}

const condition = (status: "True" | "False", reason: string, message: string) => ({
  type: "Ready",
  status,
  reason,
  message,
  observedGeneration: 1,
  lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
});

/** A GitRepository (and its Ready status with an artifact) in flux-system, as source-controller reports it. */
function addGitRepository(sim: KubeSim, name: string) {
  const type = sim.type(GIT_API, "GitRepository");
  const sha = randomBytes(20).toString("hex");
  sim.store.create(
    type,
    FLUX_NS,
    {
      apiVersion: GIT_API,
      kind: "GitRepository",
      metadata: { name, namespace: FLUX_NS, labels: { "app.kubernetes.io/part-of": "bench" } },
      spec: {
        interval: "1m",
        url: `https://git.example.com/bench/${name}.git`,
        ref: { branch: "main" },
        secretRef: { name: `${name}-auth` },
        timeout: "60s",
      },
    },
    { manager: "bench" },
  );
  const revision = `main@sha1:${sha}`;
  sim.store.patch(
    type,
    FLUX_NS,
    name,
    "merge",
    {
      status: {
        observedGeneration: 1,
        conditions: [
          condition("True", "Succeeded", `stored artifact for revision '${revision}'`),
          {
            ...condition("True", "Succeeded", `stored artifact for revision '${revision}'`),
            type: "ArtifactInStorage",
          },
        ],
        artifact: {
          path: `gitrepository/${FLUX_NS}/${name}/${sha}.tar.gz`,
          url: `http://source-controller.${FLUX_NS}.svc.cluster.local./gitrepository/${FLUX_NS}/${name}/${sha}.tar.gz`,
          revision,
          digest: `sha256:${randomBytes(32).toString("hex")}`,
          lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
          size: 4096,
        },
      },
    },
    { manager: "source-controller", scope: "status" },
  );
}

/** A Kustomization with a typical Ready status (revision, inventory of a small app, one history entry). */
function addKustomization(sim: KubeSim, name: string) {
  const type = sim.type(KS_API, "Kustomization");
  const sha = randomBytes(20).toString("hex");
  sim.store.create(
    type,
    FLUX_NS,
    {
      apiVersion: KS_API,
      kind: "Kustomization",
      metadata: { name, namespace: FLUX_NS, labels: { "app.kubernetes.io/part-of": "bench" } },
      spec: {
        interval: "10m",
        path: `./apps/${name}`,
        prune: true,
        wait: true,
        timeout: "5m",
        targetNamespace: name,
        sourceRef: { kind: "GitRepository", name },
      },
    },
    { manager: "bench" },
  );
  const revision = `main@sha1:${sha}`;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  sim.store.patch(
    type,
    FLUX_NS,
    name,
    "merge",
    {
      status: {
        observedGeneration: 1,
        conditions: [condition("True", "ReconciliationSucceeded", `Applied revision: ${revision}`)],
        lastAppliedRevision: revision,
        lastAttemptedRevision: revision,
        inventory: {
          entries: ["Deployment", "Service", "ConfigMap", "ServiceAccount"].map((kind) => ({
            id: `${name}_${name}_${kind === "Deployment" ? "apps" : ""}_${kind}`,
            v: "v1",
          })),
        },
        history: [
          {
            digest: `sha256:${randomBytes(32).toString("hex")}`,
            firstReconciled: now,
            lastReconciled: now,
            lastReconciledDuration: "1.2s",
            lastReconciledStatus: "ReconciliationSucceeded",
            totalReconciliations: 1,
            metadata: { revision },
          },
        ],
      },
    },
    { manager: "kustomize-controller", scope: "status" },
  );
}

async function registerCluster(p: Platform, name: string, sim: KubeSim) {
  return p.call<Cluster>("clusters.register", {
    organizationId: p.org.id,
    name,
    connection: { type: "kubeconfig", kubeconfig: sim.kubeconfig() },
  });
}

async function countResources(p: Platform, kind?: string): Promise<number> {
  const r = kind
    ? await p.db.query<{ n: string }>("select count(*) as n from gitops_resources where kind = $1", [kind])
    : await p.db.query<{ n: string }>("select count(*) as n from gitops_resources");
  return Number(r.rows[0]!.n);
}

/** A project with a connected repository on a real Git server (and the starter layout when asked). */
async function projectWithRepository(
  p: Platform,
  slug: string,
  defer: (fn: () => Promise<void>) => void,
  layout: boolean,
) {
  const git = await startGitServer({ token: TOKEN });
  defer(() => git.close());
  const url = await git.createRepo(slug);
  const project = await p.call<Project>("projects.create", {
    organizationId: p.org.id,
    name: slug,
    slug,
    visibility: "private",
  });
  const repo = await p.call<{ id: string }>("repositories.connect", {
    projectId: project.id,
    provider: "git",
    url,
    credential: { type: "token", token: TOKEN },
    registerWebhook: false,
  });
  if (layout) {
    await p.call("repositories.initializeLayout", {
      repositoryId: repo.id,
      image: "ghcr.io/bench/app:1.0.0",
      port: 8080,
    });
  }
  return { project, repositoryId: repo.id };
}

const gitops = (repositoryId: string, clusterId: string, extra: object = {}) => ({
  enabled: true,
  repositoryId,
  branch: "develop",
  path: "k8s/overlays/development",
  syncInterval: SYNC_INTERVAL,
  autoSync: true,
  clusterId,
  ...extra,
});

// ----- 1. status change in the cluster → live stream -----

export interface StatusResult {
  kustomizations: number;
  bound: number;
  /** environments.onChange (SSE) when the server has it; otherwise the environments.list query (polled). */
  via: "stream" | "query";
  /** Patch in the simulated API → the environment's event on the stream (null when measured by query). */
  eventMs: Stats | null;
  /** Patch → environments.list shows the new status (after the event: the refetch the UI does). */
  visibleMs: Stats;
  /** Watch start → all Kustomizations in gitops_resources. */
  initialListMs: number;
  /** environments.list of the project (BOUND environments) alone, on a quiet cluster: the UI's refetch. */
  listMs: Stats;
}

async function statusBench(bundle: string, defer: (fn: () => Promise<void>) => void): Promise<StatusResult> {
  console.log(
    `clusters 1/3: status change → live stream, ${KUSTOMIZATIONS} Kustomizations (${BOUND} bound to environments)`,
  );
  const p = await startPlatform(bundle, "status", defer);
  const sim = await startKubeSim({ crdEstablishDelayMs: 0 });
  defer(() => sim.close());
  // The simulated Flux install (CRDs and controllers, which the workload controller makes Ready) without the
  // Flux simulator: nothing reconciles the objects, so every status change is the bench's own.
  sim.installFlux(FLUX_VERSION);
  await applyFluxCrds(sim);
  for (let i = 0; i < KUSTOMIZATIONS - BOUND; i++) addKustomization(sim, `other-${String(i).padStart(4, "0")}`);
  const { project, repositoryId } = await projectWithRepository(p, "bench-status", defer, false);
  const t0 = performance.now();
  const cluster = await registerCluster(p, "bench-status", sim);
  await until(
    "Flux detected in the cluster",
    () => p.get<FluxStatus>("clusters.flux", { clusterId: cluster.id }),
    (f) => f.installed,
    30_000,
    200,
  );
  // BOUND environments bound through the API: the platform applies their Secret, GitRepository and Kustomization.
  for (let i = 0; i < BOUND; i++) {
    await p.call<Environment>("environments.create", {
      projectId: project.id,
      name: `env-${String(i).padStart(2, "0")}`,
      type: "testing",
      approvalRequired: false,
      gitops: gitops(repositoryId, cluster.id),
    });
  }
  const envs = await until(
    "environments' Flux objects applied",
    () => p.get<Environment[]>("environments.list", { projectId: project.id }),
    (list) => list.length === BOUND && list.every((e) => e.cluster?.gitopsState === "applied"),
    60_000,
    200,
  );
  await until(
    "all Kustomizations ingested",
    () => countResources(p, "Kustomization"),
    (n) => n >= KUSTOMIZATIONS,
    120_000,
  );
  const initialListMs = performance.now() - t0;
  console.log(
    `  ${KUSTOMIZATIONS} Kustomizations watched and ingested ${round(initialListMs / 1000, 2)} s after register`,
  );

  // The browser's live stream for the project.
  const seen = new Map<string, number>();
  let waiter: { environmentId: string; resolve: () => void } | null = null;
  const stream = await subscribe<{ environmentId: string }>(
    p,
    "environments.onChange",
    { projectId: project.id },
    (v) => {
      seen.set(v.environmentId, performance.now());
      if (waiter && waiter.environmentId === v.environmentId) waiter.resolve();
    },
  );
  if (stream) defer(async () => stream.close());
  else console.log("  no environments.onChange on this server: measuring up to the environments.list query instead");
  const ksType = sim.type(KS_API, "Kustomization");
  // Let the stream's first events (and the subscription itself) settle.
  await sleep(500);

  const eventMs: number[] = [];
  const visibleMs: number[] = [];
  for (let i = 0; i < STATUS_SAMPLES; i++) {
    const env = envs[i % envs.length]!;
    const fluxName = env.cluster!.fluxName;
    const message = `bench sample ${i}: ${randomBytes(4).toString("hex")}`;
    const ready = i % 2 === 0 ? "False" : "True";
    const arrived = stream
      ? new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no environment.changed for ${env.name} in 10 s`)), 10_000);
          waiter = {
            environmentId: env.id,
            resolve: () => {
              clearTimeout(timer);
              waiter = null;
              resolve();
            },
          };
        })
      : null;
    const t = performance.now();
    sim.store.patch(
      ksType,
      env.cluster!.fluxNamespace,
      fluxName,
      "merge",
      {
        status: {
          conditions: [
            condition(ready, ready === "True" ? "ReconciliationSucceeded" : "ReconciliationFailed", message),
          ],
        },
      },
      { manager: "kustomize-controller", scope: "status" },
    );
    if (arrived) {
      await arrived;
      eventMs.push(performance.now() - t);
    }
    // What the UI shows after the event (or, without a stream, as soon as a query reflects it).
    await until(
      `environment ${env.name} shows sample ${i}`,
      () => p.get<Environment[]>("environments.list", { projectId: project.id }),
      (list) => list.find((e) => e.id === env.id)?.flux?.message === message,
      10_000,
      stream ? 0 : 5,
    );
    visibleMs.push(performance.now() - t);
  }
  stream?.close();
  const listMs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await p.get<Environment[]>("environments.list", { projectId: project.id });
    listMs.push(performance.now() - t);
  }
  const r: StatusResult = {
    kustomizations: KUSTOMIZATIONS,
    bound: BOUND,
    via: stream ? "stream" : "query",
    eventMs: stream ? stats(eventMs) : null,
    visibleMs: stats(visibleMs),
    initialListMs: round(initialListMs),
    listMs: stats(listMs),
  };
  console.log(`  ${JSON.stringify(r)}`);
  return r;
}

// ----- 2. informer memory -----

export interface MemoryResult {
  clusters: number;
  objects: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  rssPeakMb: number;
  deltaMb: number;
  peakDeltaMb: number;
  /** First register → every object in gitops_resources. */
  ingestMs: number;
}

async function memoryBench(bundle: string, defer: (fn: () => Promise<void>) => void): Promise<MemoryResult> {
  const total = MEM_CLUSTERS * MEM_OBJECTS_PER_CLUSTER;
  console.log(`clusters 2/3: informer memory, ${total} Flux objects across ${MEM_CLUSTERS} simulated clusters`);
  const sims: KubeSim[] = [];
  for (let c = 0; c < MEM_CLUSTERS; c++) {
    const sim = await startKubeSim({ crdEstablishDelayMs: 0, workloads: false });
    defer(() => sim.close());
    await applyFluxCrds(sim);
    for (let i = 0; i < MEM_OBJECTS_PER_CLUSTER / 2; i++) {
      const name = `app-${String(i).padStart(4, "0")}`;
      addGitRepository(sim, name);
      addKustomization(sim, name);
    }
    sims.push(sim);
  }
  const p = await startPlatform(bundle, "memory", defer);
  // Settle after start (as the idle figure of the main bench does).
  await sleep(3_000);
  const before = rssMb(p.pid);
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(p.pid));
  }, 100);
  defer(async () => clearInterval(sampler));
  const t0 = performance.now();
  for (const [i, sim] of sims.entries()) await registerCluster(p, `bench-mem-${i}`, sim);
  await until(
    "all Flux objects ingested",
    () => countResources(p),
    (n) => n >= total,
    240_000,
    250,
  );
  const ingestMs = performance.now() - t0;
  // Quiet: the count stays put and the server has had a moment to collect garbage.
  await sleep(QUIET_MS);
  clearInterval(sampler);
  const after = rssMb(p.pid);
  peak = Math.max(peak, after);
  const r: MemoryResult = {
    clusters: MEM_CLUSTERS,
    objects: total,
    rssBeforeMb: round(before),
    rssAfterMb: round(after),
    rssPeakMb: round(peak),
    deltaMb: round(after - before),
    peakDeltaMb: round(peak - before),
    ingestMs: round(ingestMs),
  };
  console.log(`  ${JSON.stringify(r)}`);
  return r;
}

// ----- 3. deploy from the form → healthy -----

interface Legs {
  commit: number;
  fetch: number;
  apply: number;
  healthy: number;
  total: number;
  /** Request sent → healthy seen on the deployment's live stream. */
  seen: number;
}

export interface RolloutResult {
  syncInterval: string;
  stepDelayMs: number;
  /** p50 per leg, plain deploys (Flux fetches on its interval). */
  plain: Record<keyof Legs, Stats>;
  /** p50 per leg when a sync with source is asked right after the commit (the bench asks, as the platform could). */
  withSync: Record<keyof Legs, Stats>;
}

async function rolloutBench(bundle: string, defer: (fn: () => Promise<void>) => void): Promise<RolloutResult> {
  console.log(
    `clusters 3/3: deploy from the form → healthy, ${DEPLOYS} + ${DEPLOYS_WITH_SYNC} deploys (interval ${SYNC_INTERVAL}, Flux simulator step delay ${FLUX_STEP_DELAY_MS} ms)`,
  );
  const [p, sim, mirror] = await Promise.all([
    startPlatform(bundle, "rollout", defer),
    startKubeSim({ flux: { stepDelayMs: FLUX_STEP_DELAY_MS } }),
    serveFluxReleases(),
  ]);
  defer(() => sim.close());
  defer(() => mirror.close());
  const { project, repositoryId } = await projectWithRepository(p, "bench-flux", defer, true);
  const cluster = await registerCluster(p, "bench-flux", sim);
  await p.call("clusters.update", { clusterId: cluster.id, fluxMirrorUrl: mirror.urlTemplate });
  const installStart = performance.now();
  await p.call("clusters.installFlux", { clusterId: cluster.id, source: "mirror", version: FLUX_VERSION });
  const flux = await until(
    "Flux installed from the mirror",
    () => p.get<FluxStatus>("clusters.flux", { clusterId: cluster.id }),
    (f) => ["succeeded", "failed"].includes(f.operations[0]?.status ?? ""),
    120_000,
    200,
  );
  if (flux.operations[0]?.status !== "succeeded") {
    throw new Error(`Flux install failed: ${flux.operations[0]?.error ?? "no error given"}`);
  }
  console.log(
    `  Flux ${FLUX_VERSION} installed from the mirror in ${round((performance.now() - installStart) / 1000, 2)} s`,
  );
  const env = await p.call<Environment>("environments.create", {
    projectId: project.id,
    name: "development",
    type: "development",
    approvalRequired: false,
    gitops: gitops(repositoryId, cluster.id, { timeout: "1m" }),
  });
  await until(
    "environment's Flux objects applied",
    () => p.get<Environment[]>("environments.list", { projectId: project.id }),
    (list) => list.find((e) => e.id === env.id)?.cluster?.gitopsState === "applied",
    60_000,
    200,
  );

  // The project's deployments, live, as the deployment page gets them.
  const DONE = new Set(["healthy", "failed", "superseded"]);
  const status = new Map<string, string>();
  const waiters = new Map<string, (s: string) => void>();
  const stream = await subscribe<{ deploymentId: string; status: string }>(
    p,
    "deployments.onChange",
    { projectId: project.id },
    (v) => {
      status.set(v.deploymentId, v.status);
      waiters.get(`${v.deploymentId}:${v.status}`)?.(v.status);
      if (DONE.has(v.status)) waiters.get(`${v.deploymentId}:done`)?.(v.status);
    },
  );
  if (!stream) throw new Error("deployments.onChange is not served");
  defer(async () => stream.close());
  const reach = (id: string, what: string, ms: number) => {
    const known = status.get(id);
    if (known && (known === what || (what === "done" && DONE.has(known)))) return Promise.resolve(known);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`deployment ${id}: not ${what} after ${ms} ms (${status.get(id) ?? "unseen"})`)),
        ms,
      );
      waiters.set(`${id}:${what}`, (s) => {
        clearTimeout(timer);
        waiters.delete(`${id}:${what}`);
        resolve(s);
      });
    });
  };

  const deploy = async (replicas: number, syncAfterCommit: boolean): Promise<Legs> => {
    const t0 = performance.now();
    const d = await p.call<DeploymentDetail>("deployments.request", {
      environmentId: env.id,
      spec: { replicas },
      message: `bench: replicas ${replicas}`,
    });
    const done = reach(d.id, "done", 90_000);
    if (syncAfterCommit) {
      await reach(d.id, "committed", 30_000);
      await p.call("environments.fluxAction", { environmentId: env.id, action: "sync_with_source" });
    }
    const final = await done;
    const seen = performance.now() - t0;
    const x = await p.get<DeploymentDetail>("deployments.get", { deploymentId: d.id });
    if (final !== "healthy" || x.status !== "healthy" || !x.rollout) {
      throw new Error(`deployment ${d.id} is ${x.status}: ${x.error ?? x.rollout?.message ?? "no error given"}`);
    }
    const r = x.rollout;
    const at = (v: string | null, name: string) => {
      if (!v) throw new Error(`deployment ${d.id} is healthy without ${name}`);
      return Date.parse(v);
    };
    const created = Date.parse(x.createdAt);
    const committed = at(r.committedAt, "committedAt");
    const fetched = at(r.fetchedAt, "fetchedAt");
    const applied = at(r.appliedAt, "appliedAt");
    const healthy = at(r.healthyAt, "healthyAt");
    return {
      commit: committed - created,
      fetch: fetched - committed,
      apply: applied - fetched,
      healthy: healthy - applied,
      total: healthy - created,
      seen,
    };
  };
  const collect = async (n: number, first: number, sync: boolean) => {
    const legs: Record<keyof Legs, number[]> = { commit: [], fetch: [], apply: [], healthy: [], total: [], seen: [] };
    for (let i = 0; i < n; i++) {
      const l = await deploy(first + i, sync);
      for (const k of Object.keys(legs) as (keyof Legs)[]) legs[k].push(l[k]);
      console.log(`  deploy ${i + 1}/${n}${sync ? " (sync with source after commit)" : ""}: ${JSON.stringify(l)}`);
    }
    return Object.fromEntries(Object.entries(legs).map(([k, v]) => [k, stats(v)])) as Record<keyof Legs, Stats>;
  };
  // Warm-up, not measured: the first deploy creates the branch and the server's cached clone. Replicas 2, 3, …
  // (the starter layout has 1): every deploy changes something.
  await deploy(2, false);
  const plain = await collect(DEPLOYS, 3, false);
  const withSync = await collect(DEPLOYS_WITH_SYNC, 3 + DEPLOYS, true);
  stream.close();
  return { syncInterval: SYNC_INTERVAL, stepDelayMs: FLUX_STEP_DELAY_MS, plain, withSync };
}

// ----- all three -----

export interface ClustersResult {
  status: StatusResult | null;
  memory: MemoryResult | null;
  rollout: RolloutResult | null;
  wallMs: number;
}

/** BENCH_CLUSTERS=status,memory,rollout (default: all three) runs only the parts named. */
const PARTS = new Set((process.env.BENCH_CLUSTERS ?? "status,memory,rollout").split(",").map((s) => s.trim()));
for (const name of PARTS) {
  if (!["status", "memory", "rollout"].includes(name)) {
    throw new Error(`BENCH_CLUSTERS: unknown part '${name}' (known: status, memory, rollout)`);
  }
}

export async function clustersBench(bundle: string, defer: (fn: () => Promise<void>) => void): Promise<ClustersResult> {
  const t0 = performance.now();
  // Each part undoes its own servers, simulators and temporary directories when it ends (in reverse order),
  // and `defer` still gets them for errors and Ctrl-C.
  const part = async <T>(fn: (d: (f: () => Promise<void>) => void) => Promise<T>): Promise<T> => {
    const started = performance.now();
    const own: (() => Promise<void>)[] = [];
    let pending = true;
    defer(async () => {
      if (pending) for (const f of own.splice(0).reverse()) await f().catch(() => {});
    });
    try {
      return await fn((f) => own.push(f));
    } finally {
      for (const f of own.splice(0).reverse()) await f().catch(() => {});
      pending = false;
      console.log(`  (part took ${round((performance.now() - started) / 1000, 1)} s)`);
    }
  };
  const status = PARTS.has("status") ? await part(statusBench.bind(null, bundle)) : null;
  const memory = PARTS.has("memory") ? await part(memoryBench.bind(null, bundle)) : null;
  const rollout = PARTS.has("rollout") ? await part(rolloutBench.bind(null, bundle)) : null;
  return { status, memory, rollout, wallMs: round(performance.now() - t0) };
}

function statusRows(s: StatusResult): Row[] {
  const headline: Row =
    s.via === "stream" && s.eventMs
      ? {
          metric: `cluster status change → environments.onChange event on the live stream p50/p95/max (N=${s.eventMs.n}, ${s.kustomizations} Kustomizations watched, ${s.bound} bound)`,
          measured: `${s.eventMs.p50} / ${s.eventMs.p95} / ${s.eventMs.max} ms`,
          target: "p95 ≤ 200 ms",
          ratio: s.eventMs.p95 / CLUSTERS_TARGET.statusP95Ms,
        }
      : {
          metric: `cluster status change → environments.list shows it (NO live stream for environments on this server: query polled every 5 ms) p50/p95/max (N=${s.visibleMs.n}, ${s.kustomizations} Kustomizations watched)`,
          measured: `${s.visibleMs.p50} / ${s.visibleMs.p95} / ${s.visibleMs.max} ms`,
          target: "p95 ≤ 200 ms",
          ratio: s.visibleMs.p95 / CLUSTERS_TARGET.statusP95Ms,
        };
  return [
    headline,
    ...(s.via === "stream"
      ? [
          {
            metric: "  status change → the UI's refetch (environments.list) after the event shows it, p50/p95/max",
            measured: `${s.visibleMs.p50} / ${s.visibleMs.p95} / ${s.visibleMs.max} ms`,
          },
        ]
      : []),
    {
      metric: `  environments.list alone (${s.bound} environments, quiet), p50/p95 (N=${s.listMs.n})`,
      measured: `${s.listMs.p50} / ${s.listMs.p95} ms`,
    },
    {
      metric: `  register → ${s.kustomizations} Kustomizations listed and in gitops_resources`,
      measured: `${round(s.initialListMs / 1000, 2)} s`,
    },
  ];
}

function memoryRows(m: MemoryResult): Row[] {
  return [
    {
      metric: `informer memory: server RSS growth, ${m.objects} Flux objects across ${m.clusters} simulated clusters (${m.rssBeforeMb} → ${m.rssAfterMb} MB, ${QUIET_MS / 1000} s after ingest)`,
      measured: `+${m.deltaMb} MB`,
      target: "≤ +150 MB",
      ratio: m.deltaMb / CLUSTERS_TARGET.informerMb,
    },
    { metric: "  peak RSS growth while ingesting", measured: `+${m.peakDeltaMb} MB` },
    {
      metric: `  first register → all ${m.objects} objects in gitops_resources`,
      measured: `${round(m.ingestMs / 1000, 2)} s`,
    },
  ];
}

function rolloutRows(ro: RolloutResult): Row[] {
  const legs = (l: RolloutResult["plain"]) => `${l.commit.p50} / ${l.fetch.p50} / ${l.apply.p50} / ${l.healthy.p50} ms`;
  return [
    {
      metric: `deploy from the form → healthy on the simulated cluster, p50/p95 (N=${ro.plain.total.n}, GitRepository interval ${ro.syncInterval}, Flux sim step ${ro.stepDelayMs} ms)`,
      measured: `${round(ro.plain.total.p50 / 1000, 2)} / ${round(ro.plain.total.p95 / 1000, 2)} s`,
    },
    {
      metric:
        "  its legs, p50: commit / fetch (waits for the source interval) / apply / healthy (wait: true — Flux reports the applied revision with Ready=True after its health checks, so apply includes the health wait)",
      measured: legs(ro.plain),
    },
    {
      metric: "  request → healthy seen on deployments.onChange, p50",
      measured: `${round(ro.plain.seen.p50 / 1000, 2)} s`,
    },
    {
      metric: `deploy → healthy when a sync with source is asked right after the commit (bench asks; N=${ro.withSync.total.n}) p50/p95`,
      measured: `${round(ro.withSync.total.p50 / 1000, 2)} / ${round(ro.withSync.total.p95 / 1000, 2)} s`,
    },
    { metric: "  its legs, p50: commit / fetch / apply / healthy", measured: legs(ro.withSync) },
  ];
}

export function clustersRows(r: ClustersResult): Row[] {
  return [
    ...(r.status ? statusRows(r.status) : []),
    ...(r.memory ? memoryRows(r.memory) : []),
    ...(r.rollout ? rolloutRows(r.rollout) : []),
    { metric: "clusters benchmark wall time", measured: `${round(r.wallMs / 1000, 1)} s` },
  ];
}
