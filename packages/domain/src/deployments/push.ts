import { parseDuration } from "@juanie/contracts";
import { deployments, type Executor, environments, repositories, webhookDeliveries } from "@juanie/db";
import { GitError, isValidBranchName } from "@juanie/git";
import { type ProviderKind, parseWebhook, verifyGitHubSignature, verifyGitLabToken } from "@juanie/providers";
import { and, eq, isNotNull, lt, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record.ts";
import { advanceRollouts } from "../clusters/status.ts";
import { enqueueJob } from "../jobs/queue.ts";
import { remoteOf } from "../repositories/service.ts";
import type { GitOpsDeps } from "../shared/deps.ts";
import { notifyDeployment, projectKeepers } from "./notices.ts";
import { recordedPlatformCommits } from "./platform-commits.ts";
import { publishChange } from "./service.ts";

/**
 * The Git road: commits pushed to an environment's branch that touch its path become
 * `gitops-git` deployments by their author. Runs as a job in the repository's queue, started by a
 * webhook or, without one, at the environment's sync interval.
 */
export async function syncEnvironment(deps: GitOpsDeps, environmentId: string): Promise<{ recorded: number }> {
  const [env] = await deps.db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env?.gitopsEnabled || !env.repositoryId || !env.branch || !env.path) return { recorded: 0 };
  const [repo] = await deps.db.select().from(repositories).where(eq(repositories.id, env.repositoryId));
  if (!repo) return { recorded: 0 };
  const now = deps.clock.now();
  const remote = remoteOf(deps, repo);
  let head: string;
  try {
    head = await deps.git.fetchBranch(remote, env.branch);
  } catch (err) {
    if (err instanceof GitError && err.reason === "branch_not_found") {
      await deps.db.update(environments).set({ lastPolledAt: now }).where(eq(environments.id, env.id));
      return { recorded: 0 };
    }
    throw err;
  }
  if (head === env.lastSeenSha) {
    await deps.db.update(environments).set({ lastPolledAt: now }).where(eq(environments.id, env.id));
    return { recorded: 0 };
  }
  // The first look (no last seen commit yet) takes the commits made since the environment started watching
  // this branch and path (created, or moved: both set updatedAt); history from before is not a deployment.
  // Not "everything up to the current head": the branch may have been created, or pushed to, before the
  // first look, and those pushes would be lost. Git dates have whole seconds: a commit of the very second
  // the watch started counts as history.
  const watchingSince = env.lastSeenSha ? null : Math.floor(env.updatedAt.getTime() / 1000) * 1000 + 1000;
  let commits: Awaited<ReturnType<typeof deps.git.log>>;
  try {
    commits = await deps.git.log(remote, env.branch, {
      since: env.lastSeenSha ?? undefined,
      path: env.path,
      limit: 200,
    });
    if (watchingSince !== null) commits = commits.filter((c) => Date.parse(c.committedAt) >= watchingSince);
  } catch (err) {
    // The last seen commit is gone (a force-push rewrote history): start again from the new head.
    if (!(err instanceof GitError) || err.reason !== "unknown") throw err;
    deps.logger.warn(
      { environmentId: env.id, lastSeenSha: env.lastSeenSha },
      "branch history rewritten; push detection restarts",
    );
    await deps.db.update(environments).set({ lastSeenSha: head, lastPolledAt: now }).where(eq(environments.id, env.id));
    return { recorded: 0 };
  }
  let recorded = 0;
  // The platform's own commits are deployments already: known by the SHA it recorded, never by a trailer
  // (anyone can write `Juanie-Deployment:` into a message). Commit jobs run in this repository's queue
  // too, so a commit the platform pushed is recorded before this runs.
  const ours = await recordedPlatformCommits(
    deps.db,
    repo.id,
    commits.map((c) => c.sha),
  );
  await deps.db.transaction(async (tx) => {
    // Oldest first, so the history reads in push order.
    for (const c of [...commits].reverse()) {
      if (ours.has(c.sha)) continue; // the platform's own commit, already a deployment
      const message = [c.subject, c.body].filter(Boolean).join("\n\n");
      const [row] = await tx
        .insert(deployments)
        .values({
          projectId: env.projectId,
          environmentId: env.id,
          repositoryId: repo.id,
          method: "gitops-git",
          status: "committed",
          request: { files: c.files.filter((f) => f === env.path || f.startsWith(`${env.path}/`)) },
          branch: env.branch,
          path: env.path,
          commitSha: c.sha,
          commitMessage: message,
          commitAuthorName: c.authorName,
          commitAuthorEmail: c.authorEmail,
          bypassedApproval: env.approvalRequired,
          createdAt: new Date(c.committedAt),
          finishedAt: new Date(c.committedAt),
        })
        .onConflictDoNothing()
        .returning();
      if (row) {
        await recordObserved(tx, row, c.authorName);
        await auditObserved(tx, "deployment.push", row, env, { author: c.authorName, authorEmail: c.authorEmail });
        await publishChange(tx, row);
        recorded++;
      }
    }
    await tx.update(environments).set({ lastSeenSha: head, lastPolledAt: now }).where(eq(environments.id, env.id));
  });
  return { recorded };
}

