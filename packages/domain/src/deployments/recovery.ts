/**
 * Crash safety of the commit path. A process that dies while committing leaves its deployment in
 * `committing` and its job locked; once the job is released (jobs/liveness.ts) it runs again and first
 * reconciles the deployment against the branch: a commit it was about to push (each recorded in `push_shas`
 * before its push) is on the branch → `committed`; not there → queued and committed once more; after a
 * second interruption → `failed`, with the reason. Administrators can cancel or retry a deployment that is
 * stuck in a state where the platform does the work (queued, committing).
 */

import type { DeploymentDetail } from "@juanie/contracts";
import { deploymentEvents, deployments, type Executor, environments, repositories } from "@juanie/db";
import { and, eq, sql } from "drizzle-orm";
import { authorizeEnvironment } from "../environments/access.ts";
import { nudgeFlux } from "../environments/gitops.ts";
import { jobRunning, LIVENESS } from "../jobs/liveness.ts";
import { remoteOf } from "../repositories/service.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { ConflictError, ForbiddenError, InputError } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";
import { commitDeployment, markRolledBack } from "./commit.ts";
import { notifyDeployment } from "./notices.ts";
import { getDeployment } from "./queries.ts";
import { applyEvent, type DeploymentRow, gitopsTarget, loadForUpdate, publishChange } from "./service.ts";

const system = { origin: { ip: null, userAgent: null }, actorLabel: "system" } as const;
const commitJobKey = (deploymentId: string) => `deployment.commit:${deploymentId}`;
/** A deployment in queued or committing that has not changed for this long counts as stuck. */
export const STUCK_AFTER_MS = 30_000;

/** Called by the Git engine with each commit just before it is pushed. Refuses when the deployment was taken away. */
export async function recordPushSha(deps: GitOpsDeps, deploymentId: string, sha: string): Promise<void> {
  const r = await deps.db
    .update(deployments)
    .set({ pushShas: sql`array_append(${deployments.pushShas}, ${sha})` })
    .where(and(eq(deployments.id, deploymentId), eq(deployments.status, "committing")))
    .returning({ id: deployments.id });
  if (!r.length) throw new ConflictError("The deployment is no longer committing (cancelled meanwhile): not pushed");
}

/** Whether the deployment's recorded commit is on its environment's branch (fetched now). */
async function landedCommit(deps: GitOpsDeps, d: DeploymentRow): Promise<string | null> {
  if (!d.pushShas.length) return null;
  const [row] = await deps.db
    .select({ env: environments, repo: repositories })
    .from(environments)
    .leftJoin(repositories, eq(repositories.id, environments.repositoryId))
    .where(eq(environments.id, d.environmentId));
  if (!row) return null;
  const target = await gitopsTarget(deps.db, row.env, row.repo);
  // Newest first. Also the ones of an interrupted earlier run: its orphaned git may have landed one late.
  return deps.git.findOnBranch(remoteOf(deps, target.repo), target.branch, [...d.pushShas].reverse());
}

/** How often the deployment was already put back in the queue after an interrupted commit. */
async function requeueCount(db: Executor, deploymentId: string): Promise<number> {
  const r = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(deploymentEvents)
    .where(
      and(
        eq(deploymentEvents.deploymentId, deploymentId),
        eq(deploymentEvents.fromStatus, "committing"),
        eq(deploymentEvents.toStatus, "queued"),
      ),
    );
  return r[0]?.n ?? 0;
}

/**
 * A deployment found in `committing` when its commit job starts: the run that took it stopped before
 * recording the outcome. Decided against the branch. `settled`: committed or failed now; `queued`: to be
 * committed again; `none`: not committing, nothing to do.
 */
