// Deployment benchmarks on a real smart-HTTP Git server (test/git-server.ts): UI deploy → pushed commit latency
// against a raw `git commit && git push` of the same change, and 100 concurrent deploy requests to one environment.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { DeploymentDetail, DeploymentSummary, Environment, Project, Repository } from "@juanie/contracts";
import { startGitServer } from "../test/git-server.ts";
import { type Input, mutation, percentile, queryUrl, request, trpcData } from "./http.ts";
import { type Row, round } from "./table.ts";

const SEQUENTIAL = 60;
const CONCURRENT = 100;
/** One sequential deploy, request → committed. */
const DEPLOY_TIMEOUT_MS = 60_000;
/** The concurrent run: answers to the 100 requests, then every deployment settled. */
const CONCURRENT_REQUEST_TIMEOUT_MS = 120_000;
const CONCURRENT_SETTLE_MS = 240_000;
export const DEPLOY_TARGET = { p50Ratio: 1.5, landed: CONCURRENT, lost: 0, duplicated: 0 };

const TOKEN = "bench-git-token";
const REPO = "bench-deploy";
const BRANCH = "develop";
const OVERLAY = "k8s/overlays/development/kustomization.yaml";
const TRAILER = "Juanie-Deployment";
const SETTLED = new Set(["committed", "failed", "cancelled", "rejected", "expired", "succeeded", "rolled_back"]);

const run = promisify(execFile);

interface Stats {
  n: number;
  p50: number;
  p95: number;
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: round(percentile(sorted, 50), 1), p95: round(percentile(sorted, 95), 1) };
}

interface PreviewAnswer {
  render: { verified: true; tool: string; ms: number } | { verified: false; reason: string };
}

export interface PreviewStats {
  total: Stats;
  /** Every preview said "verified with kustomize". */
  verified: boolean;
  /** Time inside the preview spent on the kustomize builds and the comparison (as the server reports it). */
  verifyMs: Stats | null;
  unverifiedReason: string | null;
}

/**
 * `n` previews of a replica change on the bench's environment, on a server started with JUANIE_KUSTOMIZE=none:
 * the preview's time without render verification, to set beside the verified one.
 */
export async function previewBench(
  base: string,
  cookie: string,
  environmentId: string,
  n: number,
): Promise<PreviewStats> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const total: number[] = [];
    let reason: string | null = null;
    let verified = 0;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = (
        await mutation<PreviewAnswer>(
          base,
          "deployments.preview",
          { environmentId, spec: { replicas: 10 + (i % 5) } },
          cookie,
          agent,
        )
      ).data;
      total.push(performance.now() - t0);
      if (r.render.verified) verified++;
      else reason = r.render.reason;
    }
    return { total: stats(total), verified: verified === n, verifyMs: null, unverifiedReason: reason };
  } finally {
    agent.destroy();
  }
}

export interface DeployResult {
  /** The environment the deploys went to (previewBench uses it again). */
  environmentId: string;
  sequential: {
    /** Request sent → the Git server has answered the platform's push of the commit. */
    ui: Stats;
    /** Request sent → the committed status arrives on the live stream the web UI listens to. */
    uiSeen: Stats;
    raw: Stats;
    p50Ratio: number;
    p50RatioSeen: number;
    /** The dialog's preview before each deploy: its time, and how much of it the kustomize verification took. */
    preview: PreviewStats;
    /** p50 of each leg of a UI deploy (server timestamps of the deployment's events). */
    legsMs: { request: number; pickup: number; commitJob: number; observed: number };
  };
  concurrent: {
    requested: number;
    /** Answered 200 by deployments.request. */
    accepted: number;
    /** Refused by deployments.request (HTTP error or timeout), by message. */
    refused: Record<string, number>;
    /** Status committed, with exactly one commit on the branch carrying its id, and that commit is its commitSha. */
    landed: number;
    /** Settled but not committed (failed …), by status and error. */
    failed: Record<string, number>;
    /** Not settled within the time budget. */
    unsettled: number;
    /** Said committed, but its commit is not on the branch (or is another commit). */
    lost: number;
    /** Extra commits on the branch carrying the id of a deployment that already has one. */
    duplicated: number;
    distinctCommitShas: number;
    /** Commits on the branch whose Juanie-Deployment trailer names one of the requested deployments. */
    trailerCommits: number;
    requestsMs: number;
    wallMs: number;
    landedPerSecond: number;
    /** Committed or failed per second: how fast the queue gets through the requests. */
    settledPerSecond: number;
  };
}

