import type { DeploymentDetail, RollbackPreview } from "@juanie/contracts";
import { deployments, users } from "@juanie/db";
import { GitError } from "@juanie/git";
import {
  diffRendered,
  displayYaml,
  kustomizeBuild,
  objectLabel,
  type RenderedObject,
  unifiedDiff,
} from "@juanie/manifests";
import { and, desc, eq, gt } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { toUserSummary } from "../auth/users.ts";
import { authorizeEnvironment } from "../environments/access.ts";
import { remoteOf } from "../repositories/service.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { NotFoundError } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";
import { deploymentRefused } from "./messages.ts";
import { getDeployment } from "./queries.ts";
import {
  authorizedRendering,
  gitopsTarget,
  manifestFailure,
  manifestFiles,
  renderBeforeTx,
  requesterTrailer,
  restoreEdit,
  startDeployment,
  yamlOnly,
} from "./service.ts";
import { isDeploymentStatus, isLanded } from "./state.ts";

const requester = alias(users, "requester");
const MAX_LISTED = 100;

// Rollback: a revert commit that makes the environment's path what it was at an earlier deployment, and the
// preview of what it undoes.

/**
 * What rolling an environment back to a deployment would undo, before anyone confirms: the deployments
 * made there since (who, when, what they changed, and whether they had landed or are still on their way),
 * the commits on the branch's path since the target's commit (pushes included), the files the rollback
 * commit would change, and the environment as kustomize renders it now and after the rollback. Changes
 * nothing.
 */
export async function previewRollback(
  deps: GitOpsDeps,
  actor: Actor,
  input: { deploymentId: string },
): Promise<RollbackPreview> {
  const [targetRow] = await deps.db.select().from(deployments).where(eq(deployments.id, input.deploymentId));
  if (!targetRow) throw new NotFoundError("Deployment");
  const { env } = await authorizeEnvironment(deps.db, actor, "deployment.create", targetRow.environmentId);
  const targetSha = targetRow.commitSha;
  if (!targetSha || !isLanded(targetRow.status)) {
    throw deploymentRefused("has no commit to return to: only committed deployments can be rolled back to");
  }
  const target = await gitopsTarget(deps.db, env);
  const remote = remoteOf(deps, target.repo);
  let current: Record<string, string> = {};
  const files = await deps.git
    .preview(remote, {
      branch: target.branch,
      createFrom: target.repo.defaultBranch,
      fetch: true,
      edit: async (access) => {
        current = yamlOnly(await manifestFiles(access, target.path));
        return restoreEdit(target.path, targetSha)(access);
      },
    })
    .catch(manifestFailure);

  const commits = await deps.git
    .log(remote, target.branch, { since: targetSha, path: target.path, limit: MAX_LISTED + 1 })
    .catch((err: unknown) => {
      // The target's commit is no longer on the branch (history rewritten): nothing to list between.
      if (err instanceof GitError) return [];
      throw err;
    });

  const newer = await deps.db
    .select({ d: deployments, requester })
    .from(deployments)
    .leftJoin(requester, eq(requester.id, deployments.requestedById))
    // Recorded after the target (numbers follow the order the platform recorded them in; a pushed commit's
    // date is its author's).
    .where(and(eq(deployments.environmentId, env.id), gt(deployments.number, targetRow.number)))
    .orderBy(desc(deployments.number))
    .limit(MAX_LISTED + 1);
  const numberBySha = new Map<string, number>();
  for (const r of newer) if (r.d.commitSha) numberBySha.set(r.d.commitSha, r.d.number);

  return {
    target: {
      id: targetRow.id,
      number: targetRow.number,
      commitSha: targetSha,
      createdAt: targetRow.createdAt.toISOString(),
    },
    environmentName: env.name,
    branch: target.branch,
    path: target.path,
    head: files.head,
    nothingToUndo: files.changedFiles.length === 0,
    deployments: newer.slice(0, MAX_LISTED).map(({ d, requester: r }) => ({
      id: d.id,
      number: d.number,
      method: d.method,
      status: isDeploymentStatus(d.status) ? d.status : "pending",
      landed: isLanded(d.status),
      author: d.commitAuthorName ?? r?.displayName ?? null,
      requestedBy: r ? toUserSummary(r) : null,
      createdAt: d.createdAt.toISOString(),
      commitSha: d.commitSha,
      commitMessage: d.commitMessage,
      version: d.version,
      fields: d.fields ?? [],
      bypassedApproval: d.bypassedApproval,
    })),
    moreDeployments: newer.length > MAX_LISTED,
    commits: commits.slice(0, MAX_LISTED).map((c) => ({
      sha: c.sha,
      subject: c.subject,
      author: c.authorName,
      committedAt: c.committedAt,
      deploymentNumber: numberBySha.get(c.sha) ?? null,
    })),
    moreCommits: commits.length > MAX_LISTED,
    changedFiles: files.changedFiles,
    diff: unifiedDiff(files.before, files.after),
    render: await renderBeforeAfter(deps, current, files.after, target.path),
  };
}

