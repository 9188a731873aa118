import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { deployments, organizationMembers, projectMembers } from "@juanie/db";
import { hostKey, releaseDeadWorkers, requeueOrphanedCommits } from "@juanie/domain";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitServer, startGitServer } from "../../../test/git-server.ts";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import {
  auditSince,
  type Backdoor,
  createUser,
  failure,
  lastAuditId,
  openBackdoor,
  password,
  signIn,
  waitFor,
} from "./support.ts";

/**
 * What an administrator sees and can do when a crash left a deployment stuck, and how the job path gets
 * unstuck: the real server on a real database and a real Git server. (The kill -9 itself is exercised on
 * the built server by test/e2e/crash.e2e.test.ts.)
 */

const run = promisify(execFile);
const TOKEN = `tok-${randomBytes(12).toString("hex")}`;
const BRANCH = "develop";

let git: GitServer;
let server: TestServer;
let back: Backdoor;
let ada: Session; // organization admin
let bob: Session; // project developer: may deploy, does not administer the environment
let repoId: string;
let envId: string;

beforeAll(async () => {
  git = await startGitServer({ token: TOKEN });
  server = await startTestServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true" });
  back = openBackdoor(server);
  ada = new Session(server.url);
  await ada.api.auth.setup.mutate({ email: "ada@example.com", username: "ada", displayName: "Ada", password });
  const org = await ada.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
  const project = await ada.api.projects.create.mutate({
    organizationId: org.id,
    name: "Shop",
    slug: "shop",
    visibility: "private",
  });
  const bobUser = await createUser(back, "bob");
  await back.handle.db
    .insert(organizationMembers)
    .values({ organizationId: org.id, userId: bobUser.id, role: "member" });
  await back.handle.db.insert(projectMembers).values({ projectId: project.id, userId: bobUser.id, role: "developer" });
  bob = await signIn(server, bobUser);
  const url = await git.createRepo("shop");
  const repo = await ada.api.repositories.connect.mutate({
    projectId: project.id,
    provider: "git",
    url,
    credential: { type: "token", token: TOKEN },
    registerWebhook: false,
  });
  repoId = repo.id;
  await ada.api.repositories.initializeLayout.mutate({ repositoryId: repoId, image: "ghcr.io/acme/shop:1", port: 80 });
  const env = await ada.api.environments.create.mutate({
    projectId: project.id,
    name: "development",
    type: "development",
    approvalRequired: false,
    gitops: {
      enabled: true,
      repositoryId: repoId,
      branch: BRANCH,
      path: "k8s/overlays/development",
      syncInterval: "1h",
      autoSync: true,
    },
  });
  envId = env.id;
});

afterAll(async () => {
  await back?.close();
  await server?.close();
  await git?.close();
});

const get = (s: Session, id: string) => s.api.deployments.get.query({ deploymentId: id });
const settled = (s: Session, id: string) =>
  waitFor(
    () => get(s, id),
    (d) => !["queued", "committing"].includes(d.status),
  );

/** Holds the repository's named queue as a worker of a process that died without a trace would. */
async function lockQueue(workerId: string) {
  await back.handle.db.execute(sql`
    update graphile_worker._private_job_queues set locked_by = ${workerId}, locked_at = now()
    where queue_name = ${`repo:${repoId}`}`);
}

/** Makes a deployment look as if it had not changed for a minute. */
async function age(id: string) {
  await back.handle.db.execute(sql`update deployments set updated_at = now() - interval '1 minute' where id = ${id}`);
}

