// `npm run bench`: cold start, idle memory, API latency and deployments (bench/deploy.ts) of the built server,
// printed against targets.
// Figures only: a missed target never fails the run; exit code 1 means the bench itself broke.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { AuditEntry, Me, Organization } from "@juanie/contracts";
import pg from "pg";
import { CLUSTERS_TARGET, clustersBench, clustersRows } from "./clusters.ts";
import { CRASH_TARGET, crashBench, crashRows, crashSummary } from "./crash.ts";
import { DEPLOY_TARGET, deployBench, deployRows, type PreviewStats, previewBench } from "./deploy.ts";
import { type Input, mutation, percentile, queryUrl, request, trpcData } from "./http.ts";
import { rareAction, seed } from "./seed.ts";
import {
  descendants,
  embeddedDatabaseUrl,
  freePort,
  rssMb,
  type ServerOptions,
  startServer,
  stopAll,
} from "./server.ts";
import { printTable, type Row, round } from "./table.ts";

const COLD_RUNS = 5;
const IDLE_MS = 5_000;
const PROJECTS = 1_000;
const AUDIT_ROWS = 100_000;
const WARMUP = 20;
const REQUESTS = 300;
/** Per scenario; a scenario that runs out of time reports the requests it made. */
const SCENARIO_BUDGET_MS = 60_000;
const TARGET = { coldStartMs: 3_000, idleRssMb: 150, p95Ms: 20 };
/**
 * `npm run bench -- --only=deploy`: just the deployment benchmark (no seeding, cold starts or API latency);
 * `--only=crash`: just the crash-recovery benchmark (its own server, data dir and embedded PostgreSQL);
 * `--only=clusters`: just the cluster benchmarks (bench/clusters.ts: their own servers and simulated clusters).
 */
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
if (ONLY !== undefined && ONLY !== "deploy" && ONLY !== "crash" && ONLY !== "clusters") {
  throw new Error(`--only: unknown benchmark '${ONLY}' (known: deploy, crash, clusters)`);
}

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = path.join(root, "apps/server/dist/bin/main.js");

function newestMtime(dir: string, depth = 0): number {
  if (!existsSync(dir) || depth > 8) return 0;
  let latest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name === "dist") continue;
    const p = path.join(dir, e.name);
    latest = Math.max(latest, e.isDirectory() ? newestMtime(p, depth + 1) : statSync(p).mtimeMs);
  }
  return latest;
}

/** Builds the server bundle (not the web UI) when it is missing or older than its sources. */
function ensureBundle() {
  const sources = Math.max(...["packages", "apps/server/src"].map((d) => newestMtime(path.join(root, d))));
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sources) return;
  console.log("Building the server bundle (missing or older than its sources)…");
  const r = spawnSync("npm", ["run", "build", "-w", "@juanie/server"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) throw new Error("npm run build -w @juanie/server failed");
}

interface Latency {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

/** WARMUP then REQUESTS sequential GETs on one keep-alive connection; every response must be a full page. */
async function measure(url: string, cookie: string, agent: http.Agent, pageSize: number): Promise<Latency> {
  const get = async () => {
    const t0 = performance.now();
    const res = await request("GET", url, { headers: { cookie }, agent });
    const ms = performance.now() - t0;
    const page = trpcData<{ items: unknown[] }>(res, url);
    if (page.items.length !== pageSize) throw new Error(`${url}: ${page.items.length} items, expected ${pageSize}`);
    return ms;
  };
  for (let i = 0; i < WARMUP; i++) await get();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < REQUESTS && performance.now() - start < SCENARIO_BUDGET_MS) times.push(await get());
  times.sort((a, b) => a - b);
  return {
    n: times.length,
    p50: round(percentile(times, 50), 2),
    p95: round(percentile(times, 95), 2),
    p99: round(percentile(times, 99), 2),
  };
}

