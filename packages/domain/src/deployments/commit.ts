// The commit job: the only place the UI road writes to Git.

import { deploymentEvents, deployments, type Executor, environments, repositories } from "@juanie/db";
import { type FileChanges, GitError } from "@juanie/git";
import type { DeploySpec } from "@juanie/manifests";
import { ManifestError, unifiedDiff } from "@juanie/manifests";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { EnvironmentRow } from "../environments/access.ts";
import { realtimeChannel } from "../notifications/realtime.ts";
import { gitFailure, type RepositoryRow, remoteOf } from "../repositories/service.ts";
import type { GitOpsDeps } from "../shared/deps.ts";
import { DomainError, InputError } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";
import { notifyDeployment } from "./notices.ts";
import { recordPushSha, settledIfLanded } from "./recovery.ts";
import {
  applyEvent,
  DeploymentConflict,
  type DeploymentRow,
  deployEdit,
  deploymentTrailer,
  gitopsTarget,
  loadForUpdate,
  restoreEdit,
} from "./service.ts";
import { transitionDeployment } from "./state.ts";

/** queued → committing, as the state machine says; checked once when the module loads. */
const startCommit = transitionDeployment("queued", "start_commit");
if (!startCommit.ok || startCommit.to !== "committing") throw new Error("state machine: queued must start_commit");

/**
 * The job takes its deployment: queued → committing, with its event row and live notification, in one
 * statement (the job runs on the critical path of every deploy). Null when it is not queued any more:
 * already handled (jobs are safe to retry), cancelled, or deleted with its environment or project.
 */
async function takeQueued(
  deps: GitOpsDeps,
  deploymentId: string,
): Promise<{ d: DeploymentRow; env: EnvironmentRow | null; repo: RepositoryRow | null } | null> {
  const now = deps.clock.now();
  const at = now.toISOString();
  // With its environment and that environment's repository, read at the same time (the status and
  // start time it reads may be those from just before the update: set below).
  // (A query builder runs each time it is awaited: made a promise once.)
  const read = Promise.resolve(
    deps.db
      .select({ d: deployments, env: environments, repo: repositories })
      .from(deployments)
      .leftJoin(environments, eq(environments.id, deployments.environmentId))
      .leftJoin(repositories, eq(repositories.id, environments.repositoryId))
      .where(eq(deployments.id, deploymentId)),
  );
  read.catch(() => {}); // awaited below once the update took the deployment
  const result = await deps.db.execute(sql`
    with taken as (
      update ${deployments} set status = 'committing', updated_at = ${at}, started_at = ${at}
      where id = ${deploymentId} and status = 'queued'
      returning id, project_id, environment_id
    ), event as (
      insert into ${deploymentEvents} (deployment_id, from_status, to_status)
      select id, 'queued', 'committing' from taken
    )
    select id, pg_notify(${realtimeChannel}, json_build_object(
      'type', 'deployment.changed', 'deploymentId', id, 'projectId', project_id,
      'environmentId', environment_id, 'status', 'committing')::text)
    from taken`);
  if (result.rows.length === 0) return null;
  const [row] = await read;
  if (!row) return null;
  return { ...row, d: { ...row.d, status: "committing", startedAt: now, updatedAt: now } };
}

