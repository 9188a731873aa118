// `npm run demo`: the whole GitOps loop on one machine, with no cluster of your own.
// Starts a local Git server holding a sample application repository, a simulated Kubernetes cluster
// with the Flux simulator (test tooling, clearly labelled as simulated), a Flux release mirror, and the
// real platform (built like `npm start`, embedded PostgreSQL under ./data/demo). Then it prepares, through
// the platform's own API, an administrator, an organization, a project with three environments, the
// cluster with Flux installed from the mirror, development and staging bound to it and a first deploy.
// Every run starts fresh (the previous demo's data is removed). Ctrl-C stops everything.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  DEFAULT_FLUX_VERSION,
  type FluxReleasesMirror,
  type KubeSim,
  serveFluxReleases,
  startKubeSim,
} from "@juanie/kube-sim";
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import type { AppRouter } from "../apps/server/src/trpc/router.ts";
import { type GitServer, startGitServer } from "../test/git-server.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
/** A path as the user types it: relative to where they are, unless it lies outside. */
const rel = (p: string) => {
  const r = path.relative(process.cwd(), p);
  return r.startsWith("..") ? p : r || ".";
};
const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
const say = (line = "") => process.stdout.write(`${line}\n`);
const step = (line: string) => say(`[demo ${seconds().padStart(5)} s] ${line}`);

/** The demo's data (embedded PostgreSQL, secret key, Git cache, kubeconfig, server log); removed at each start. */
const demoDir = path.resolve(process.env.JUANIE_DEMO_DIR ?? path.join(root, "data", "demo"));
const FLUX_VERSION = DEFAULT_FLUX_VERSION;
const IMAGE = "ghcr.io/juanie-demo/hello:1.0.0";
const ADMIN = { username: "admin", email: "admin@demo.juanie.dev", displayName: "Demo Admin" };

// ---------- build (as scripts/start.mjs does) ----------

function newest(dir: string): number {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const p = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return latest;
}

function buildIfStale(): void {
  const mtime = (p: string) => (existsSync(p) ? statSync(p).mtimeMs : 0);
  const sources = ["packages", "apps/server/src", "apps/web/src", "apps/web/index.html"].map((p) => path.join(root, p));
  const latest = Math.max(...sources.map((p) => (existsSync(p) && statSync(p).isFile() ? mtime(p) : newest(p))));
  const bundle = path.join(root, "apps/server/dist/bin/main.js");
  const web = path.join(root, "apps/web/dist/index.html");
  if (mtime(bundle) >= latest && mtime(web) >= latest) return;
  step("Building Juanie (first start or sources changed)…");
  const r = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`);
}

/** The kustomize the platform and the Flux simulator run: fetched once into .tools when the machine has none. */
function ensureKustomize(): string | null {
  const bundled = path.join(root, ".tools", "kubectl-v35", "kubectl");
  const onPath = (name: string) =>
    (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, name)));
  if (!existsSync(bundled) && !process.env.JUANIE_KUSTOMIZE && !onPath("kustomize") && !onPath("kubectl")) {
    spawnSync(process.execPath, [path.join(root, "scripts/fetch-kubectl.mjs"), "--quiet"], { stdio: "inherit" });
  }
  if (existsSync(bundled)) return bundled;
  return onPath("kubectl") ? "kubectl" : null;
}

// ---------- small helpers ----------

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `fn` until `ok` holds; throws `what` with the last value's summary after the deadline. */
async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${Math.round(ms / 1000)} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A tRPC client that keeps its session cookie and sends the platform's Origin, as the browser does. */
function apiClient(baseUrl: string): TRPCClient<AppRouter> {
  let cookie: string | null = null;
  const fetchWithCookie: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    if (cookie) headers.set("cookie", cookie);
    headers.set("origin", baseUrl);
    const res = await fetch(input, { ...init, headers });
    const set = res.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0] ?? null;
    return res;
  };
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/trpc`, fetch: fetchWithCookie })] });
}

// ---------- the running pieces, stopped in reverse order ----------

let git: GitServer | undefined;
let sim: KubeSim | undefined;
let mirror: FluxReleasesMirror | undefined;
let server: ChildProcess | undefined;
let stopping: Promise<void> | undefined;

async function stopServer(): Promise<void> {
  const child = server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
}

