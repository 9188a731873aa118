// The crash scenario of issue 8 (parts 4 and 5), shared by the crash test (test/e2e/crash.e2e.test.ts) and
// `npm run bench -- --only=crash`: the built server runs as a child process on its embedded PostgreSQL and is
// SIGKILLed at several points of a deploy, then started again on the same data dir, cycle after cycle.
// Everything is checked on the real Git repository's history and the server's own database.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm, stat } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { type GitServer, type PushDecision, startGitServer } from "./git-server.ts";

/** Where the server is killed. `twice`: killed during two pushes of the same deployment (→ failed). */
export const KILL_POINTS = ["after-request", "during-commit", "during-push", "after-push", "twice"] as const;
export type KillPoint = (typeof KILL_POINTS)[number];

const TOKEN = "crash-git-token";
const REPO = "crash";
const BRANCH = "develop";
const TRAILER = "Juanie-Deployment";
const SETTLED = new Set(["committed", "failed", "cancelled", "rejected", "expired", "succeeded", "rolled_back"]);
/** Every deployment must settle within this long after the server is ready again. */
export const SETTLE_LIMIT_MS = 60_000;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export interface CycleResult {
  point: KillPoint;
  deploymentId: string;
  /** How many times the server was killed in this cycle. */
  kills: number;
  /** The embedded PostgreSQL was still running after the kill (and the restart had to deal with it). */
  leftoverPostgres: boolean;
  /** Kill → /readyz answers 200 again. */
  restartMs: number;
  /** Kill → every deployment so far settled (the last kill of the cycle). */
  recoveryMs: number;
  status: string;
}

export interface CrashResult {
  cycles: CycleResult[];
  kills: number;
  deployments: number;
  committed: number;
  failed: number;
  /** Failed ones whose error names the double interruption. */
  failedTwice: number;
  /** Not settled within SETTLE_LIMIT_MS after the restart. */
  unsettled: string[];
  /** Committed but its commit is not the one on the branch; or failed but a commit of it is on the branch. */
  lost: string[];
  /** More than one commit on the branch for one deployment. */
  duplicated: string[];
  /** Commits on the branch carrying a trailer of one of the deployments. */
  trailerCommits: number;
  /** A deploy after the last cycle: request → committed (the repository's queue is not blocked). */
  finalDeployMs: number;
  /** graphile-worker rows still locked (jobs, queues) after everything settled. */
  lockedJobs: number;
  lockedQueues: number;
  /** The generated password file's mode (expected 0o600). */
  passwordFileMode: number;
  /** A login with the old fixed password was refused (28P01). */
  fixedPasswordRefused: boolean;
  /** The server's warnings about the PostgreSQL it found still running. */
  leftoverWarnings: number;
  recoveryMs: { p50: number; max: number };
  wallMs: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

class ServerProcess {
  private child: ChildProcess | null = null;
  readonly output: string[] = [];
  /** Start-ups that found the PostgreSQL a killed server left running (counted as the servers say it). */
  leftoverWarnings = 0;

  constructor(
    private readonly bundle: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly baseUrl: string,
  ) {}

  async start(timeoutMs = 60_000): Promise<void> {
    const child = spawn(process.execPath, [this.bundle], { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    // JUANIE_CRASH_SERVER_LOG=<file>: everything the servers print, for looking into a failed run.
    if (process.env.JUANIE_CRASH_SERVER_LOG) {
      const file = createWriteStream(process.env.JUANIE_CRASH_SERVER_LOG, { flags: "a" });
      child.stdout?.pipe(file);
      child.stderr?.pipe(file);
    }
    const keep = (d: Buffer) => {
      this.leftoverWarnings += (d.toString().match(/is still running on/g) ?? []).length;
      this.output.push(d.toString());
      if (this.output.length > 2000) this.output.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the server exited while starting (${child.exitCode ?? child.signalCode}):\n${this.tail()}`);
      }
      const ok = await fetch(`${this.baseUrl}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`the server was not ready within ${timeoutMs} ms:\n${this.tail()}`);
      await sleep(25);
    }
  }

  /** SIGKILL, as the OOM killer or `kill -9` would: nothing is cleaned up, children keep running. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, sleep(30_000)]);
    if (child.exitCode === null && child.signalCode === null) await this.kill();
  }

  tail(lines = 40): string {
    return this.output.join("").split("\n").slice(-lines).join("\n");
  }
}

/** A tRPC client of the server (cookie session, same-origin requests). */
class Api {
  cookie = "";
  constructor(private readonly baseUrl: string) {}

  async mutate<T>(procedure: string, input: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/trpc/${procedure}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: this.baseUrl, cookie: this.cookie },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(30_000),
    });
    const set = res.headers.get("set-cookie");
    if (set?.startsWith("juanie_session=")) this.cookie = set.split(";")[0]!;
    const body = await res.text();
    if (!res.ok) throw new Error(`${procedure}: HTTP ${res.status} ${body.slice(0, 500)}`);
    return (JSON.parse(body) as { result: { data: T } }).result.data;
  }

