import type { DeploymentDetail } from "@juanie/contracts";
import { deploymentEvents, deployments, type Executor, environments, repositories, users } from "@juanie/db";
import { type FileAccess, type FileChanges, GitError } from "@juanie/git";
import {
  type DeploySpec,
  defaultCommitMessage,
  detectConflicts,
  filesFromRecord,
  ManifestError,
  planVerifiedDeploy,
  type RenderCheck,
  type RepoFiles,
  renderedDeployValues,
  unifiedDiff,
  type WorkloadKind,
} from "@juanie/manifests";
import { and, eq } from "drizzle-orm";
import { authorizeEnvironment, type EnvironmentRow, eligibleApprovers } from "../environments/access.ts";
import { enqueueJob } from "../jobs/queue.ts";
import { publish } from "../notifications/realtime.ts";
import { gitFailure, type RepositoryRow, remoteOf } from "../repositories/service.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { ConflictError, InputError, NotFoundError } from "../shared/errors.ts";
import { type AuditDraft, mutate } from "../shared/mutation.ts";
import { deploymentStepRefused } from "./messages.ts";
import { notifyDeployment } from "./notices.ts";
import { recordedPlatformCommits } from "./platform-commits.ts";
import { getDeployment } from "./queries.ts";
import { type DeploymentEvent, type DeploymentStatus, isDeploymentStatus, transitionDeployment } from "./state.ts";

export type DeploymentRow = typeof deployments.$inferSelect;

/** Trailer that marks the platform's own commits, so push detection does not record them twice. */
export const deploymentTrailer = "Juanie-Deployment";

// ---------------------------------------------------------------------------
// Status changes: always through the state machine, always with an event row.
// ---------------------------------------------------------------------------

export async function applyEvent(
  tx: Executor,
  d: DeploymentRow,
  event: DeploymentEvent,
  opts: { message?: string | null; now: Date; set?: Partial<typeof deployments.$inferInsert> },
): Promise<DeploymentRow> {
  const from = isDeploymentStatus(d.status) ? d.status : "pending";
  const t = transitionDeployment(from, event);
  if (!t.ok) throw deploymentStepRefused(from, event);
  const terminal = ["committed", "succeeded", "rejected", "expired", "cancelled", "failed", "rolled_back"].includes(
    t.to,
  );
  const [row] = await tx
    .update(deployments)
    .set({
      ...opts.set,
      status: t.to,
      updatedAt: opts.now,
      ...(t.to === "committing" || t.to === "running" ? { startedAt: opts.now } : {}),
      ...(terminal && !d.finishedAt ? { finishedAt: opts.now } : {}),
    })
    .where(and(eq(deployments.id, d.id), eq(deployments.status, d.status)))
    .returning();
  if (!row)
    throw new ConflictError("The deployment changed meanwhile: reload and try again").because("changed_meanwhile");
  await tx
    .insert(deploymentEvents)
    .values({ deploymentId: d.id, fromStatus: d.status, toStatus: t.to, message: opts.message ?? null });
  await publishChange(tx, row);
  return row;
}

/** Tells live views (SSE) that a deployment changed, when the transaction commits. */
export async function publishChange(tx: Executor, d: DeploymentRow): Promise<void> {
  await publish(tx, {
    type: "deployment.changed",
    deploymentId: d.id,
    projectId: d.projectId,
    environmentId: d.environmentId,
    status: d.status,
  });
}

export async function insertDeployment(
  tx: Executor,
  values: typeof deployments.$inferInsert & { status: DeploymentStatus },
  message: string | null,
): Promise<DeploymentRow> {
  const [row] = await tx.insert(deployments).values(values).returning();
  await tx
    .insert(deploymentEvents)
    .values({ deploymentId: row!.id, fromStatus: null, toStatus: values.status, message });
  await publishChange(tx, row!);
  return row!;
}

// ---------------------------------------------------------------------------
// Reading the environment's manifests
// ---------------------------------------------------------------------------