/** A commit pushed by someone else (outside the environment's path), as a helper clone would. */
async function pushOtherCommit(): Promise<string> {
  const work = await mkdtemp(path.join(os.tmpdir(), "juanie-crash-clone-"));
  try {
    const dir = path.join(work, "c");
    await run("git", ["clone", "-q", "--branch", BRANCH, path.join(git.root, "shop.git"), dir]);
    await writeFile(path.join(dir, "NOTES.md"), `note ${randomUUID()}\n`);
    const g = (args: string[]) =>
      run("git", ["-C", dir, "-c", "user.name=Eve", "-c", "user.email=eve@example.com", ...args]);
    await g(["add", "NOTES.md"]);
    await g(["commit", "-q", "-m", "docs: a note"]);
    await g(["push", "-q", "origin", BRANCH]);
    return (await g(["rev-parse", "HEAD"])).stdout.trim();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

describe("jobs held by a dead worker", () => {
  it("are released from the queue and the job when the worker's process stopped beating, not before", async () => {
    const db = back.handle.db;
    const first = await ada.api.deployments.request.mutate({ environmentId: envId, spec: { replicas: 2 } });
    expect((await settled(ada, first.id)).status).toBe("committed");

    // A live process (fresh heartbeat) holds the queue: nothing is released, the next deployment waits.
    await db.execute(sql`insert into worker_instances (id, host_key, pid, worker_ids, heartbeat_at)
      values (${randomUUID()}, 'elsewhere', 1, '{worker-alive}', now())`);
    await lockQueue("worker-alive");
    const waiting = await ada.api.deployments.request.mutate({ environmentId: envId, spec: { replicas: 3 } });
    const self = { id: randomUUID(), hostKey: hostKey() };
    expect(await releaseDeadWorkers(db, self)).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    expect((await get(ada, waiting.id)).status).toBe("queued");

    // Its heartbeat goes stale: the next sweep releases the queue and the deployment commits.
    await db.execute(
      sql`update worker_instances set heartbeat_at = now() - interval '1 minute' where host_key = 'elsewhere'`,
    );
    // (The server's own sweep, every few seconds, may get there first.)
    expect(["worker-alive"]).toEqual(expect.arrayContaining(await releaseDeadWorkers(db, self)));
    expect(
      await back.count(sql`select 1 from graphile_worker._private_job_queues where locked_by = 'worker-alive'`),
    ).toBe(0);
    expect((await settled(ada, waiting.id)).status).toBe("committed");
    expect(await back.count(sql`select 1 from worker_instances where host_key = 'elsewhere'`)).toBe(0);
  });

  it("a lock by a worker no process registered is released once it is older than the heartbeat limit", async () => {
    const db = back.handle.db;
    await lockQueue("worker-unknown");
    const self = { id: randomUUID(), hostKey: hostKey() };
    expect(await releaseDeadWorkers(db, self)).toEqual([]); // could be a process that is registering right now
    await db.execute(sql`update graphile_worker._private_job_queues set locked_at = now() - interval '1 minute'
      where locked_by = 'worker-unknown'`);
    expect(await releaseDeadWorkers(db, self)).toEqual(["worker-unknown"]);
    expect(await back.count(sql`select 1 from graphile_worker._private_job_queues where locked_at is not null`)).toBe(
      0,
    );
  });
});

describe("a push whose answer is lost", () => {
  it("landed all the same: the deployment is committed with that commit, and it is made only once", async () => {
    let pushes = 0;
    const stop = git.interceptPushes(async () => (pushes++ === 0 ? "land-and-drop" : "pass"));
    try {
      const d = await ada.api.deployments.request.mutate({ environmentId: envId, spec: { replicas: 9 } });
      const done = await settled(ada, d.id);
      expect(pushes).toBeGreaterThanOrEqual(1);
      expect(done.error).toBeNull();
      expect(done.status).toBe("committed");
      const head = (await git.git("shop", ["rev-parse", BRANCH])).trim();
      expect(done.commitSha).toBe(head);
      const ids = await git.git("shop", ["log", BRANCH, "--format=%(trailers:key=Juanie-Deployment,valueonly)"]);
      expect(ids.split("\n").filter((l) => l.trim() === d.id)).toHaveLength(1);
    } finally {
      stop();
    }
  });
});

describe("a deployment stuck after a crash", () => {
  it("can be retried by an environment administrator only, with an audit entry, and then commits", async () => {
    await lockQueue("worker-ghost");
    const d = await bob.api.deployments.request.mutate({ environmentId: envId, spec: { replicas: 4 } });
    expect((await get(ada, d.id)).canRetry).toBe(false); // queued a moment ago: not stuck
    await age(d.id);
    expect((await get(bob, d.id)).canRetry).toBe(false);
    expect((await get(ada, d.id)).canRetry).toBe(true);

    const before = await lastAuditId(back);
    const denied = await failure(bob.api.deployments.retry.mutate({ deploymentId: d.id }));
    expect(denied.message).toBe(
      "Forbidden: cancelling or retrying a deployment the platform is committing requires environment admin permission (you have environment deploy permission)",
    );
    const retried = await ada.api.deployments.retry.mutate({ deploymentId: d.id });
    expect(retried.events.at(-1)).toMatchObject({ from: "queued", to: "queued", message: "retried by ada" });
    expect((await auditSince(back, before)).map((e) => `${e.action}:${e.result}:${e.actorLabel}`)).toEqual([
      "deployment.retry:denied:bob",
      "deployment.retry:success:ada",
    ]);
    // The queue is still held by the ghost: the sweep (any process) releases it, then the commit goes through.
    await back.handle.db.execute(sql`select graphile_worker.force_unlock_workers('{worker-ghost}')`);
    const done = await settled(ada, d.id);
    expect(done.status).toBe("committed");
    expect((await git.git("shop", ["rev-parse", BRANCH])).trim()).toBe(done.commitSha);
  });

  it("whose commit job is gone (removed, or out of attempts) gets one again from the scheduler", async () => {
    await lockQueue("worker-ghost-2");
    const d = await ada.api.deployments.request.mutate({ environmentId: envId, spec: { replicas: 8 } });
    await back.handle.db.execute(
      sql`delete from graphile_worker._private_jobs where key = ${`deployment.commit:${d.id}`}`,
    );
    await back.handle.db.execute(sql`select graphile_worker.force_unlock_workers('{worker-ghost-2}')`);
    expect(await requeueOrphanedCommits(back.deps)).toBe(0); // not stuck yet: it was queued a moment ago
    await age(d.id);
    expect(await requeueOrphanedCommits(back.deps)).toBe(1);
    expect((await settled(ada, d.id)).status).toBe("committed");
    expect(await requeueOrphanedCommits(back.deps)).toBe(0);
  });

  it("left in committing: retry finds its commit on the branch by the recorded SHA and records it once", async () => {
    const d = await ada.api.deployments.request.mutate({ environmentId: envId, spec: { replicas: 5 } });
    expect((await settled(ada, d.id)).status).toBe("committed");
    // As a process that pushed and died before recording it would leave it.
    const sha = await pushOtherCommit();
    const stuck = await ada.api.deployments.request.mutate({ environmentId: envId, spec: { replicas: 6 } });
    await settled(ada, stuck.id);
    await back.handle.db
      .update(deployments)
      .set({ status: "committing", pushShas: [sha], commitSha: null, finishedAt: null })
      .where(eq(deployments.id, stuck.id));
    await age(stuck.id);

    // Cancelling would hide a commit that is on the branch: refused, saying so.
    const refused = await failure(ada.api.deployments.cancel.mutate({ deploymentId: stuck.id }));
    expect(refused.message).toBe(
      `Its commit ${sha.slice(0, 12)} is already on the branch, so it cannot be cancelled: retry it to record it as committed`,
    );
    await ada.api.deployments.retry.mutate({ deploymentId: stuck.id });
    const done = await settled(ada, stuck.id);
    expect(done.status).toBe("committed");
    expect(done.commitSha).toBe(sha);
    expect(done.events.at(-1)?.message).toBe(
      `found its commit ${sha.slice(0, 12)} on ${BRANCH} after an interrupted run`,
    );
  });

  it("left in committing with a commit that never landed: an administrator can cancel it; the requester cannot", async () => {
    const d = await bob.api.deployments.request.mutate({ environmentId: envId, spec: { replicas: 7 } });
    await settled(ada, d.id);
    await back.handle.db
      .update(deployments)
      .set({ status: "committing", pushShas: ["0".repeat(40)], commitSha: null, finishedAt: null })
      .where(eq(deployments.id, d.id));
    await age(d.id);
    expect((await get(bob, d.id)).canCancel).toBe(false);
    expect((await get(ada, d.id)).canCancel).toBe(true);
    const denied = await failure(bob.api.deployments.cancel.mutate({ deploymentId: d.id }));
    expect(denied.juanie.code).toBe("FORBIDDEN");
    const cancelled = await ada.api.deployments.cancel.mutate({ deploymentId: d.id });
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.events.at(-1)).toMatchObject({ from: "committing", to: "cancelled", message: "cancelled by ada" });
    // Retry applies only where the platform does the work.
    const notStuck = await failure(ada.api.deployments.retry.mutate({ deploymentId: d.id }));
    expect(notStuck.juanie.fieldErrors?.deploymentId?.[0]).toBe(
      "is cancelled: only a deployment waiting for or in its commit can be retried",
    );
  });
});