/**
 * A revision Flux applied to the environment that has no deployment record (a change made in Git that push
 * detection did not take, e.g. outside the environment's path): recorded as a `gitops-git` deployment by its
 * author, then its rollout is followed like any other.
 */
export async function recordAppliedRevision(deps: GitOpsDeps, environmentId: string, sha: string): Promise<void> {
  const [env] = await deps.db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env?.repositoryId || !env.branch || !/^[0-9a-f]{7,64}$/.test(sha)) return;
  const [existing] = await deps.db
    .select({ id: deployments.id })
    .from(deployments)
    .where(and(eq(deployments.environmentId, env.id), eq(deployments.commitSha, sha)));
  if (!existing) {
    const [repo] = await deps.db.select().from(repositories).where(eq(repositories.id, env.repositoryId));
    if (!repo) return;
    const commits = await deps.git.log(remoteOf(deps, repo), env.branch, { limit: 500 }).catch((err: unknown) => {
      if (err instanceof GitError) return [];
      throw err;
    });
    const c = commits.find((x) => x.sha === sha);
    await deps.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(deployments)
        .values({
          projectId: env.projectId,
          environmentId: env.id,
          repositoryId: repo.id,
          method: "gitops-git",
          status: "committed",
          request: { appliedByFlux: true, files: c?.files ?? [] },
          branch: env.branch,
          path: env.path,
          commitSha: sha,
          commitMessage: c ? [c.subject, c.body].filter(Boolean).join("\n\n") : null,
          commitAuthorName: c?.authorName ?? null,
          commitAuthorEmail: c?.authorEmail ?? null,
          bypassedApproval: env.approvalRequired,
          createdAt: c ? new Date(c.committedAt) : deps.clock.now(),
          finishedAt: c ? new Date(c.committedAt) : deps.clock.now(),
        })
        .onConflictDoNothing()
        .returning();
      if (row) {
        await recordObserved(tx, row, c?.authorName ?? "an unknown author");
        await auditObserved(tx, "deployment.flux_applied", row, env, {
          author: c?.authorName ?? null,
          authorEmail: c?.authorEmail ?? null,
        });
        await publishChange(tx, row);
      }
    });
  }
  await advanceRollouts(deps, env.id);
}

async function recordObserved(tx: Executor, d: typeof deployments.$inferSelect, author: string) {
  const message = d.bypassedApproval
    ? `pushed by ${author} without the environment's approvals`
    : `pushed by ${author}`;
  await tx.execute(
    sql`insert into deployment_events (deployment_id, from_status, to_status, message) values (${d.id}, 'pending', 'committed', ${message})`,
  );
}

/**
 * The audit entry of a deployment the platform observed rather than made (a push to the branch, or a
 * revision Flux applied): in the project's and its organization's log, by the commit's author as Git
 * names them (not a user account: anyone can write any author into a commit). On an environment that
 * requires approval it is `deployment.bypassed_approval`, and the project's owners and maintainers are told.
 */
async function auditObserved(
  tx: Executor,
  action: "deployment.push" | "deployment.flux_applied",
  d: typeof deployments.$inferSelect,
  env: typeof environments.$inferSelect,
  author: { author: string | null; authorEmail: string | null },
) {
  await recordAudit(tx, {
    actorId: null,
    actorLabel: (author.author || (action === "deployment.push" ? "git" : "flux")).slice(0, 200),
    action: d.bypassedApproval ? "deployment.bypassed_approval" : action,
    resourceType: "deployment",
    resourceId: d.id,
    projectId: d.projectId,
    changes: {
      after: {
        number: d.number,
        environment: env.name,
        branch: d.branch,
        commit: d.commitSha,
        ...author,
        ...(d.bypassedApproval
          ? { withoutApprovals: true, seenAs: action === "deployment.push" ? "push" : "applied by Flux" }
          : {}),
      },
    },
    result: "success",
  });
  if (d.bypassedApproval) {
    await notifyDeployment(tx, d, "deployment.bypassed_approval", await projectKeepers(tx, d.projectId), {
      actorId: null,
      extra: { author: author.author, commitSha: d.commitSha },
    });
  }
}