/** The YAML files of the environment's top-level directory (k8s/ …), where overlays find their bases. */
async function manifestView(files: FileAccess, envPath: string, rev?: string): Promise<RepoFiles> {
  return filesFromRecord(yamlOnly(await manifestFiles(files, envPath, rev)));
}

/** Every file of the environment's top-level directory: what a kustomize build of it may read. */
export function manifestFiles(files: FileAccess, envPath: string, rev?: string): Promise<Record<string, string>> {
  return files.readDir(envPath.split("/")[0] ?? "", rev);
}

export function yamlOnly(all: Record<string, string>): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [p, content] of Object.entries(all)) {
    if (/\.ya?ml$|(^|\/)Kustomization$/i.test(p)) record[p] = content;
  }
  return record;
}

export interface GitopsTarget {
  env: EnvironmentRow;
  repo: RepositoryRow;
  branch: string;
  path: string;
}

/** `loaded`: the environment's repository when the caller read it already. */
export async function gitopsTarget(
  db: Executor,
  env: EnvironmentRow,
  loaded?: RepositoryRow | null,
): Promise<GitopsTarget> {
  if (!env.gitopsEnabled || !env.repositoryId || !env.branch || !env.path) {
    throw InputError.field("environmentId", "has GitOps turned off: enable it and choose repository, branch and path");
  }
  const [repo] =
    loaded?.id === env.repositoryId
      ? [loaded]
      : await db.select().from(repositories).where(eq(repositories.id, env.repositoryId));
  if (!repo) throw InputError.field("environmentId", "points at a repository that is no longer connected");
  return { env, repo, branch: env.branch, path: env.path };
}

export function manifestFailure(err: unknown): never {
  if (err instanceof ManifestError) {
    const specField = (field: string) => (field ? `spec.${field}` : "spec");
    if (err.fieldErrors) {
      const fieldErrors = Object.entries(err.fieldErrors).map(([field, rules]) => [specField(field), rules]);
      throw new InputError(err.message, Object.fromEntries(fieldErrors));
    }
    // The message reads `field: rule`; under the field goes the rule alone (not `spec.replicas replicas: …`).
    const field = err.field ?? "";
    const rule = field && err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message;
    throw new InputError(err.message, { [specField(field)]: [rule] });
  }
  if (err instanceof GitError) throw gitFailure(err);
  throw err;
}

/**
 * The edit a UI deployment makes: the same function for the preview and for the commit. `rendered` is
 * what the request rendered on `baseSha`: on that same head the edit gives exactly that, so it is used as is.
 */
export function deployEdit(
  deps: GitOpsDeps,
  target: GitopsTarget,
  spec: DeploySpec,
  baseSha: string | null,
  rendered?: FileChanges,
) {
  return async (files: FileAccess): Promise<FileChanges> => {
    if (rendered && baseSha && files.head === baseSha) return rendered;
    const all = await manifestFiles(files, target.path);
    const head = filesFromRecord(yamlOnly(all));
    if (baseSha && files.head !== baseSha) {
      // The branch moved since the preview: refuse when someone changed the same fields differently.
      const base = await conflictBase(deps.db, files, target, baseSha);
      if (base !== files.head) {
        const conflicts = detectConflicts(await manifestView(files, target.path, base), head, target.path, spec);
        if (conflicts.length) throw new DeploymentConflict(conflicts);
      }
    }
    // Re-applied on a moved branch: verified again against kustomize's build of the new head.
    return (await planVerifiedDeploy(all, target.path, spec, deps.gitops.kustomize)).changes;
  };
}

/**
 * Where to look for conflicting changes from. The platform's own commits since the preview (deployments
 * committed before this one, in queue order) are not someone else's change: the base moves past the run of
 * commits the platform recorded as its deployments (by SHA: a trailer in a message proves nothing) or that
 * leave the manifest directory alone. The first commit that someone else made to the manifests stops it, so
 * their changes are still checked. Read from the cached history the edit runs on (no fetch).
 */