/**
 * `deployments.onChange` for a project over SSE (what the web UI listens to). `settled(id)` resolves
 * with the first settled status the stream reports for that deployment.
 */
async function openChanges(base: string, cookie: string, projectId: string) {
  const latest = new Map<string, string>();
  const waiters = new Map<string, (status: string) => void>();
  const url = `${base}/trpc/deployments.onChange?input=${encodeURIComponent(JSON.stringify({ projectId }))}`;
  const req = http.get(url, { headers: { cookie, accept: "text/event-stream" } });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on("response", resolve);
    req.on("error", reject);
  });
  if (res.statusCode !== 200) throw new Error(`deployments.onChange answered ${res.statusCode}`);
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
      const change = JSON.parse(data) as { deploymentId: string; status: string };
      latest.set(change.deploymentId, change.status);
      if (SETTLED.has(change.status)) waiters.get(change.deploymentId)?.(change.status);
    }
  });
  return {
    settled(id: string, timeoutMs: number): Promise<string> {
      const known = latest.get(id);
      if (known && SETTLED.has(known)) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(id);
          reject(new Error(`deployment ${id} still ${latest.get(id) ?? "unseen"} after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(id, (status) => {
          clearTimeout(timer);
          waiters.delete(id);
          resolve(status);
        });
      });
    },
    close() {
      req.destroy();
    },
  };
}

/** Counts by reason: a message up to its first ": " (where a Git or conflict error starts naming details). */
function tally(messages: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of messages) {
    const key = m.split(": ")[0]!.slice(0, 100);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** The message of a tRPC error response. */
function errorMessage(body: string): string {
  try {
    return (JSON.parse(body) as { error: { message: string } }).error.message;
  } catch {
    return body.slice(0, 100);
  }
}

/**
 * Both benchmarks on the running server (started with JUANIE_ALLOW_LOCAL_REPOSITORIES=true), as the admin of
 * `organizationId`. `defer` registers cleanups (Git server, temporary clone) that also run on error and Ctrl-C.
 */
export async function deployBench(
  base: string,
  cookie: string,
  organizationId: string,
  defer: (fn: () => Promise<void>) => void,
): Promise<DeployResult> {
  const gitServer = await startGitServer({ token: TOKEN });
  defer(() => gitServer.close());
  const repoUrl = await gitServer.createRepo(REPO);
  console.log(
    `deployments: ${SEQUENTIAL} sequential (interleaved with raw git), then ${CONCURRENT} concurrent; ${repoUrl}`,
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  defer(async () => agent.destroy());
  const get = async <T>(procedure: string, input: Input) =>
    trpcData<T>(await request("GET", queryUrl(base, procedure, input), { headers: { cookie }, agent }), procedure);
  // One keep-alive connection, like the browser's.
  const call = async <T>(procedure: string, input: object) =>
    (await mutation<T>(base, procedure, input, cookie, agent)).data;

  // ----- setup through the API: project, repository, layout, one development environment (no approval) -----
  const project = await call<Project>("projects.create", {
    organizationId,
    name: "Bench Deploy",
    slug: REPO,
    visibility: "private",
  });
  const repo = await call<Repository>("repositories.connect", {
    projectId: project.id,
    provider: "git",
    url: repoUrl,
    credential: { type: "token", token: TOKEN },
    registerWebhook: false,
  });
  await call("repositories.initializeLayout", { repositoryId: repo.id, image: "ghcr.io/bench/app:1.0.0", port: 8080 });
  const env = await call<Environment>("environments.create", {
    projectId: project.id,
    name: "development",
    type: "development",
    approvalRequired: false,
    gitops: {
      enabled: true,
      repositoryId: repo.id,
      branch: BRANCH,
      path: "k8s/overlays/development",
      syncInterval: "1m",
      autoSync: true,
    },
  });

  const previewMs: number[] = [];
  const verifyMs: number[] = [];
  let unverifiedReason: string | null = null;

  // The project's live changes, as the web UI gets them (SSE): a settled status is seen as it commits.
  const changes = await openChanges(base, cookie, project.id);
  defer(async () => changes.close());

  /** request → status committed (seen on the live stream); the legs come from the deployment's own timestamps. */
  const uiDeploy = async (replicas: number) => {
    // The deploy dialog previews the change as the user fills it in, before they submit: timed apart
    // (it is where the kustomize verification runs), not part of the deploy's figure.
    const spec = { replicas };
    const p0 = performance.now();
    const preview = await call<PreviewAnswer>("deployments.preview", {
      environmentId: env.id,
      spec,
      message: `bench: replicas ${replicas}`,
    });
    previewMs.push(performance.now() - p0);
    if (preview.render.verified) verifyMs.push(preview.render.ms);
    else unverifiedReason = preview.render.reason;
    // The Git server answered the platform's push: the commit is on the remote. (Nothing else pushes
    // to the repository while a UI deploy runs: the raw baseline runs before or after it.)
    let pushedMs = Number.NaN;
    const stopListening = gitServer.onPushed((repoPath) => {
      if (repoPath === `/${REPO}.git` && Number.isNaN(pushedMs)) pushedMs = performance.now() - t0;
    });
    const t0 = performance.now();
    const wall0 = Date.now();
    const { id } = await call<DeploymentDetail>("deployments.request", {
      environmentId: env.id,
      spec,
      message: `bench: replicas ${replicas}`,
    });
    const requestMs = performance.now() - t0;
    const status = await changes.settled(id, DEPLOY_TIMEOUT_MS).finally(stopListening);
    const ms = performance.now() - t0;
    const d = await get<DeploymentDetail>("deployments.get", { deploymentId: id });
    if (status === "committed" && d.status === "committed") {
      // The push the server saw was this deployment's commit.
      const branchHead = (await gitServer.git(REPO, ["rev-parse", BRANCH])).trim();
      if (branchHead !== d.commitSha) throw new Error(`${BRANCH} is at ${branchHead}, not at ${d.commitSha}`);
      const at = (to: string) => Date.parse(d.events.find((e) => e.to === to)?.at ?? "");
      const committing = at("committing");
      const committed = at("committed");
      return {
        ms,
        pushedMs,
        legs: {
          request: requestMs,
          pickup: committing - (wall0 + requestMs),
          commitJob: committed - committing,
          observed: wall0 + ms - committed,
        },
      };
    }
    throw new Error(`deployment ${id} is ${d.status}: ${d.error ?? "no error given"}`);
  };
  // Warm-up, not measured: the first deploy creates the branch from main and the server's cached clone.
  for (const replicas of [900, 901]) await uiDeploy(replicas);

  // ----- the raw baseline: a clone of the same served repository, its own branch so it never has to pull -----
  const work = await mkdtemp(path.join(os.tmpdir(), "juanie-bench-raw-"));
  defer(() => rm(work, { recursive: true, force: true }));
  const gitEnv: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GIT_"))),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "Bench",
    GIT_AUTHOR_EMAIL: "bench@example.test",
    GIT_COMMITTER_NAME: "Bench",
    GIT_COMMITTER_EMAIL: "bench@example.test",
    // The token as the platform sends it: a header, never in the URL.
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "http.extraHeader",
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`,
  };
  const clone = path.join(work, REPO);
  const git = (args: string[]) => run("git", args, { cwd: work, env: gitEnv, timeout: 30_000 });
  await git(["clone", "-q", "--branch", BRANCH, "--single-branch", repoUrl, clone]);
  const gitIn = (args: string[]) => git(["-C", clone, ...args]);
  await gitIn(["checkout", "-q", "-b", "bench-raw"]);
  await gitIn(["push", "-q", "-u", "origin", "bench-raw"]);
  const overlay = path.join(clone, OVERLAY);
  const rawDeploy = async (replicas: number) => {
    const t0 = performance.now();
    const before = await readFile(overlay, "utf8");
    const after = before.replace(/^(\s*count: )\d+$/m, `$1${replicas}`);
    if (after === before) throw new Error(`${OVERLAY}: no replica count to change to ${replicas}`);
    await writeFile(overlay, after);
    await gitIn(["commit", "-q", "-am", `bench: replicas ${replicas}`]);
    await gitIn(["push", "-q"]);
    return performance.now() - t0;
  };

  // ----- 1. N sequential deploys (replicas 2, 3, 4, …), interleaved with the raw baseline -----
  const uiMs: number[] = [];
  const uiSeenMs: number[] = [];
  const rawMs: number[] = [];
  const legs: Record<keyof DeployResult["sequential"]["legsMs"], number[]> = {
    request: [],
    pickup: [],
    commitJob: [],
    observed: [],
  };
  for (let i = 0; i < SEQUENTIAL; i++) {
    // A new value each time: the preview's kustomize builds never find the same tree in their cache
    // (alternating two values would, and would hide the verification's cost).
    const replicas = 2 + i;
    const ui = async () => {
      const r = await uiDeploy(replicas);
      uiMs.push(r.pushedMs);
      uiSeenMs.push(r.ms);
      for (const k of Object.keys(legs) as (keyof typeof legs)[]) legs[k].push(r.legs[k]);
    };
    const raw = async () => void rawMs.push(await rawDeploy(replicas));
    // Alternate which goes first, so neither always runs right after the other's push.
    if (i % 2 === 0) {
      await ui();
      await raw();
    } else {
      await raw();
      await ui();
    }
  }
  const ui = stats(uiMs);
  const uiSeen = stats(uiSeenMs);
  const raw = stats(rawMs);
  const p50 = (values: number[]) => stats(values).p50;
  const sequential = {
    ui,
    uiSeen,
    raw,
    preview: {
      total: stats(previewMs),
      verified: verifyMs.length === previewMs.length,
      verifyMs: verifyMs.length ? stats(verifyMs) : null,
      unverifiedReason,
    },
    p50Ratio: round(ui.p50 / raw.p50, 2),
    p50RatioSeen: round(uiSeen.p50 / raw.p50, 2),
    legsMs: {
      request: p50(legs.request),
      pickup: p50(legs.pickup),
      commitJob: p50(legs.commitJob),
      observed: p50(legs.observed),
    },
  };
  console.log(`sequential deploys: ${JSON.stringify(sequential)}`);

  // ----- 2. CONCURRENT deploy requests at once, each setting a distinct value -----
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: CONCURRENT }, async (_, i): Promise<{ id: string } | { error: string }> => {
      try {
        const res = await request("POST", `${base}/trpc/deployments.request`, {
          headers: { origin: base, "content-type": "application/json", cookie },
          body: JSON.stringify({
            environmentId: env.id,
            spec: { env: [{ name: "BENCH_CONCURRENT", value: String(i + 1) }] },
            message: `bench: concurrent ${i + 1}`,
          }),
          timeoutMs: CONCURRENT_REQUEST_TIMEOUT_MS,
        });
        if (res.status !== 200) return { error: `HTTP ${res.status} ${errorMessage(res.body)}` };
        return { id: (JSON.parse(res.body) as { result: { data: DeploymentDetail } }).result.data.id };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return {
          error: message.endsWith("timed out") ? `no answer within ${CONCURRENT_REQUEST_TIMEOUT_MS} ms` : message,
        };
      }
    }),
  );
  const requestsMs = performance.now() - t0;
  const ids = answers.flatMap((a) => ("id" in a ? [a.id] : []));
  const refused = tally(answers.flatMap((a) => ("error" in a ? [a.error] : [])));
  console.log(`${ids.length}/${CONCURRENT} deploy requests accepted in ${round(requestsMs)} ms; waiting for commits…`);

  // Settled when none is pending, queued or committing any more (the environment has fewer than 200 deployments).
  const byId = new Map<string, DeploymentSummary>();
  let wallMs = Number.NaN;
  while (performance.now() - t0 < requestsMs + CONCURRENT_SETTLE_MS) {
    const page = await get<{ items: DeploymentSummary[] }>("deployments.list", { environmentId: env.id, limit: 200 });
    for (const d of page.items) byId.set(d.id, d);
    if (ids.every((id) => SETTLED.has(byId.get(id)?.status ?? ""))) {
      wallMs = performance.now() - t0;
      break;
    }
    await sleep(50);
  }
  if (Number.isNaN(wallMs)) wallMs = performance.now() - t0;
  const settledIds = ids.filter((id) => SETTLED.has(byId.get(id)?.status ?? ""));
  // Anything settled but not committed, with its error (which only the detail has).
  const failures = await Promise.all(
    settledIds
      .filter((id) => byId.get(id)!.status !== "committed")
      .map(async (id) => {
        const d = await get<DeploymentDetail>("deployments.get", { deploymentId: id });
        return `${d.status} — ${d.error ?? "no error given"}`;
      }),
  );
  if (failures.length) console.log(`first of ${failures.length} failures: ${failures[0]}`);
  const failed = tally(failures);

  // What actually landed: every commit on the branch with the trailer naming one of the deployments.
  const wanted = new Set(ids);
  const log = await gitServer.git(REPO, [
    "log",
    `--format=%H%x09%(trailers:key=${TRAILER},valueonly,separator=%x2C)`,
    BRANCH,
  ]);
  const commitsOf = new Map<string, string[]>();
  for (const line of log.split("\n")) {
    const [sha = "", values = ""] = line.split("\t");
    for (const id of values.split(",").map((v) => v.trim())) {
      if (wanted.has(id)) commitsOf.set(id, [...(commitsOf.get(id) ?? []), sha]);
    }
  }
  const committed = ids.filter((id) => byId.get(id)?.status === "committed");
  const landed = committed.filter((id) => {
    const shas = commitsOf.get(id) ?? [];
    return shas.length === 1 && shas[0] === byId.get(id)!.commitSha;
  }).length;
  const lost = committed.filter((id) => !(commitsOf.get(id) ?? []).includes(byId.get(id)!.commitSha ?? "")).length;
  const duplicated = [...commitsOf.values()].reduce((n, shas) => n + shas.length - 1, 0);
  const concurrent = {
    requested: CONCURRENT,
    accepted: ids.length,
    refused,
    landed,
    failed,
    unsettled: ids.length - settledIds.length,
    lost,
    duplicated,
    distinctCommitShas: new Set(committed.map((id) => byId.get(id)!.commitSha)).size,
    trailerCommits: [...commitsOf.values()].reduce((n, shas) => n + shas.length, 0),
    requestsMs: round(requestsMs),
    wallMs: round(wallMs),
    landedPerSecond: round(landed / (wallMs / 1000), 2),
    settledPerSecond: round(settledIds.length / (wallMs / 1000), 2),
  };
  console.log(`concurrent deploys: ${JSON.stringify(concurrent)}`);
  return { environmentId: env.id, sequential, concurrent };
}