async function main() {
  ensureBundle();
  if (ONLY === "crash") {
    const crash = await crashBench(bundle);
    printTable(crashRows(crash));
    console.log(JSON.stringify({ bench: "juanie-crash", crash: crashSummary(crash), targets: CRASH_TARGET }));
    return;
  }
  if (ONLY === "clusters") {
    const clusters = await clustersBench(bundle, (fn) => cleanups.push(fn));
    printTable(clustersRows(clusters));
    console.log(JSON.stringify({ bench: "juanie-clusters", clusters, targets: CLUSTERS_TARGET }));
    return;
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), "juanie-bench-"));
  // As root, the embedded PostgreSQL runs as its own user, which must be able to enter the directory.
  await chmod(tmp, 0o755);
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));
  // With DATABASE_URL: a throw-away database on that server, never the one it names.
  let databaseUrl: string | undefined;
  if (process.env.DATABASE_URL) {
    const name = `juanie_bench_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    databaseUrl = u.href;
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    });
  }
  const opts: ServerOptions = {
    bundle,
    port: await freePort(),
    dataDir: path.join(tmp, "data"),
    pgPort: await freePort(),
    databaseUrl,
    logLevel: process.env.LOG_LEVEL ?? "info",
    // The deployment benchmark's Git server is a loopback http:// URL.
    env: { JUANIE_ALLOW_LOCAL_REPOSITORIES: "true" },
  };
  // The embedded server's generated password exists once the first start has initialised the data dir.
  const dbUrl = () => databaseUrl ?? embeddedDatabaseUrl(opts.dataDir, opts.pgPort);
  const pgLabel = databaseUrl ? "external PostgreSQL" : "embedded PostgreSQL";
  console.log(`Juanie bench: ${pgLabel}, LOG_LEVEL=${opts.logLevel}, data in ${tmp}`);

  // ----- first start: initialise the data dir, create the admin and organization, seed (not measured) -----
  cleanups.push(stopAll);
  let server = await startServer(opts, 180_000);
  console.log(`first start (initialises the data dir): ${round(server.readyMs / 1000, 2)} s`);
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
  const org = (await mutation<Organization>(base, "orgs.create", { name: "Bench Org", slug: "bench-org" }, cookie))
    .data;
  /** The dialog's preview once more, on the same data with render verification turned off. */
  const previewsWithoutVerification = async (environmentId: string): Promise<PreviewStats> => {
    const plain = await startServer({ ...opts, env: { ...opts.env, JUANIE_KUSTOMIZE: "none" } }, 60_000);
    try {
      return await previewBench(plain.baseUrl, cookie, environmentId, 30);
    } finally {
      await plain.stop();
    }
  };
  if (ONLY === "deploy") {
    const deploy = await deployBench(base, cookie, org.id, (fn) => cleanups.push(fn));
    await server.stop();
    const unverified = await previewsWithoutVerification(deploy.environmentId);
    printTable(deployRows(deploy, unverified));
    console.log(
      JSON.stringify({ bench: "juanie-deploy", postgres: databaseUrl ? "external" : "embedded", deploy, unverified }),
    );
    return;
  }
  const seedStart = performance.now();
  const db = new pg.Client({ connectionString: dbUrl() });
  await db.connect();
  try {
    await seed(db, org.id, setup.data.id, PROJECTS, AUDIT_ROWS);
  } finally {
    await db.end();
  }
  console.log(
    `seeded ${PROJECTS} projects and ${AUDIT_ROWS} audit rows in ${round((performance.now() - seedStart) / 1000, 2)} s`,
  );
  await server.stop();

  // ----- cold starts on the existing data dir; the last server stays up for the rest -----
  const coldMs: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    server = await startServer(opts, 60_000);
    coldMs.push(server.readyMs);
    console.log(`cold start ${i + 1}/${COLD_RUNS}: ${round(server.readyMs)} ms`);
    if (i < COLD_RUNS - 1) await server.stop();
  }
  coldMs.sort((a, b) => a - b);

  await sleep(IDLE_MS);
  const pgPids = descendants(server.pid);
  const idle = { serverMb: round(rssMb(server.pid)), postgresMb: round(pgPids.reduce((s, p) => s + rssMb(p), 0)) };
  console.log(`idle RSS after ${IDLE_MS / 1000} s: server ${idle.serverMb} MB, ${pgPids.length} postgres processes`);

  // ----- API latency over loopback with the admin's cookie -----
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = (procedure: string, input: Input) => queryUrl(base, procedure, input);
  const get = async <T>(procedure: string, input: Input) =>
    trpcData<T>(await request("GET", url(procedure, input), { headers: { cookie }, agent }), procedure);
  /** The cursor that opens page `n` (n ≥ 2). */
  const cursorFor = async (procedure: string, input: Input, n: number) => {
    let cursor: string | null = null;
    for (let i = 1; i < n; i++) {
      cursor = (await get<{ nextCursor: string | null }>(procedure, { ...input, cursor })).nextCursor;
      if (!cursor) throw new Error(`${procedure}: no page ${n}`);
    }
    return cursor;
  };
  const orgFilter = { organizationId: org.id, limit: 50 };
  const scenarios: [name: string, procedure: string, input: Input][] = [
    ["projects.list page 1 (org, limit 50)", "projects.list", orgFilter],
    [
      "projects.list page 3 (cursor)",
      "projects.list",
      { ...orgFilter, cursor: await cursorFor("projects.list", orgFilter, 3) },
    ],
    ["audit.list page 1 (org, limit 50)", "audit.list", orgFilter],
    [`audit.list action=${rareAction} (org)`, "audit.list", { ...orgFilter, action: rareAction }],
    [
      "audit.list page 5 (org, cursors)",
      "audit.list",
      { ...orgFilter, cursor: await cursorFor("audit.list", orgFilter, 5) },
    ],
    ["audit.list page 1 (all orgs, platform admin)", "audit.list", { limit: 50 }],
  ];
  // Sanity: the data is there and the org filter applies.
  const first = await get<{ items: AuditEntry[] }>("audit.list", orgFilter);
  if (first.items.some((e) => e.organizationId !== org.id)) throw new Error("audit.list ignored organizationId");

  const latency: Record<string, Latency> = {};
  for (const [name, procedure, input] of scenarios) {
    latency[name] = await measure(url(procedure, input), cookie, agent, 50);
    console.log(`${name}: ${JSON.stringify(latency[name])}`);
  }
  agent.destroy();
  const afterLoadMb = round(rssMb(server.pid));

  // ----- deployments: UI deploy → pushed commit, and concurrent deploys to one environment -----
  const deploy = await deployBench(base, cookie, org.id, (fn) => cleanups.push(fn));
  await server.stop();
  const unverified = await previewsWithoutVerification(deploy.environmentId);

  // ----- crash recovery: its own server and data dir, killed and restarted -----
  const crash = await crashBench(bundle);

  // ----- clusters: their own servers with simulated clusters (status → live stream, informer memory, rollouts) -----
  const clusters = await clustersBench(bundle, (fn) => cleanups.push(fn));

  // ----- report -----
  const coldMedian = percentile(coldMs, 50);
  const coldMax = coldMs[coldMs.length - 1]!;
  const rows: Row[] = [
    {
      metric: `cold start → /readyz 200, median of ${COLD_RUNS} (${pgLabel})`,
      measured: `${round(coldMedian / 1000, 2)} s`,
      target: "≤ 3 s",
      ratio: coldMedian / TARGET.coldStartMs,
    },
    {
      metric: `cold start, max of ${COLD_RUNS}`,
      measured: `${round(coldMax / 1000, 2)} s`,
      target: "≤ 3 s",
      ratio: coldMax / TARGET.coldStartMs,
    },
    {
      metric: `server RSS, idle ${IDLE_MS / 1000} s after start`,
      measured: `${idle.serverMb} MB`,
      target: "≤ 150 MB",
      ratio: idle.serverMb / TARGET.idleRssMb,
    },
    ...(databaseUrl
      ? []
      : [
          {
            metric: `embedded PostgreSQL RSS, sum of ${pgPids.length} processes (shared memory counted per process)`,
            measured: `${idle.postgresMb} MB`,
          },
        ]),
    { metric: "server RSS after the API benchmark", measured: `${afterLoadMb} MB` },
    ...Object.entries(latency).map(([name, l]) => ({
      metric: `${name} p50/p95/p99${l.n < REQUESTS ? ` (only ${l.n} requests in time budget)` : ""}`,
      measured: `${l.p50} / ${l.p95} / ${l.p99} ms`,
      target: "p95 ≤ 20 ms",
      ratio: l.p95 / TARGET.p95Ms,
    })),
    ...deployRows(deploy, unverified),
    ...crashRows(crash),
    ...clustersRows(clusters),
  ];
  printTable(rows);
  console.log(
    JSON.stringify({
      bench: "juanie",
      postgres: databaseUrl ? "external" : "embedded",
      logLevel: opts.logLevel,
      coldStartMs: { runs: coldMs.map((m) => round(m)), median: round(coldMedian), max: round(coldMax) },
      idleRssMb: idle,
      afterLoadRssMb: afterLoadMb,
      seed: { projects: PROJECTS, auditRows: AUDIT_ROWS },
      latencyMs: latency,
      deploy,
      crash: crashSummary(crash),
      clusters,
      targets: { ...TARGET, deploy: DEPLOY_TARGET, crash: CRASH_TARGET, clusters: CLUSTERS_TARGET },
    }),
  );
}

/** Undone in reverse order at the end, on error and on Ctrl-C. */
const cleanups: (() => Promise<void>)[] = [];
async function cleanup() {
  for (const fn of cleanups.splice(0).reverse()) {
    await fn().catch((err: unknown) => console.error("cleanup step failed:", err));
  }
}

let exiting = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    console.error(`\n${signal}: stopping the server and cleaning up…`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (err) {
  if (!exiting) console.error("bench failed:", err);
  process.exitCode = 1;
} finally {
  await cleanup();
}