export async function commitDeployment(deps: GitOpsDeps, deploymentId: string): Promise<void> {
  const now = () => deps.clock.now();
  const taken = await takeQueued(deps, deploymentId);
  if (!taken) return;
  const { d: started, env } = taken;
  const fail = async (message: string, conflict: DeploymentConflict["conflicts"] | null = null) => {
    await mutate(
      deps,
      { origin: { ip: null, userAgent: null }, actorLabel: "system" },
      { action: "deployment.commit", resourceType: "deployment" },
      async (tx, audit) => {
        audit.resourceId = started.id;
        audit.projectId = started.projectId;
        const d = await loadForUpdate(tx, started.id);
        const row = await applyEvent(tx, d, "commit_failed", {
          now: now(),
          message,
          set: { error: message, conflict },
        });
        audit.changes = { after: { status: "failed", error: message } };
        await notifyDeployment(tx, row, "deployment.failed", [row.requestedById], {
          actorId: null,
          extra: { stage: conflict ? "conflict" : "commit" },
        });
      },
    );
  };
  try {
    if (!env) throw InputError.field("environmentId", "was deleted");
    const target = await gitopsTarget(deps.db, env, taken.repo);
    const request = started.request as {
      spec?: DeploySpec;
      requestedBy?: string;
      targetSha?: string;
      rendered?: FileChanges;
      target?: { kind: string; workload: string; container: string };
    };
    const remote = remoteOf(deps, target.repo);
    const edit =
      started.method === "rollback" && request.targetSha
        ? restoreEdit(target.path, request.targetSha)
        : deployEdit(
            deps,
            target,
            request.spec ?? {},
            started.baseSha,
            // Rendered for the environment's repository, branch and path as they were then: not
            // reused if its settings were changed while the deployment waited.
            started.repositoryId === target.repo.id && started.branch === target.branch && started.path === target.path
              ? request.rendered
              : undefined,
          );
    const result = await deps.git.commit(remote, {
      branch: target.branch,
      createFrom: target.repo.defaultBranch,
      message: started.commitMessage ?? "chore(deploy): update",
      trailers: {
        "Requested-by": request.requestedBy ?? "unknown",
        ...(request.target
          ? {
              "Juanie-Workload": `${request.target.kind}/${request.target.workload}`,
              "Juanie-Container": request.target.container,
            }
          : {}),
        [deploymentTrailer]: started.id,
      },
      edit: (files) => edit(files),
      // Recorded before the push: after a crash, the branch is checked for it (recovery.ts).
      beforePush: (sha) => recordPushSha(deps, started.id, sha),
    });
    if (!result.sha) throw InputError.field("spec", "changes nothing on the current branch head");
    await mutate(
      deps,
      { origin: { ip: null, userAgent: null }, actorLabel: "system" },
      { action: "deployment.commit", resourceType: "deployment" },
      async (tx, audit) => {
        audit.resourceId = started.id;
        audit.projectId = started.projectId;
        // Still committing (nothing else moves a deployment out of it): the update checks that.
        const d = started;
        const row = await applyEvent(tx, d, "commit_succeeded", {
          now: now(),
          message: `pushed ${result.sha!.slice(0, 12)} to ${target.branch}${result.attempts > 1 ? ` after ${result.attempts} attempts` : ""}`,
          // What landed: the same change as requested, unless it was re-applied on a moved branch.
          set: { commitSha: result.sha, error: null, diff: unifiedDiff(result.before, result.after) },
        });
        audit.changes = { after: { commit: result.sha, branch: target.branch } };
        if (d.method === "rollback" && d.rollbackOfId) await markRolledBack(tx, d, now());
        await notifyDeployment(tx, row, "deployment.committed", [row.requestedById], {
          actorId: null,
          extra: { commitSha: result.sha!.slice(0, 12), branch: target.branch },
        });
      },
    );
  } catch (err) {
    // A push that seemed to fail but landed (answer lost, repeated and refused) is recorded as committed.
    if (await settledIfLanded(deps, started.id)) return;
    if (err instanceof DeploymentConflict) return fail(err.message, err.conflicts);
    if (err instanceof DomainError) return fail(err.message);
    if (err instanceof GitError) return fail(gitFailure(err).message);
    if (err instanceof ManifestError) return fail(err.message);
    await fail("internal error while committing");
    throw err;
  }
}

/** After a rollback lands, the deployments it undid are marked rolled back. */
export async function markRolledBack(tx: Executor, rollback: DeploymentRow, now: Date) {
  const [target] = await tx.select().from(deployments).where(eq(deployments.id, rollback.rollbackOfId!));
  if (!target) return;
  // Compared in SQL: a JavaScript Date drops the microseconds, and the target would count as after itself.
  const undone = await tx
    .select()
    .from(deployments)
    .where(
      and(
        eq(deployments.environmentId, rollback.environmentId),
        inArray(deployments.status, ["committed", "fetched", "applied", "healthy", "succeeded"]),
        sql`${deployments.createdAt} > (select t.created_at from deployments t where t.id = ${target.id})`,
        sql`${deployments.id} <> ${rollback.id}`,
        sql`${deployments.id} <> ${target.id}`,
      ),
    );
  for (const d of undone) await applyEvent(tx, d, "roll_back", { now, message: `rolled back by ${rollback.id}` });
}