function stopAll(code: number): Promise<void> {
  stopping ??= (async () => {
    say();
    step("Stopping: platform (and its embedded PostgreSQL), simulated cluster, Flux mirror, Git server…");
    await stopServer();
    await Promise.allSettled([sim, mirror, git].map(async (x) => x?.close()));
    step(`Stopped. The demo's data stays in ${rel(demoDir)} until the next npm run demo.`);
    process.exit(code);
  })();
  return stopping;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stopAll(0));
// Whatever ends this script, the platform (in its own process group) does not outlive it.
process.on("exit", () => {
  if (server && server.exitCode === null && server.signalCode === null) server.kill("SIGTERM");
});

/**
 * A PostgreSQL that a demo killed without its Ctrl-C left running on the demo's data dir: stopped (it is the
 * demo's own, named by the data dir's postmaster.pid and running on it) before the data dir is removed.
 */
async function stopLeftoverPostgres(): Promise<void> {
  const pidFile = path.join(demoDir, "postgres", "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  const cmdline = (() => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      return "";
    }
  })();
  if (!Number.isInteger(pid) || pid <= 0 || !cmdline.includes(path.join(demoDir, "postgres"))) return;
  step(`A previous demo's PostgreSQL (pid ${pid}) still runs on ${rel(demoDir)}: stopping it.`);
  process.kill(pid, "SIGINT");
  await until(
    "the previous demo's PostgreSQL to stop",
    async () => existsSync(`/proc/${pid}`),
    (alive) => !alive,
    30_000,
  );
}

// ---------- the demo ----------