async function conflictBase(db: Executor, files: FileAccess, target: GitopsTarget, baseSha: string): Promise<string> {
  const top = target.path.split("/")[0] ?? "";
  // Null: the base is not in this history (force-pushed away) or too far behind: compare with it as it is.
  const commits = await files.commitsSince(baseSha, 200);
  if (!commits) return baseSha;
  const ours = await recordedPlatformCommits(
    db,
    target.repo.id,
    commits.map((c) => c.sha),
  );
  let base = baseSha;
  for (const c of [...commits].reverse()) {
    const touchesManifests = c.files.some((f) => f === top || f.startsWith(`${top}/`));
    if (touchesManifests && !ours.has(c.sha)) break;
    base = c.sha;
  }
  return base;
}

/** The edit a rollback makes: the environment's path becomes exactly what it was at `sha`. */
export function restoreEdit(path: string, sha: string) {
  return async (files: FileAccess): Promise<FileChanges> => {
    const changes: FileChanges = {};
    const now = await files.readDir(path);
    const then = await files.readDir(path, sha);
    for (const p of Object.keys(now)) if (!(p in then)) changes[p] = null;
    for (const [p, content] of Object.entries(then)) if (content !== now[p]) changes[p] = content;
    return changes;
  };
}

export class DeploymentConflict extends ConflictError {
  constructor(readonly conflicts: { field: string; base: unknown; theirs: unknown; ours: unknown }[]) {
    super(
      `The branch changed the same fields meanwhile: ${conflicts
        .map((c) => `${c.field} is now ${JSON.stringify(c.theirs)}, you asked for ${JSON.stringify(c.ours)}`)
        .join("; ")}`,
    );
  }
}

// ---------------------------------------------------------------------------
// Preview and request (UI road)
// ---------------------------------------------------------------------------

export interface DeployRequest {
  environmentId: string;
  spec: DeploySpec;
  message?: string;
  /** A promotion: the deployment of another environment of the project whose values this carries on. */
  promotedFromId?: string;
}

/**
 * The change a deployment makes, rendered on the branch head: fetched first when `fetch`, else the head
 * the platform last saw (the commit job re-applies it on the then-current head anyway).
 */
async function renderDeploy(deps: GitOpsDeps, target: GitopsTarget, spec: DeploySpec, opts: { fetch: boolean }) {
  const remote = remoteOf(deps, target.repo);
  const base = { branch: target.branch, createFrom: target.repo.defaultBranch };
  // 1. The files at the head (under the clone's lock, briefly)…
  let head = "";
  let files: Record<string, string> = {};
  await deps.git
    .preview(remote, {
      ...base,
      fetch: opts.fetch,
      edit: async (access) => {
        head = access.head;
        files = await manifestFiles(access, target.path);
        return {};
      },
    })
    .catch(manifestFailure);
  // 2. …planned and verified with kustomize without holding the lock (builds take a tenth of a second
  // or more; concurrent requests and the commit job would queue behind them)…
  const plan = await planVerifiedDeploy(files, target.path, spec, deps.gitops.kustomize).catch(manifestFailure);
  // 3. …and turned into the contents and diff of the commit. A head that moved in between is planned again.
  let final = plan;
  const preview = await deps.git
    .preview(remote, {
      ...base,
      fetch: false,
      edit: async (access) => {
        if (access.head !== head) {
          final = await planVerifiedDeploy(
            await manifestFiles(access, target.path),
            target.path,
            spec,
            deps.gitops.kustomize,
          );
        }
        return final.changes;
      },
    })
    .catch(manifestFailure);
  return {
    ...preview,
    diff: unifiedDiff(preview.before, preview.after),
    fields: final.fields,
    summary: final.summary,
    render: final.render,
    target: { kind: final.kind, workload: final.workload, container: final.container },
  };
}

type RenderedDeploy = Awaited<ReturnType<typeof renderDeploy>>;

/**
 * Recent previews (this process), so that submitting what the deploy dialog has just previewed — it
 * previews as the user edits — does not render the same change on the same head again. A rendering
 * depends only on the key: environment target, branch head and spec.
 */
const recentPreviews = new Map<string, { at: number; rendered: RenderedDeploy }>();
const PREVIEW_REUSE_MS = 10 * 60_000;
const PREVIEW_REUSE_MAX = 200;