export function deployRows(r: DeployResult, unverified?: PreviewStats): Row[] {
  const s = r.sequential;
  const pv = s.preview;
  const c = r.concurrent;
  const count = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  const reasons = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, n]) => `${n}× ${k}`)
      .join("; ");
  const failedCount = count(c.failed);
  return [
    {
      metric: `UI deploy (submit after the dialog's preview) → pushed commit (Git server answered) p50/p95 (N=${s.ui.n})`,
      measured: `${s.ui.p50} / ${s.ui.p95} ms`,
    },
    {
      metric: "UI deploy → committed status on the live stream (what the UI shows) p50/p95",
      measured: `${s.uiSeen.p50} / ${s.uiSeen.p95} ms`,
    },
    {
      metric: "  its legs, p50: request (render, then tx) / job start − answer / commit job / seen on the live stream",
      measured: `${s.legsMs.request} / ${s.legsMs.pickup} / ${s.legsMs.commitJob} / ${s.legsMs.observed} ms`,
    },
    {
      metric: `dialog preview before each deploy, ${pv.verified ? "render-verified with kustomize" : `NOT verified (${pv.unverifiedReason})`} p50/p95 (N=${pv.total.n})`,
      measured: `${pv.total.p50} / ${pv.total.p95} ms`,
    },
    ...(pv.verifyMs
      ? [
          {
            metric: "  of which kustomize verification (build before + build after + compare), p50/p95",
            measured: `${pv.verifyMs.p50} / ${pv.verifyMs.p95} ms`,
          },
        ]
      : []),
    ...(unverified
      ? [
          {
            metric: `the same preview without render verification (server restarted with JUANIE_KUSTOMIZE=none) p50/p95 (N=${unverified.total.n})`,
            measured: `${unverified.total.p50} / ${unverified.total.p95} ms`,
          },
        ]
      : []),
    {
      metric: `raw git commit && git push p50/p95 (N=${s.raw.n}, same change, same served repo)`,
      measured: `${s.raw.p50} / ${s.raw.p95} ms`,
    },
    {
      metric: "UI deploy → pushed commit / raw git, p50 ratio",
      measured: `${s.p50Ratio}×`,
      target: `≤ ${DEPLOY_TARGET.p50Ratio}×`,
      ratio: s.p50Ratio / DEPLOY_TARGET.p50Ratio,
    },
    {
      metric: "UI deploy → committed status seen / raw git, p50 ratio",
      measured: `${s.p50RatioSeen}×`,
    },
    {
      metric: `${c.requested} concurrent deploys: commits on ${BRANCH} with one of their ids as ${TRAILER}`,
      measured: `${c.trailerCommits}`,
      target: `${DEPLOY_TARGET.landed}`,
      ok: c.trailerCommits === DEPLOY_TARGET.landed,
    },
    {
      metric: `${c.requested} concurrent deploys: committed, commitSha = its one commit (distinct commitShas)`,
      measured: `${c.landed} / ${c.requested} (${c.distinctCommitShas})`,
      target: `${DEPLOY_TARGET.landed}`,
      ok: c.landed === DEPLOY_TARGET.landed && c.distinctCommitShas === DEPLOY_TARGET.landed,
    },
    {
      metric: `${c.requested} concurrent deploys: lost (committed, no such commit on ${BRANCH})`,
      measured: `${c.lost}`,
      target: `${DEPLOY_TARGET.lost}`,
      ok: c.lost === DEPLOY_TARGET.lost,
    },
    {
      metric: `${c.requested} concurrent deploys: duplicated commits`,
      measured: `${c.duplicated}`,
      target: `${DEPLOY_TARGET.duplicated}`,
      ok: c.duplicated === DEPLOY_TARGET.duplicated,
    },
    {
      metric: `${c.requested} concurrent deploys: failed${failedCount ? ` (${reasons(c.failed)})` : ""}`,
      measured: `${failedCount}`,
    },
    {
      metric: `${c.requested} concurrent deploys: refused by the request${count(c.refused) ? ` (${reasons(c.refused)})` : ""}`,
      measured: `${count(c.refused)}`,
    },
    { metric: `${c.requested} concurrent deploys: not settled in time`, measured: `${c.unsettled}` },
    {
      metric: `${c.requested} concurrent deploys: wall time, first request → all settled (requests answered)`,
      measured: `${round(c.wallMs / 1000, 2)} s (${round(c.requestsMs / 1000, 2)} s)`,
    },
    {
      metric: `${c.requested} concurrent deploys: throughput, landed (settled) / wall time`,
      measured: `${c.landedPerSecond}/s (${c.settledPerSecond}/s)`,
    },
  ];
}