export async function reconcileCommitting(
  deps: GitOpsDeps,
  deploymentId: string,
  opts: { landedOnly?: boolean } = {},
): Promise<"none" | "settled" | "queued"> {
  const [d] = await deps.db.select().from(deployments).where(eq(deployments.id, deploymentId));
  if (d?.status !== "committing") return "none";
  if (opts.landedOnly && !d.pushShas.length) return "none";
  // Git errors (remote unreachable) fail the job: it is retried, the question cannot be answered without the remote.
  const landed = await landedCommit(deps, d).catch((err: unknown) => {
    if (err instanceof InputError) return null; // GitOps turned off or repository gone: nothing can have landed there
    throw err;
  });
  if (opts.landedOnly && !landed) return "none";
  const requeued = landed ? 0 : await requeueCount(deps.db, deploymentId);
  return mutate(deps, system, { action: "deployment.commit", resourceType: "deployment" }, async (tx, audit) => {
    audit.resourceId = d.id;
    audit.projectId = d.projectId;
    const now = deps.clock.now();
    const row = await loadForUpdate(tx, d.id);
    if (row.status !== "committing" || row.pushShas.length !== d.pushShas.length) {
      audit.unchanged = true;
      return "none" as const;
    }
    if (landed) {
      const done = await applyEvent(tx, row, "commit_succeeded", {
        now,
        message: `found its commit ${landed.slice(0, 12)} on ${row.branch ?? "the branch"} after an interrupted run`,
        set: { commitSha: landed, error: null },
      });
      if (done.method === "rollback" && done.rollbackOfId) await markRolledBack(tx, done, now);
      await notifyDeployment(tx, done, "deployment.committed", [done.requestedById], {
        actorId: null,
        extra: { commitSha: landed.slice(0, 12), branch: done.branch },
      });
      audit.changes = { after: { commit: landed, recovered: true } };
      return "settled" as const;
    }
    if (requeued === 0) {
      await applyEvent(tx, row, "requeue", {
        now,
        message: "the server stopped while committing and its commit is not on the branch: trying once more",
      });
      audit.changes = { after: { status: "queued", recovered: true } };
      return "queued" as const;
    }
    const reason =
      "The server stopped twice while committing this deployment and its commit is not on the branch: nothing was pushed. Deploy again.";
    const failed = await applyEvent(tx, row, "commit_failed", { now, message: reason, set: { error: reason } });
    audit.changes = { after: { status: "failed", error: reason } };
    await notifyDeployment(tx, failed, "deployment.failed", [failed.requestedById], {
      actorId: null,
      extra: { stage: "commit" },
    });
    return "settled" as const;
  });
}

/**
 * A commit run that failed after a push: the push may have landed all the same (its answer was lost, or
 * repeated and refused). True when its commit is on the branch and the deployment is now committed.
 */
export async function settledIfLanded(deps: GitOpsDeps, deploymentId: string): Promise<boolean> {
  const outcome = await reconcileCommitting(deps, deploymentId, { landedOnly: true }).catch(() => "none" as const);
  return outcome === "settled";
}

/** The `deployment.commit` job: an interrupted earlier run is reconciled first, then the commit is made. */
export async function runCommitJob(deps: GitOpsDeps, deploymentId: string): Promise<void> {
  if ((await reconcileCommitting(deps, deploymentId)) === "settled") return;
  await commitDeployment(deps, deploymentId);
  const [d] = await deps.db.select().from(deployments).where(eq(deployments.id, deploymentId));
  if (d?.status === "committed") await nudgeFlux(deps, d.environmentId);
}

/**
 * Safety net (scheduler): deployments in queued or committing that have no commit job that can still
 * run (removed, or out of attempts after repeated crashes) get one again. Returns how many.
 */
export async function requeueOrphanedCommits(deps: Pick<GitOpsDeps, "db">): Promise<number> {
  const stuck = await deps.db.execute<{ id: string; repository_id: string }>(sql`
    select d.id, d.repository_id from deployments d
    where d.status in ('queued', 'committing') and d.method in ('gitops-ui', 'rollback')
      and d.updated_at < now() - ${`${Math.round(STUCK_AFTER_MS / 1000)} seconds`}::interval
      and not exists (
        select 1 from graphile_worker.jobs j
        where j.key = 'deployment.commit:' || d.id::text and (j.locked_at is not null or j.attempts < j.max_attempts))`);
  for (const d of stuck.rows) await enqueueCommitJob(deps.db, d.id, d.repository_id);
  return stuck.rows.length;
}

/** The commit job (same key and queue as the first one): replaces a finished or exhausted one. */
async function enqueueCommitJob(db: Executor, deploymentId: string, repositoryId: string | null): Promise<void> {
  await db.execute(
    sql`select graphile_worker.add_job('deployment.commit', ${JSON.stringify({ deploymentId })}::json,
      queue_name => ${`repo:${repositoryId}`}, job_key => ${commitJobKey(deploymentId)}, max_attempts => 3)`,
  );
}