async function main(): Promise<void> {
  say("Juanie demo: the platform, a simulated Kubernetes cluster with simulated Flux, and a local Git server.");
  await stopLeftoverPostgres();
  if (existsSync(demoDir)) {
    await rm(demoDir, { recursive: true, force: true });
    step(`Removed the previous demo's data (${rel(demoDir)}): every demo starts fresh.`);
  }
  await mkdir(demoDir, { recursive: true });
  buildIfStale();
  const kustomize = ensureKustomize();
  const kubectl = kustomize && path.basename(kustomize) === "kubectl" ? kustomize : "kubectl";

  // 1–2. Git server, simulated cluster with the Flux simulator (Flux not installed yet), release mirror.
  const token = `demo-${randomBytes(12).toString("hex")}`;
  [git, sim, mirror] = await Promise.all([
    startGitServer({ token }),
    startKubeSim({ flux: { ...(kustomize ? { kustomize } : {}) } }),
    serveFluxReleases(),
  ]);
  const kubeconfigPath = await sim.writeKubeconfig(path.join(demoDir, "kubeconfig.yaml"), { context: "demo-cluster" });
  step(`Local Git server at ${git.url}; simulated cluster at ${sim.url}; Flux release mirror at ${mirror.url}`);

  // 3. The platform (the built server, as npm start runs it).
  const requested = Number(process.env.PORT ?? 3000);
  const port = (await portFree(requested)) ? requested : await freePort();
  const url = `http://localhost:${port}`;
  const logPath = path.join(demoDir, "server.log");
  const log = createWriteStream(logPath);
  const watchParent = path.join(root, "scripts/demo-parent-watch.mjs");
  server = spawn(
    process.execPath,
    ["--import", pathToFileURL(watchParent).href, path.join(root, "apps/server/dist/bin/main.js")],
    {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        // Always the embedded PostgreSQL in the demo's own data dir, never a database from the environment.
        DATABASE_URL: "",
        JUANIE_DATA_DIR: demoDir,
        JUANIE_PUBLIC_URL: url,
        JUANIE_ALLOW_LOCAL_REPOSITORIES: "true",
        JUANIE_SCHEDULER_INTERVAL_MS: "2000",
        JUANIE_CLUSTER_CHECK_INTERVAL_MS: "5000",
        ...(kustomize && !process.env.JUANIE_KUSTOMIZE ? { JUANIE_KUSTOMIZE: kustomize } : {}),
        LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
      },
      // stdin: a pipe that closes when this script ends, however it ends (see demo-parent-watch.mjs).
      stdio: ["pipe", "pipe", "pipe"],
      // Its own process group: a terminal's Ctrl-C reaches this script only, which then stops the platform in
      // order (HTTP and job worker first, its embedded PostgreSQL last) instead of PostgreSQL dying under it.
      detached: true,
    },
  );
  server.stdout?.pipe(log);
  server.stderr?.pipe(log);
  server.once("exit", (code, signal) => {
    if (stopping) return;
    step(`The platform stopped unexpectedly (${signal ?? `exit ${code}`}); the end of its log (${rel(logPath)}):`);
    log.end(() => {
      const tail = readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-15);
      for (const line of tail) say(`    ${line}`);
      void stopAll(1);
    });
  });
  await until(
    "the platform's /readyz",
    () =>
      fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    (ok) => ok,
    60_000,
  );
  step(`Platform ready at ${url} (embedded PostgreSQL in ${rel(path.join(demoDir, "postgres"))})`);

  // 4. Everything else through the platform's API, as a user would.
  const api = apiClient(url);
  const password = `demo-${randomBytes(8).toString("hex")}`;
  await api.auth.setup.mutate({ ...ADMIN, password });
  const org = await api.orgs.create.mutate({ name: "Demo", slug: "demo" });
  const project = await api.projects.create.mutate({
    organizationId: org.id,
    name: "Hello",
    slug: "hello",
    visibility: "private",
  });
  const repoUrl = await git.createRepo("hello");
  const repo = await api.repositories.connect.mutate({
    projectId: project.id,
    provider: "git",
    url: repoUrl,
    credential: { type: "token", token },
    registerWebhook: false,
  });
  await api.repositories.initializeLayout.mutate({ repositoryId: repo.id, image: IMAGE, port: 8080 });
  await api.environments.createSuggested.mutate({ projectId: project.id, repositoryId: repo.id });
  step("Administrator, organization Demo, project Hello (repository with the starter layout), three environments");

  const cluster = await api.clusters.register.mutate({
    organizationId: org.id,
    name: "demo-cluster",
    description: "Simulated cluster started by npm run demo (Kubernetes API simulator, not a real cluster)",
    connection: { type: "kubeconfig", kubeconfig: sim.kubeconfig({ context: "demo-cluster" }) },
  });
  await api.clusters.update.mutate({ clusterId: cluster.id, fluxMirrorUrl: mirror.urlTemplate });
  await api.clusters.installFlux.mutate({ clusterId: cluster.id, source: "mirror", version: FLUX_VERSION });
  step(`Cluster demo-cluster registered (simulated); installing Flux v${FLUX_VERSION} from the mirror…`);
  const seen = new Set<string>();
  const flux = await until(
    "Flux install",
    async () => {
      const f = await api.clusters.flux.query({ clusterId: cluster.id });
      for (const p of f.operations[0]?.progress ?? []) {
        if (!seen.has(p.phase)) {
          seen.add(p.phase);
          step(`  flux install: ${p.phase}${p.message ? ` — ${p.message}` : ""}`);
        }
      }
      return f;
    },
    (f) => ["succeeded", "failed"].includes(f.operations[0]?.status ?? ""),
    180_000,
  );
  if (flux.operations[0]?.status !== "succeeded") {
    throw new Error(`Flux install failed: ${flux.operations[0]?.error ?? "no reason given"}`);
  }
  step(`Flux ${flux.version} installed; controllers Ready`);

  // Bind development and staging to the cluster, with short intervals so that changes show quickly.
  const intervals: Record<string, string> = { development: "10s", staging: "30s" };
  const envs = await api.environments.list.query({ projectId: project.id });
  for (const e of envs.filter((x) => x.name in intervals)) {
    await api.environments.update.mutate({
      environmentId: e.id,
      name: e.name,
      type: e.type,
      cloudProvider: null,
      region: null,
      approvalRequired: e.approvalRequired,
      minApprovals: e.minApprovals,
      gitops: { ...e.gitops, clusterId: cluster.id, syncInterval: intervals[e.name]!, timeout: "1m" },
    });
  }
  const bound = await until(
    "binding development and staging",
    () => api.environments.list.query({ projectId: project.id }),
    (list) => list.filter((e) => e.name in intervals).every((e) => e.cluster && e.cluster.gitopsState !== "applying"),
    60_000,
  );
  for (const e of bound.filter((x) => x.name in intervals)) {
    if (e.cluster?.gitopsState !== "applied") {
      throw new Error(`binding ${e.name} failed: ${e.cluster?.gitopsError ?? e.cluster?.gitopsState}`);
    }
    step(`${e.name} bound to demo-cluster, namespace ${e.cluster.namespace} (GitRepository + Kustomization applied)`);
  }

  // A first deploy on each bound environment, so that something is healthy.
  const first = await Promise.all(
    bound
      .filter((e) => e.name in intervals)
      .map(async (e) => ({
        env: e.name,
        d: await api.deployments.request.mutate({
          environmentId: e.id,
          spec: { replicas: e.name === "development" ? 2 : 1 },
        }),
      })),
  );
  step("First deploys requested (development: 2 replicas, staging: 1); waiting for healthy…");
  // Flux found no branch when the environments were bound: once each deploy's commit landed, ask for a sync with
  // its source (the "Sync with source" button) rather than wait for the next interval.
  await Promise.all(
    first.map(async ({ env, d }) => {
      const committed = await until(
        `the first deploy's commit on ${env}`,
        () => api.deployments.get.query({ deploymentId: d.id }),
        (x) => !!x.commitSha || ["failed", "rejected", "cancelled"].includes(x.status),
        60_000,
      );
      const envId = bound.find((e) => e.name === env)!.id;
      if (committed.commitSha)
        await api.environments.fluxAction.mutate({ environmentId: envId, action: "sync_with_source" });
    }),
  );
  for (const { env, d } of first) {
    const done = await until(
      `the first deploy on ${env}`,
      () => api.deployments.get.query({ deploymentId: d.id }),
      (x) => ["healthy", "failed", "superseded", "rejected", "cancelled"].includes(x.status),
      120_000,
    ).catch((err: Error) => ({ status: "timeout", error: err.message }) as const);
    if (done.status === "healthy") step(`  ${env}: healthy`);
    else step(`  ${env}: ${done.status}${"error" in done && done.error ? ` — ${done.error}` : ""} (the demo goes on)`);
  }

  // 5. What to try.
  const cloneUrl = new URL(`${git.url}/hello.git`);
  cloneUrl.username = "demo";
  cloneUrl.password = token;
  const bundledKubectl = kubectl.startsWith(root) ? rel(kubectl) : kubectl;
  const projectUrl = `${url}/orgs/demo/projects/hello`;
  say();
  say("========================================================================");
  say(`  Juanie demo is ready (in ${seconds()} s)`);
  say();
  say(`  Open:     ${url}`);
  say(`  Sign in:  ${ADMIN.username} / ${password}`);
  say();
  say(`  Project:  ${projectUrl}/environments`);
  say(`  Cluster:  demo-cluster — SIMULATED (Kubernetes API simulator with simulated Flux ${flux.version}),`);
  say("            labelled as simulated in the platform; not a real cluster");
  say(`  kubectl:  ${bundledKubectl} --kubeconfig ${rel(kubeconfigPath)} get pods -A`);
  say(`  Git:      git clone --branch develop ${cloneUrl.href}`);
  say("            (a local Git server with a demo-only token; it lives as long as the demo)");
  say();
  say("  Things to try:");
  say("   1. Environments → development → Deploy: change the image tag or replicas and watch the four steps");
  say("      Git commit → Flux fetched → applied → healthy (development syncs every 10 s, staging every 30 s).");
  say("   2. Push by hand: in the clone, edit k8s/overlays/development/kustomization.yaml, then");
  say("      git commit -am 'my change' && git push — it shows up as a gitops-git deployment and goes healthy.");
  say("   3. Sync now, suspend and resume on an environment bound to the cluster.");
  say("   4. Production is not bound to the cluster. Its approvals follow who can give them: with only this account");
  say("      there is nobody to approve, so they start off — invite a colleague (Members), then require approvals.");
  say(`   5. Image with "does-not-exist" in its name: the pods cannot start and the deploy fails with Flux's message.`);
  say("   6. Settings → Clusters: demo-cluster, its Flux components and versions.");
  say(
    `   7. Look in the cluster: ${bundledKubectl} --kubeconfig ${rel(kubeconfigPath)} get kustomizations,gitrepositories -A`,
  );
  say();
  say(`  Platform log: ${rel(logPath)}. Data: ${rel(demoDir)} (removed at the next npm run demo).`);
  say("  Ctrl-C stops everything (platform, embedded PostgreSQL, simulated cluster, Git server).");
  say("========================================================================");
}

main().catch((err: unknown) => {
  if (stopping) return;
  step(`The demo could not start: ${err instanceof Error ? err.message : String(err)}`);
  void stopAll(1);
});