function previewKey(target: GitopsTarget, head: string, spec: DeploySpec): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify([target.env.id, target.repo.id, target.branch, target.path, head, canonical(spec)]);
}

function rememberPreview(target: GitopsTarget, spec: DeploySpec, rendered: RenderedDeploy) {
  const key = previewKey(target, rendered.head, spec);
  recentPreviews.delete(key);
  recentPreviews.set(key, { at: Date.now(), rendered });
  for (const old of recentPreviews.keys()) {
    if (recentPreviews.size <= PREVIEW_REUSE_MAX) break;
    recentPreviews.delete(old);
  }
}

/**
 * The change a request records: the dialog's recent preview of it when the platform still sees the
 * head it was rendered on, else rendered now on the freshly fetched head (an API client that did not
 * preview, another replica's preview): the base recorded is then the branch as it is.
 */
async function renderForRequest(deps: GitOpsDeps, target: GitopsTarget, spec: DeploySpec): Promise<RenderedDeploy> {
  const head = await deps.git.knownHead(remoteOf(deps, target.repo), target.branch);
  if (head) {
    const hit = recentPreviews.get(previewKey(target, head, spec));
    if (hit && Date.now() - hit.at < PREVIEW_REUSE_MS) return hit.rendered;
  }
  return renderDeploy(deps, target, spec, { fetch: true });
}

export async function previewDeployment(deps: GitOpsDeps, actor: Actor, input: DeployRequest) {
  const { env } = await authorizeEnvironment(deps.db, actor, "deployment.create", input.environmentId);
  const target = await gitopsTarget(deps.db, env);
  const r = await renderDeploy(deps, target, input.spec, { fetch: true });
  rememberPreview(target, input.spec, r);
  return {
    baseSha: r.head,
    branch: target.branch,
    path: target.path,
    diff: r.diff,
    changedFiles: r.changedFiles,
    files: Object.fromEntries(r.changedFiles.map((f) => [f, r.after[f] ?? null])),
    fields: r.fields,
    commitMessage: defaultCommitMessage(r.summary, input.message),
    approvalRequired: env.approvalRequired,
    target: r.target,
    render: renderView(r.render, `${r.target.kind}/${r.target.workload} (rendered)`),
  };
}

/** What the dialog shows of the kustomize check: the rendered workload before and after, as a diff. */
function renderView(render: RenderCheck, label: string) {
  return render.verified
    ? {
        verified: true as const,
        tool: render.tool,
        diff: unifiedDiff({ [label]: render.before }, { [label]: render.after }),
        before: render.before,
        after: render.after,
        ms: render.buildMs,
      }
    : { verified: false as const, reason: render.reason };
}

export async function requesterTrailer(db: Executor, userId: string): Promise<string> {
  const [u] = await db.select().from(users).where(eq(users.id, userId));
  return u ? `${u.displayName} <${u.email}>` : userId;
}

/** Starts a deployment: either queued for commit now, or waiting for approvals. Nothing is pushed here. */
export async function startDeployment(
  deps: GitOpsDeps,
  tx: Executor,
  actor: Actor,
  env: EnvironmentRow,
  values: typeof deployments.$inferInsert,
): Promise<DeploymentRow> {
  const now = deps.clock.now();
  if (!env.approvalRequired) {
    // pending → queued at once: inserted queued, with both event rows (the common path, kept short).
    const submitted = transitionDeployment("pending", "submit");
    if (!submitted.ok) throw new Error(`state machine: ${submitted.error}`);
    const [row] = await tx
      .insert(deployments)
      .values({ ...values, status: submitted.to })
      .returning();
    await tx.insert(deploymentEvents).values([
      { deploymentId: row!.id, fromStatus: null, toStatus: "pending" },
      { deploymentId: row!.id, fromStatus: "pending", toStatus: submitted.to },
    ]);
    await publishChange(tx, row!);
    await enqueueCommit(tx, row!);
    return row!;
  }
  const d = await insertDeployment(tx, { ...values, status: "pending" }, null);
  const row = await applyEvent(tx, d, "request_approval", {
    now,
    message: `${env.minApprovals} approval(s) required`,
    // The rule in force now is the rule of this request, whatever the environment's settings become.
    set: {
      approvalExpiresAt: new Date(now.getTime() + deps.gitops.approvalTtlHours * 3600_000),
      requiredApprovals: env.minApprovals,
    },
  });
  // Everyone who may approve deployments to this environment, except the requester.
  await notifyDeployment(tx, row, "deployment.approval_requested", await eligibleApprovers(tx, env), {
    actorId: actor.user.id,
    extra: { requiredApprovals: env.minApprovals },
  });
  return row;
}