async function enqueueSync(tx: Executor, env: { id: string; repositoryId: string | null }) {
  await enqueueJob(
    tx,
    "environment.sync",
    { environmentId: env.id },
    {
      queueName: `repo:${env.repositoryId}`,
      jobKey: `environment.sync:${env.id}`,
      maxAttempts: 3,
    },
  );
}

/** Fallback polling: every GitOps environment whose sync interval has passed gets a sync job. */
export async function scheduleDueSyncs(deps: GitOpsDeps): Promise<number> {
  const now = deps.clock.now().getTime();
  const rows = await deps.db
    .select()
    .from(environments)
    .where(and(eq(environments.gitopsEnabled, true), isNotNull(environments.repositoryId)));
  let n = 0;
  for (const env of rows) {
    const due = !env.lastPolledAt || env.lastPolledAt.getTime() + parseDuration(env.syncInterval) <= now;
    if (!due) continue;
    await enqueueSync(deps.db, env);
    n++;
  }
  return n;
}

export type WebhookResult = { status: number; body: { result: string; environments?: number; code?: "NOT_FOUND" } };

/**
 * A push webhook from GitHub (X-Hub-Signature-256), GitLab (X-Gitlab-Token) or a generic sender
 * (X-Hub-Signature-256 with the repository's secret). Verified over the raw body, idempotent per
 * delivery; matching environments are synced from Git itself (the payload only says "look now").
 */
export async function receiveWebhook(
  deps: GitOpsDeps,
  input: {
    kind: ProviderKind | "generic";
    repositoryId: string;
    headers: Record<string, string | undefined>;
    rawBody: Buffer;
  },
): Promise<WebhookResult> {
  const [repo] = await deps.db.select().from(repositories).where(eq(repositories.id, input.repositoryId));
  if (!repo) return { status: 404, body: { code: "NOT_FOUND", result: "unknown repository" } };
  const secret = deps.secrets.decrypt(repo.webhookSecret);
  const provider: ProviderKind = input.kind === "gitlab" ? "gitlab" : "github";
  const valid =
    provider === "gitlab"
      ? verifyGitLabToken(input.headers["x-gitlab-token"], secret)
      : verifyGitHubSignature(input.rawBody, input.headers["x-hub-signature-256"], secret);
  if (!valid) return { status: 401, body: { result: "signature mismatch" } };
  const parsed = parseWebhook(provider, input.headers, input.rawBody);
  if (parsed.kind === "invalid") return { status: 400, body: { result: parsed.reason } };
  if (parsed.kind === "ping") return { status: 200, body: { result: "pong" } };
  if (parsed.kind === "ignored") return { status: 202, body: { result: parsed.reason } };
  const event = parsed.event;
  // Signed, but still only a name: it is compared with environments' branches and may reach git.
  if (!isValidBranchName(event.branch)) {
    return { status: 400, body: { result: "ref is not a valid Git branch name" } };
  }
  return deps.db.transaction(async (tx) => {
    if (event.deliveryId) {
      const [fresh] = await tx
        .insert(webhookDeliveries)
        .values({ provider, deliveryId: event.deliveryId, repositoryId: repo.id, result: "accepted" })
        .onConflictDoNothing()
        .returning();
      if (!fresh) return { status: 200, body: { result: "duplicate delivery" } };
    }
    const envs = await tx
      .select()
      .from(environments)
      .where(
        and(
          eq(environments.repositoryId, repo.id),
          eq(environments.gitopsEnabled, true),
          eq(environments.branch, event.branch),
        ),
      );
    for (const env of envs) await enqueueSync(tx, env);
    return { status: 202, body: { result: "accepted", environments: envs.length } };
  });
}

/** How long a delivery id is remembered: hosts redeliver within days (GitHub keeps deliveries 3 days). */
export const WEBHOOK_DELIVERY_RETENTION_MS = 7 * 24 * 3600_000;

/** Forgets deliveries older than the retention, so the idempotency table does not grow forever. */
export async function pruneWebhookDeliveries(deps: Pick<GitOpsDeps, "db" | "clock">): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - WEBHOOK_DELIVERY_RETENTION_MS);
  const gone = await deps.db
    .delete(webhookDeliveries)
    .where(lt(webhookDeliveries.receivedAt, cutoff))
    .returning({ id: webhookDeliveries.deliveryId });
  return gone.length;
}