/** The environment as kustomize renders it now and with the rollback's files, object by object. */
async function renderBeforeAfter(
  deps: GitOpsDeps,
  current: Record<string, string>,
  changes: Record<string, string | null>,
  path: string,
): Promise<RollbackPreview["render"]> {
  const tool = deps.gitops.kustomize;
  if (!tool) return { verified: false, reason: "no kustomize on the platform's host" };
  const next: Record<string, string> = { ...current };
  for (const [file, content] of Object.entries(changes)) {
    if (content === null) delete next[file];
    else next[file] = content;
  }
  let before: RenderedObject[];
  let after: RenderedObject[];
  try {
    [before, after] = await Promise.all([kustomizeBuild(tool, current, path), kustomizeBuild(tool, next, path)]);
  } catch (err) {
    return { verified: false, reason: err instanceof Error ? err.message : String(err) };
  }
  const asFiles = (objects: RenderedObject[]) =>
    Object.fromEntries(objects.map((o) => [`${objectLabel(o.object)} (rendered)`, displayYaml(o.object)]));
  return {
    verified: true,
    tool: `kustomize ${tool.version}`,
    diff: unifiedDiff(asFiles(before), asFiles(after)),
    changes: diffRendered(before, after).map((c) => ({
      field: `${c.object} · ${c.path}`,
      before: c.before ?? null,
      after: c.after ?? null,
    })),
  };
}

export async function rollbackDeployment(
  deps: GitOpsDeps,
  actor: Actor,
  input: { deploymentId: string; message?: string },
): Promise<DeploymentDetail> {
  const [candidate] = await deps.db.select().from(deployments).where(eq(deployments.id, input.deploymentId));
  const targetSha = candidate?.commitSha;
  const rendered =
    candidate && targetSha && isLanded(candidate.status)
      ? await renderBeforeTx(deps, actor, candidate.environmentId, async (target) => {
          const preview = await deps.git
            .preview(remoteOf(deps, target.repo), {
              branch: target.branch,
              createFrom: target.repo.defaultBranch,
              edit: restoreEdit(target.path, targetSha),
            })
            .catch(manifestFailure);
          return { ...preview, diff: unifiedDiff(preview.before, preview.after) };
        })
      : null;
  const id = await mutate(
    deps,
    { actor },
    { action: "deployment.rollback", resourceType: "deployment" },
    async (tx, audit) => {
      const [targetRow] = await tx.select().from(deployments).where(eq(deployments.id, input.deploymentId));
      if (!targetRow) throw new NotFoundError("Deployment");
      if (!targetRow.commitSha || !isLanded(targetRow.status)) {
        await authorizeEnvironment(tx, actor, "deployment.create", targetRow.environmentId, audit);
        throw deploymentRefused("has no commit to return to: only committed deployments can be rolled back to");
      }
      const {
        env,
        target,
        value: preview,
      } = await authorizedRendering(tx, actor, targetRow.environmentId, rendered, audit);
      if (!preview.changedFiles.length)
        throw deploymentRefused("is what the environment already runs: there is nothing to roll back");
      const message = `revert(deploy): roll ${env.name} back to ${targetRow.commitSha.slice(0, 12)}${input.message ? `\n\n${input.message}` : ""}`;
      const d = await startDeployment(deps, tx, actor, env, {
        projectId: env.projectId,
        environmentId: env.id,
        repositoryId: target.repo.id,
        method: "rollback",
        status: "pending",
        request: {
          targetSha: targetRow.commitSha,
          message: input.message ?? null,
          requestedBy: await requesterTrailer(tx, actor.user.id),
        },
        diff: preview.diff,
        version: targetRow.version,
        branch: target.branch,
        path: target.path,
        baseSha: preview.head,
        commitMessage: message,
        requestedById: actor.user.id,
        rollbackOfId: targetRow.id,
      });
      audit.resourceId = d.id;
      audit.changes = { after: { environment: env.name, rollbackTo: targetRow.commitSha, status: d.status } };
      return d.id;
    },
  );
  return getDeployment(deps, actor, id);
}