/** Only environment administrators (see the README): org admins, project owners and maintainers, admin grants. */
async function authorizeAdmin(tx: Executor, actor: Actor, d: DeploymentRow, audit: { resourceId?: string | null }) {
  const access = await authorizeEnvironment(tx, actor, "deployment.create", d.environmentId, audit);
  if (access.permission !== "admin") {
    throw new ForbiddenError(
      `Forbidden: cancelling or retrying a deployment the platform is committing requires environment admin permission (you have environment ${access.permission ?? "no"} permission)`,
      "environment admin permission",
    ).because("deployments.recovery_admin");
  }
  return access;
}

async function refuseWhileRunning(db: Executor, d: DeploymentRow): Promise<void> {
  if (await jobRunning(db, commitJobKey(d.id), LIVENESS.staleMs)) {
    throw new ConflictError("This deployment is being committed right now: wait for it to finish").because(
      "deployments.committing",
    );
  }
}

/**
 * Cancels a deployment stuck in `committing` (administrators). Refused while a live worker is committing
 * it, and when its commit is already on the branch (then retry records it as committed).
 */
export async function cancelCommittingDeployment(
  deps: GitOpsDeps,
  actor: Actor,
  deploymentId: string,
): Promise<DeploymentDetail> {
  const [before] = await deps.db.select().from(deployments).where(eq(deployments.id, deploymentId));
  // Read before the transaction (Git I/O never holds one open); checked for a change inside it.
  const landed = before ? await landedCommit(deps, before).catch(() => null) : null;
  await mutate(deps, { actor }, { action: "deployment.cancel", resourceType: "deployment" }, async (tx, audit) => {
    const d = await loadForUpdate(tx, deploymentId);
    audit.resourceId = d.id;
    await authorizeAdmin(tx, actor, d, audit);
    if (d.status !== "committing" || d.pushShas.length !== before?.pushShas.length) {
      throw new ConflictError("The deployment changed meanwhile: reload and try again").because("changed_meanwhile");
    }
    await refuseWhileRunning(tx, d);
    if (landed) {
      throw new ConflictError(
        `Its commit ${landed.slice(0, 12)} is already on the branch, so it cannot be cancelled: retry it to record it as committed`,
      );
    }
    await applyEvent(tx, d, "cancel", { now: deps.clock.now(), message: `cancelled by ${actor.user.username}` });
    audit.changes = { before: { status: d.status }, after: { status: "cancelled" } };
  });
  return getDeployment(deps, actor, deploymentId);
}

/**
 * Retries a deployment stuck in queued or committing (administrators): its commit job is added again
 * (with fresh attempts) and, for committing, first reconciles it against the branch. Other states have
 * nothing the platform could retry: approvals wait for people, manual deployments for their reporter.
 */
export async function retryDeployment(deps: GitOpsDeps, actor: Actor, deploymentId: string): Promise<DeploymentDetail> {
  await mutate(deps, { actor }, { action: "deployment.retry", resourceType: "deployment" }, async (tx, audit) => {
    const d = await loadForUpdate(tx, deploymentId);
    audit.resourceId = d.id;
    audit.projectId = d.projectId;
    await authorizeAdmin(tx, actor, d, audit);
    if (!["queued", "committing"].includes(d.status) || !["gitops-ui", "rollback"].includes(d.method)) {
      throw InputError.field(
        "deploymentId",
        `is ${d.status.replace("_", " ")}: only a deployment waiting for or in its commit can be retried`,
      );
    }
    await refuseWhileRunning(tx, d);
    await enqueueCommitJob(tx, d.id, d.repositoryId);
    await tx.insert(deploymentEvents).values({
      deploymentId: d.id,
      fromStatus: d.status,
      toStatus: d.status,
      message: `retried by ${actor.user.username}`,
    });
    const [row] = await tx
      .update(deployments)
      .set({ updatedAt: deps.clock.now() })
      .where(eq(deployments.id, d.id))
      .returning();
    await publishChange(tx, row!);
    audit.changes = { before: { status: d.status }, after: { status: d.status, retried: true } };
  });
  return getDeployment(deps, actor, deploymentId);
}

/** Whether the deployment is stuck where an administrator may cancel or retry it (shown on its page). */
export function isStuck(d: DeploymentRow, now: Date): boolean {
  return (
    ["queued", "committing"].includes(d.status) &&
    ["gitops-ui", "rollback"].includes(d.method) &&
    now.getTime() - d.updatedAt.getTime() >= STUCK_AFTER_MS
  );
}