  async query<T>(procedure: string, input: unknown): Promise<T> {
    const url = `${this.baseUrl}/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;
    const res = await fetch(url, { headers: { cookie: this.cookie }, signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    if (!res.ok) throw new Error(`${procedure}: HTTP ${res.status} ${body.slice(0, 500)}`);
    return (JSON.parse(body) as { result: { data: T } }).result.data;
  }
}

interface Deployment {
  id: string;
  status: string;
  commitSha: string | null;
  error: string | null;
}

/** The embedded PostgreSQL of the data dir, with the password the server generated. */
function embeddedClient(dataDir: string): pg.Client {
  const password = readFileSync(path.join(dataDir, "postgres.password"), "utf8").trim();
  const lines = readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n");
  return new pg.Client({ host: "127.0.0.1", port: Number(lines[3]), user: "postgres", password, database: "juanie" });
}

/** Which deployments the database announced as committing (the server's own pg_notify), from now on. */
async function watchCommitting(dataDir: string): Promise<{ reached(id: string): Promise<void>; close(): void }> {
  const client = embeddedClient(dataDir);
  client.on("error", () => {}); // the server (and its PostgreSQL) may be killed under it
  await client.connect();
  await client.query("listen juanie_events");
  const seen = new Set<string>();
  const waiters = new Map<string, () => void>();
  client.on("notification", (n) => {
    const e = JSON.parse(n.payload ?? "{}") as { deploymentId?: string; status?: string };
    if (!e.deploymentId || e.status !== "committing") return;
    seen.add(e.deploymentId);
    waiters.get(e.deploymentId)?.();
  });
  return {
    reached: (id) => (seen.has(id) ? Promise.resolve() : new Promise<void>((r) => waiters.set(id, r))),
    close: () => void client.end().catch(() => {}),
  };
}

/** Whether the embedded server refuses the `postgres` role with the fixed password it used to have. */
async function fixedLoginRefused(dataDir: string): Promise<boolean> {
  const lines = readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n");
  const c = new pg.Client({
    host: "127.0.0.1",
    port: Number(lines[3]),
    user: "postgres",
    password: "postgres",
    database: "postgres",
  });
  try {
    await c.connect();
    await c.end();
    return false;
  } catch (err) {
    return (err as { code?: string }).code === "28P01";
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    sleep(ms).then(() => {
      throw new Error(`${what}: not within ${ms} ms`);
    }),
  ]);
}

export async function runCrashScenario(opts: {
  bundle: string;
  cycles: number;
  log?: (line: string) => void;
}): Promise<CrashResult> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "juanie-crash-"));
  // As root, the embedded PostgreSQL runs as its own user, which must be able to enter the directory.
  await chmod(tmp, 0o755);
  const dataDir = path.join(tmp, "data");
  const git: GitServer = await startGitServer({ token: TOKEN });
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    JUANIE_DATA_DIR: dataDir,
    JUANIE_EMBEDDED_PG_PORT: String(await freePort()),
    JUANIE_ALLOW_LOCAL_REPOSITORIES: "true",
    LOG_LEVEL: "info",
  };
  delete env.DATABASE_URL;
  delete env.JUANIE_PUBLIC_URL;
  const server = new ServerProcess(opts.bundle, env, baseUrl);
  try {
    await server.start(180_000);
    const api = new Api(baseUrl);
    await api.mutate("auth.setup", {
      email: "crash-admin@example.test",
      username: "crash-admin",
      displayName: "Crash Admin",
      password: "crash-password-123",
    });
    const org = await api.mutate<{ id: string }>("orgs.create", { name: "Crash Org", slug: "crash-org" });
    const project = await api.mutate<{ id: string }>("projects.create", {
      organizationId: org.id,
      name: "Crash",
      slug: "crash",
      visibility: "private",
    });
    const repoUrl = await git.createRepo(REPO);
    const repo = await api.mutate<{ id: string }>("repositories.connect", {
      projectId: project.id,
      provider: "git",
      url: repoUrl,
      credential: { type: "token", token: TOKEN },
      registerWebhook: false,
    });
    await api.mutate("repositories.initializeLayout", {
      repositoryId: repo.id,
      image: "ghcr.io/crash/app:1.0.0",
      port: 8080,
    });
    const env0 = await api.mutate<{ id: string }>("environments.create", {
      projectId: project.id,
      name: "development",
      type: "development",
      approvalRequired: false,
      gitops: {
        enabled: true,
        repositoryId: repo.id,
        branch: BRANCH,
        path: "k8s/overlays/development",
        syncInterval: "1h",
        autoSync: true,
      },
    });
    const request = (replicas: number) =>
      api.mutate<Deployment>("deployments.request", {
        environmentId: env0.id,
        spec: { replicas },
        message: `crash test: replicas ${replicas}`,
      });
    const get = (id: string) => api.query<Deployment>("deployments.get", { deploymentId: id });
    const waitSettled = async (ids: string[], limitMs: number) => {
      const deadline = Date.now() + limitMs;
      for (;;) {
        const all = await Promise.all(ids.map(get));
        if (all.every((d) => SETTLED.has(d.status))) return all;
        if (Date.now() > deadline) return all;
        await sleep(50);
      }
    };
    // Warm-up: creates the branch and the server's cached clone.
    const warm = await request(2);
    const [warmed] = await waitSettled([warm.id], 30_000);
    if (warmed?.status !== "committed") throw new Error(`warm-up deploy is ${warmed?.status}: ${warmed?.error}`);

    const ids: string[] = [];
    const cycles: CycleResult[] = [];
    const unsettled = new Set<string>();
    let kills = 0;
    for (let i = 0; i < opts.cycles; i++) {
      const point = KILL_POINTS[i % KILL_POINTS.length]!;
      const replicas = 10 + i;
      let killedAt = 0;
      let cycleKills = 0;
      let leftoverPostgres = false;
      const kill = async () => {
        await server.kill();
        killedAt = performance.now();
        cycleKills++;
        kills++;
        const pid = postmasterPid(dataDir);
        if (pid && alive(pid)) leftoverPostgres = true;
      };
      // Pushes to hold: the server is killed while Git receives them; then each lands ("pass") or not ("drop").
      const pushKills = point === "during-push" ? 1 : point === "twice" ? 2 : 0;
      const dropAfterKill = point === "twice" || i % 2 === 1;
      const pushKilled = Array.from({ length: pushKills }, deferred);
      let pushesSeen = 0;
      // One decision per pushed commit: a push repeated by the killed server's orphaned git (curl retries a
      // dropped request once) gets the same answer.
      const decided = new Map<string, PushDecision>();
      const removeIntercept = git.interceptPushes(async (_repo, update) => {
        const again = update && decided.get(update.newSha);
        if (again) return again;
        const k = pushesSeen++;
        if (k >= pushKills) return "pass";
        await kill();
        const decision = dropAfterKill ? "drop" : "pass";
        if (update) decided.set(update.newSha, decision);
        pushKilled[k]!.resolve();
        return decision;
      });
      let killedAfterPush: Promise<void> | null = null;
      const removePushed =
        point === "after-push"
          ? git.onPushed(() => {
              killedAfterPush ??= kill();
            })
          : () => {};
      const committing = point === "during-commit" ? await watchCommitting(dataDir) : null;
      const d = await request(replicas);
      const id = d.id;
      ids.push(id);
      try {
        if (point === "after-request") await kill();
        else if (committing) {
          await withTimeout(committing.reached(id), 20_000, `deployment ${id} committing`);
          await kill();
        } else if (pushKills > 0) {
          await withTimeout(pushKilled[0]!.promise, 20_000, `push of deployment ${id}`);
        } else {
          await withTimeout(
            (async () => {
              while (!killedAfterPush) await sleep(5);
              await killedAfterPush;
            })(),
            20_000,
            `push of deployment ${id}`,
          );
        }
      } finally {
        committing?.close();
        removePushed();
      }
      const restarted = server.start();
      if (point !== "twice") await restarted;
      let restartMs = performance.now() - killedAt;
      if (point === "twice") {
        // The recovery commits it again and is killed during that push too (maybe before it answers /readyz):
        // the next start fails it.
        await withTimeout(pushKilled[1]!.promise, SETTLE_LIMIT_MS, `second push of deployment ${id}`);
        await restarted.catch(() => {});
        await server.start();
        restartMs = performance.now() - killedAt;
      } else {
        await restarted;
      }
      removeIntercept();
      const settled = await waitSettled(ids, SETTLE_LIMIT_MS);
      const recoveryMs = performance.now() - killedAt;
      for (const d of settled) if (!SETTLED.has(d.status)) unsettled.add(d.id);
      const mine = settled.find((d) => d.id === id)!;

      cycles.push({
        point,
        deploymentId: id,
        kills: cycleKills,
        leftoverPostgres,
        restartMs,
        recoveryMs,
        status: mine.status,
      });
      log(
        `cycle ${i + 1}/${opts.cycles} ${point}: ${cycleKills} kill(s), restart ${Math.round(restartMs)} ms, settled ${Math.round(recoveryMs)} ms → ${mine.status}${mine.error ? ` (${mine.error})` : ""}`,
      );
    }

    // The repository's queue is not blocked: one more deploy goes through at once.
    const f0 = performance.now();
    const final = await request(2);
    const [finalDone] = await waitSettled([final.id], 20_000);
    const finalDeployMs = finalDone?.status === "committed" ? performance.now() - f0 : Number.POSITIVE_INFINITY;

    // The Git history: one commit per committed deployment, none for failed ones.
    const history = await git.git(REPO, [
      "log",
      BRANCH,
      `--format=%H%x1f%(trailers:key=${TRAILER},valueonly,separator=%x1d)%x1e`,
    ]);
    const commitsOf = new Map<string, string[]>();
    for (const entry of history.split("\x1e")) {
      const [sha, trailer] = entry.trim().split("\x1f");
      if (!sha || !trailer?.trim()) continue;
      for (const value of trailer.trim().split("\x1d")) {
        commitsOf.set(value.trim(), [...(commitsOf.get(value.trim()) ?? []), sha]);
      }
    }
    const finals = await Promise.all(ids.map(get));
    const lost: string[] = [];
    const duplicated: string[] = [];
    for (const d of finals) {
      const commits = commitsOf.get(d.id) ?? [];
      if (commits.length > 1) duplicated.push(d.id);
      if (d.status === "committed" && (commits.length !== 1 || commits[0] !== d.commitSha)) lost.push(d.id);
      if (d.status !== "committed" && commits.length > 0) lost.push(d.id);
    }
    const trailerCommits = ids.reduce((n, id) => n + (commitsOf.get(id)?.length ?? 0), 0);

    const db = embeddedClient(dataDir);
    await db.connect();
    let lockedJobs = -1;
    let lockedQueues = -1;
    try {
      lockedJobs = Number(
        (await db.query("select count(*) from graphile_worker._private_jobs where locked_at is not null")).rows[0]
          .count,
      );
      lockedQueues = Number(
        (await db.query("select count(*) from graphile_worker._private_job_queues where locked_at is not null")).rows[0]
          .count,
      );
    } finally {
      await db.end();
    }
    // Part 5: the generated password is private and the old fixed one opens nothing.
    const passwordFileMode = (await stat(path.join(dataDir, "postgres.password"))).mode & 0o777;
    const fixedPasswordRefused = await fixedLoginRefused(dataDir);

    const recoveries = cycles.map((c) => c.recoveryMs).sort((a, b) => a - b);
    return {
      cycles,
      kills,
      deployments: ids.length,
      committed: finals.filter((d) => d.status === "committed").length,
      failed: finals.filter((d) => d.status === "failed").length,
      failedTwice: finals.filter((d) => d.status === "failed" && /stopped twice/.test(d.error ?? "")).length,
      unsettled: [...unsettled],
      lost,
      duplicated,
      trailerCommits,
      finalDeployMs,
      lockedJobs,
      lockedQueues,
      passwordFileMode,
      fixedPasswordRefused,
      leftoverWarnings: server.leftoverWarnings,
      recoveryMs: {
        p50: recoveries[Math.floor((recoveries.length - 1) / 2)] ?? Number.NaN,
        max: recoveries[recoveries.length - 1] ?? Number.NaN,
      },
      wallMs: performance.now() - t0,
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver output:\n${server.tail(60)}`, { cause: err });
  } finally {
    await server.stop();
    // A PostgreSQL left by a last kill: stopped through its pid.
    const pid = postmasterPid(dataDir);
    if (pid && alive(pid)) {
      process.kill(pid, "SIGINT");
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
    }
    await git.close();
    if (existsSync(tmp)) await rm(tmp, { recursive: true, force: true });
  }
}