export async function enqueueCommit(tx: Executor, d: DeploymentRow): Promise<void> {
  // One queue per repository: every write to it runs one after another, across replicas.
  await enqueueJob(
    tx,
    "deployment.commit",
    { deploymentId: d.id },
    {
      queueName: `repo:${d.repositoryId}`,
      jobKey: `deployment.commit:${d.id}`,
      maxAttempts: 3,
    },
  );
}

/** A change rendered before the transaction that records it, with the access decision it was rendered under. */
type Rendered<T> =
  | { ok: true; value: T; target: GitopsTarget; access: Awaited<ReturnType<typeof authorizeEnvironment>> }
  | { ok: false; error: unknown }
  | null;

/**
 * Authorizes, then renders, before the transaction: reading Git (and fetching, when it must) never
 * holds a database transaction open. Nothing is rendered for an actor who may not deploy to the
 * environment (null): the transaction then denies and audits the request as usual. A rendering error
 * is kept, to be thrown inside the transaction, where it is audited.
 */
export async function renderBeforeTx<T>(
  deps: GitOpsDeps,
  actor: Actor,
  environmentId: string,
  render: (target: GitopsTarget) => Promise<T>,
): Promise<Rendered<T>> {
  let access: Awaited<ReturnType<typeof authorizeEnvironment>>;
  try {
    access = await authorizeEnvironment(deps.db, actor, "deployment.create", environmentId);
  } catch {
    return null;
  }
  let target: GitopsTarget;
  try {
    target = await gitopsTarget(deps.db, access.env);
    return { ok: true, value: await render(target), target, access };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Inside the transaction: the environment as authorized and rendered for, or the audited denial (or
 * rendering error) when there is none. The decision is the one taken just before, as for any check
 * made ahead of a write under read-committed isolation.
 */
export async function authorizedRendering<T>(
  tx: Executor,
  actor: Actor,
  environmentId: string,
  rendered: Rendered<T>,
  audit: AuditDraft,
): Promise<{ env: EnvironmentRow; target: GitopsTarget; value: T }> {
  if (rendered?.ok) {
    audit.organizationId = rendered.access.project.organizationId;
    audit.projectId = rendered.access.project.id;
    return { env: rendered.access.env, target: rendered.target, value: rendered.value };
  }
  // Denied (audited as such), or not found.
  await authorizeEnvironment(tx, actor, "deployment.create", environmentId, audit);
  if (rendered && !rendered.ok) throw rendered.error;
  throw new ConflictError("The environment's access or GitOps settings changed meanwhile: please try again").because(
    "changed_meanwhile",
  );
}

export async function requestDeployment(
  deps: GitOpsDeps,
  actor: Actor,
  input: DeployRequest,
): Promise<DeploymentDetail> {
  // The commit job re-applies the change on whatever the head is by then.
  const requestedBy = requesterTrailer(deps.db, actor.user.id);
  requestedBy.catch(() => {}); // awaited in the transaction; a failure surfaces there
  const rendered = await renderBeforeTx(deps, actor, input.environmentId, (target) =>
    renderForRequest(deps, target, input.spec),
  );
  const id = await mutate(
    deps,
    { actor },
    { action: "deployment.request", resourceType: "deployment" },
    async (tx, audit) => {
      const { env, target, value: r } = await authorizedRendering(tx, actor, input.environmentId, rendered, audit);
      if (!r.changedFiles.length)
        throw InputError.field("spec", "changes nothing: the environment already has these values");
      const source = input.promotedFromId ? await promotionSourceOf(tx, env, input.promotedFromId) : null;
      const d = await startDeployment(deps, tx, actor, env, {
        projectId: env.projectId,
        environmentId: env.id,
        repositoryId: target.repo.id,
        method: "gitops-ui",
        status: "pending",
        request: {
          spec: input.spec,
          // The workload and container the change was rendered for (the spec may leave them to defaults).
          target: r.target,
          renderVerified: r.render.verified ? r.render.tool : null,
          message: input.message ?? null,
          requestedBy: await requestedBy,
          // The changed files as rendered on baseSha (null: deleted).
          rendered: r.after,
        },
        fields: r.fields,
        diff: r.diff,
        version: typeof input.spec.image === "string" ? (input.spec.image.split(":").pop() ?? null) : null,
        branch: target.branch,
        path: target.path,
        baseSha: r.head,
        commitMessage: defaultCommitMessage(r.summary, input.message),
        requestedById: actor.user.id,
        promotedFromId: source?.id ?? null,
      });
      audit.resourceId = d.id;
      audit.changes = {
        after: {
          environment: env.name,
          status: d.status,
          fields: r.fields.map((f) => f.field),
          ...(source ? { promotedFrom: { number: source.number, environment: source.environmentName } } : {}),
        },
      };
      return d.id;
    },
  );
  // Authorized above (a denial never gets here): the answer does not check again.
  return getDeployment(deps, actor, id, rendered?.ok ? rendered.access : undefined);
}

/** The deployment a promotion carries on: one of another environment of the same project. */
async function promotionSourceOf(tx: Executor, env: EnvironmentRow, id: string) {
  const [source] = await tx
    .select({
      id: deployments.id,
      number: deployments.number,
      environmentId: deployments.environmentId,
      environmentName: environments.name,
    })
    .from(deployments)
    .innerJoin(environments, eq(environments.id, deployments.environmentId))
    .where(and(eq(deployments.id, id), eq(deployments.projectId, env.projectId)));
  if (!source) throw InputError.field("promotedFromId", "must be a deployment of this project");
  if (source.environmentId === env.id) {
    throw InputError.field(
      "promotedFromId",
      "must be a deployment of another environment: a promotion moves values on",
    );
  }
  return source;
}

export async function loadForUpdate(tx: Executor, deploymentId: string): Promise<DeploymentRow> {
  const [d] = await tx.select().from(deployments).where(eq(deployments.id, deploymentId)).for("update");
  if (!d) throw new NotFoundError("Deployment");
  return d;
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/**
 * What the environment runs according to its branch — as kustomize renders it — for one workload and
 * container (the first ones unless chosen): prefills the deploy form.
 */
export async function getDeployableValues(
  deps: GitOpsDeps,
  actor: Actor,
  input: { environmentId: string; kind?: WorkloadKind; workload?: string; container?: string },
) {
  const { env } = await authorizeEnvironment(deps.db, actor, "project.read", input.environmentId);
  const target = await gitopsTarget(deps.db, env);
  const remote = remoteOf(deps, target.repo);
  const branches = await deps.git.listBranches(remote).catch((err: unknown) => manifestFailure(err));
  const ref = branches.some((b) => b.name === target.branch) ? target.branch : target.repo.defaultBranch;
  const head = await deps.git.fetchBranch(remote, ref).catch((err: unknown) => manifestFailure(err));
  const files = await deps.git
    .readFiles(remote, head, target.path.split("/")[0] ?? "")
    .catch((err: unknown) => manifestFailure(err));
  try {
    const { render, ...values } = await renderedDeployValues(
      files,
      target.path,
      { kind: input.kind, workload: input.workload, container: input.container },
      deps.gitops.kustomize,
    );
    return {
      branch: target.branch,
      branchExists: ref === target.branch,
      head,
      values,
      render: render.verified
        ? { verified: true as const, tool: render.tool }
        : { verified: false as const, reason: render.reason },
    };
  } catch (err) {
    return manifestFailure(err);
  }
}
