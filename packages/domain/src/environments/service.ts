import type { Environment, GitopsSettings } from "@juanie/contracts";
import { suggestedEnvironments } from "@juanie/contracts";
import {
  clusters,
  deployments,
  type Executor,
  environmentGrants,
  environments,
  gitopsResources,
  projects,
  repositories,
  teams,
  users,
} from "@juanie/db";
import { GitError, isValidBranchName } from "@juanie/git";
import { isSafeRepoPath } from "@juanie/manifests";
import { and, asc, desc, eq, gt, inArray, sql } from "drizzle-orm";
import { authorizeProject } from "../access/authorize.ts";
import { diffFields, recordAudit } from "../audit/record.ts";
import { assertRuleCanBeMet, possibleApprovals } from "../deployments/approvals.ts";
import { landedStatuses } from "../deployments/state.ts";
import { enqueueJob } from "../jobs/queue.ts";
import { remoteOf } from "../repositories/service.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { ConflictError, InputError, isUniqueViolation } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";
import { authorizeEnvironment, type EnvironmentRow, environmentPermissionOf } from "./access.ts";
import { gitopsNames } from "./gitops.ts";
import { environmentPathProblem } from "./paths.ts";

type EnvironmentType = EnvironmentRow["type"];

export interface EnvironmentInput {
  name: string;
  type: EnvironmentType;
  cloudProvider: string | null;
  region: string | null;
  approvalRequired: boolean;
  minApprovals: number;
  gitops: GitopsSettings;
}

/** Settings that need the database: the repository belongs to the project, branch and path are usable. */
async function validateGitops(tx: Executor, projectId: string, g: GitopsSettings) {
  if (g.branch !== null && g.branch !== "" && !isValidBranchName(g.branch)) {
    throw InputError.field("gitops.branch", "is not a valid Git branch name");
  }
  const pathProblem = g.path ? environmentPathProblem(g.path) : null;
  if (pathProblem) throw InputError.field("gitops.path", pathProblem);
  if (g.path !== null && g.path !== "" && !isSafeRepoPath(g.path)) {
    throw InputError.field("gitops.path", "must be a relative path inside the repository (no '..', no leading '/')");
  }
  if (!g.enabled) return;
  if (!g.repositoryId) throw InputError.field("gitops.repositoryId", "is required when GitOps is enabled");
  if (!g.branch) throw InputError.field("gitops.branch", "is required when GitOps is enabled");
  if (!g.path) throw InputError.field("gitops.path", "is required when GitOps is enabled");
  const [repo] = await tx
    .select({ id: repositories.id })
    .from(repositories)
    .where(and(eq(repositories.id, g.repositoryId), eq(repositories.projectId, projectId)));
  if (!repo) throw InputError.field("gitops.repositoryId", "must be a repository connected to this project");
  if (g.clusterId) {
    const [row] = await tx
      .select({ cluster: clusters.id })
      .from(projects)
      .innerJoin(clusters, eq(clusters.organizationId, projects.organizationId))
      .where(and(eq(projects.id, projectId), eq(clusters.id, g.clusterId)));
    if (!row) throw InputError.field("gitops.clusterId", "must be a cluster of the project's organization");
  }
}

/**
 * After an environment's settings changed: queue the removal of its Flux objects where it no longer runs,
 * and the (re)apply where it runs now — in the caller's transaction, so the jobs exist exactly when the
 * change does. Removing needs `confirmRemoval` (the UI shows what pruning will delete first).
 */
async function scheduleGitops(
  tx: Executor,
  before: EnvironmentRow | null,
  after: EnvironmentRow,
  projectSlug: string,
  confirmRemoval: boolean,
): Promise<Pick<EnvironmentRow, "gitopsState" | "gitopsError">> {
  const wasBound = !!before && before.gitopsEnabled && !!before.clusterId && before.gitopsState !== "off";
  const isBound = after.gitopsEnabled && !!after.clusterId;
  const names = gitopsNames(projectSlug, after);
  const oldNames = before ? gitopsNames(projectSlug, before) : null;
  const [oldCluster] = wasBound ? await tx.select().from(clusters).where(eq(clusters.id, before.clusterId!)) : [];
  const moved = wasBound && (!isBound || before.clusterId !== after.clusterId || oldNames!.fluxName !== names.fluxName);
  if (moved && oldCluster) {
    if (!confirmRemoval) {
      throw InputError.field(
        "gitops.clusterId",
        `this removes the environment's Flux objects from the cluster "${oldCluster.name}"${before.prune ? ", and with pruning on, everything they applied" : ""}: confirm the removal to continue`,
      );
    }
    await enqueueJob(
      tx,
      "environment.gitops.remove",
      {
        clusterId: oldCluster.id,
        name: oldNames!.fluxName,
        fluxNamespace: oldCluster.fluxNamespace,
        environmentId: isBound ? null : after.id,
      },
      { queueName: `cluster:${oldCluster.id}`, maxAttempts: 5 },
    );
  }
  if (isBound) {
    await enqueueJob(
      tx,
      "environment.gitops.apply",
      { environmentId: after.id },
      { queueName: `cluster:${after.clusterId}`, maxAttempts: 5 },
    );
    return { gitopsState: "applying", gitopsError: null };
  }
  if (moved) return { gitopsState: "removing", gitopsError: null };
  return { gitopsState: "off", gitopsError: null };
}

/**
 * Where push detection starts: the branch's head now, or — when the branch does not exist yet and
 * will be created from the default branch — the default branch's head. Later commits on the
 * branch that touch the path are deployments; everything before is history. Null when Git cannot
 * be reached now: the first sync then falls back to the environment's timestamps.
 */
async function pushBaseline(deps: GitOpsDeps, tx: Executor, g: GitopsSettings): Promise<string | null> {
  if (!g.enabled || !g.repositoryId || !g.branch) return null;
  const [repo] = await tx.select().from(repositories).where(eq(repositories.id, g.repositoryId));
  if (!repo) return null;
  try {
    const branches = await deps.git.listBranches(remoteOf(deps, repo));
    const head = branches.find((b) => b.name === g.branch) ?? branches.find((b) => b.name === repo.defaultBranch);
    return head?.sha ?? null;
  } catch (err) {
    if (err instanceof GitError) return null;
    throw err;
  }
}

function columns(input: EnvironmentInput) {
  const g = input.gitops;
  return {
    name: input.name,
    type: input.type,
    cloudProvider: input.cloudProvider,
    region: input.region,
    approvalRequired: input.approvalRequired,
    minApprovals: input.minApprovals,
    gitopsEnabled: g.enabled,
    repositoryId: g.repositoryId,
    branch: g.branch || null,
    path: g.path ? g.path.replace(/\/+$/, "") : null,
    syncInterval: g.syncInterval,
    autoSync: g.autoSync,
    clusterId: g.enabled ? g.clusterId : null,
    namespace: g.namespace || null,
    prune: g.prune,
    reconcileTimeout: g.timeout,
    waitForHealth: g.wait,
  };
}

/** The cluster the environment runs in and what Flux last said about its Kustomization there. */
async function liveGitops(db: Executor, env: EnvironmentRow): Promise<Pick<Environment, "cluster" | "flux">> {
  if (!env.clusterId) return { cluster: null, flux: null };
  const [row] = await db
    .select({ cluster: clusters, slug: projects.slug })
    .from(clusters)
    .innerJoin(projects, eq(projects.id, env.projectId))
    .where(eq(clusters.id, env.clusterId));
  if (!row) return { cluster: null, flux: null };
  const names = gitopsNames(row.slug, env);
  const resource = async (kind: string) => {
    const [r] = await db
      .select()
      .from(gitopsResources)
      .where(
        and(
          eq(gitopsResources.clusterId, row.cluster.id),
          eq(gitopsResources.kind, kind),
          eq(gitopsResources.namespace, row.cluster.fluxNamespace),
          eq(gitopsResources.name, names.fluxName),
        ),
      );
    return r;
  };
  const [k, source] = await Promise.all([resource("Kustomization"), resource("GitRepository")]);
  return {
    cluster: {
      id: row.cluster.id,
      name: row.cluster.name,
      simulated: row.cluster.simulated,
      status: row.cluster.status,
      namespace: names.namespace,
      fluxName: names.fluxName,
      fluxNamespace: row.cluster.fluxNamespace,
      gitopsState: env.gitopsState,
      gitopsError: env.gitopsError,
    },
    flux: k
      ? {
          state: k.state,
          reason: k.reason,
          message: k.message,
          appliedRevision: k.appliedRevision,
          artifactRevision: source?.artifactRevision ?? null,
          lastReconcileAt: k.lastReconcileAt?.toISOString() ?? null,
          suspended: k.suspended,
          syncPending: !!k.requestedAt && k.requestedAt !== k.lastHandledReconcileAt,
          workloads: k.workloads ?? [],
        }
      : null,
  };
}

async function toEnvironment(
  db: Executor,
  actor: Actor,
  env: EnvironmentRow,
  subject: Parameters<typeof environmentPermissionOf>[3],
): Promise<Environment> {
  const grants = await db.select().from(environmentGrants).where(eq(environmentGrants.environmentId, env.id));
  const userIds = grants.filter((g) => g.subjectType === "user").map((g) => g.subjectId);
  const teamIds = grants.filter((g) => g.subjectType === "team").map((g) => g.subjectId);
  const names = new Map<string, string>();
  if (userIds.length) {
    for (const u of await db.select().from(users).where(inArray(users.id, userIds))) names.set(u.id, u.username);
  }
  if (teamIds.length) {
    for (const t of await db.select().from(teams).where(inArray(teams.id, teamIds))) names.set(t.id, t.name);
  }
  const [last] = await db
    .select()
    .from(deployments)
    .where(eq(deployments.environmentId, env.id))
    .orderBy(desc(deployments.createdAt), desc(deployments.id))
    .limit(1);
  return {
    id: env.id,
    projectId: env.projectId,
    name: env.name,
    type: env.type,
    position: env.position,
    cloudProvider: env.cloudProvider,
    region: env.region,
    approvalRequired: env.approvalRequired,
    minApprovals: env.minApprovals,
    gitops: {
      enabled: env.gitopsEnabled,
      repositoryId: env.repositoryId,
      branch: env.branch,
      path: env.path,
      syncInterval: env.syncInterval,
      autoSync: env.autoSync,
      clusterId: env.clusterId,
      namespace: env.namespace,
      prune: env.prune,
      timeout: env.reconcileTimeout,
      wait: env.waitForHealth,
    },
    grants: grants.map((g) => ({
      subjectType: g.subjectType,
      subjectId: g.subjectId,
      label: names.get(g.subjectId) ?? g.subjectId,
      permission: g.permission,
    })),
    myPermission: await environmentPermissionOf(db, actor, env, subject),
    ...(await liveGitops(db, env)),
    lastDeployment: last
      ? {
          id: last.id,
          number: last.number,
          status: last.status,
          commitSha: last.commitSha,
          createdAt: last.createdAt.toISOString(),
        }
      : null,
    bypass: await bypassOf(db, env),
    landedDeployment: await landedOf(db, env),
    createdAt: env.createdAt.toISOString(),
  };
}

/** The newest deployment that reached Git: what the environment runs, and what a promotion carries on. */
async function landedOf(db: Executor, env: EnvironmentRow): Promise<Environment["landedDeployment"]> {
  const [row] = await db
    .select({ id: deployments.id, number: deployments.number })
    .from(deployments)
    .where(and(eq(deployments.environmentId, env.id), inArray(deployments.status, [...landedStatuses])))
    .orderBy(desc(deployments.number))
    .limit(1);
  return row ?? null;
}

/**
 * Commits that reached the environment without its approvals (pushed to its branch, merged at the Git
 * host) since a maintainer last acknowledged them: how many, and the newest.
 */
async function bypassOf(db: Executor, env: EnvironmentRow): Promise<Environment["bypass"]> {
  const where = and(
    eq(deployments.environmentId, env.id),
    eq(deployments.bypassedApproval, true),
    gt(deployments.number, env.bypassAcknowledgedThrough),
  );
  // The newest one and how many there are, in one query.
  const [latest] = await db
    .select({
      id: deployments.id,
      number: deployments.number,
      commitSha: deployments.commitSha,
      author: deployments.commitAuthorName,
      createdAt: deployments.createdAt,
      count: sql<number>`count(*) over ()`.mapWith(Number),
    })
    .from(deployments)
    .where(where)
    .orderBy(desc(deployments.number))
    .limit(1);
  if (!latest) return null;
  const { count: n, createdAt, ...rest } = latest;
  return { count: n, latest: { ...rest, createdAt: createdAt.toISOString() } };
}

/**
 * A maintainer has looked at the commits that bypassed the environment's approvals: the warning goes until
 * the next one. Audited with what was acknowledged.
 */
export async function acknowledgeBypass(deps: GitOpsDeps, actor: Actor, environmentId: string): Promise<Environment> {
  return mutate(
    deps,
    { actor },
    { action: "environment.acknowledge_bypass", resourceType: "environment" },
    async (tx, audit) => {
      const { env, subject } = await authorizeEnvironment(tx, actor, "environment.manage", environmentId, audit);
      const before = await bypassOf(tx, env);
      // Everything recorded so far in the project, whatever the environment: the next bypass has a higher number.
      const [project] = await tx
        .select({ seq: projects.deploymentSeq })
        .from(projects)
        .where(eq(projects.id, env.projectId));
      const [row] = await tx
        .update(environments)
        .set({ bypassAcknowledgedThrough: project?.seq ?? 0 })
        .where(eq(environments.id, env.id))
        .returning();
      audit.changes = {
        after: {
          acknowledged: before?.count ?? 0,
          latest: before ? { number: before.latest.number, commit: before.latest.commitSha } : null,
        },
      };
      return toEnvironment(tx, actor, row!, { orgRole: subject.orgRole, projectRole: subject.projectRole ?? null });
    },
  );
}

/**
 * Sets the project's promotion order: `order` lists every environment of the project once, first to last.
 * "Promote to …" offers the next one.
 */
export async function reorderEnvironments(
  deps: GitOpsDeps,
  actor: Actor,
  input: { projectId: string; order: string[] },
): Promise<Environment[]> {
  await mutate(deps, { actor }, { action: "environment.reorder", resourceType: "project" }, async (tx, audit) => {
    await authorizeProject(tx, actor, "environment.manage", input.projectId, audit);
    audit.resourceId = input.projectId;
    const rows = await tx
      .select()
      .from(environments)
      .where(eq(environments.projectId, input.projectId))
      .orderBy(asc(environments.position), asc(environments.createdAt))
      .for("update");
    const ids = new Set(rows.map((r) => r.id));
    if (new Set(input.order).size !== input.order.length) throw InputError.field("order", "lists an environment twice");
    if (input.order.length !== rows.length || input.order.some((id) => !ids.has(id))) {
      throw InputError.field("order", `must list each of the project's ${rows.length} environments once`);
    }
    const name = new Map(rows.map((r) => [r.id, r.name]));
    for (const [i, id] of input.order.entries()) {
      await tx.update(environments).set({ position: i }).where(eq(environments.id, id));
    }
    audit.changes = {
      before: { order: rows.map((r) => r.name) },
      after: { order: input.order.map((id) => name.get(id)) },
    };
  });
  return listEnvironments(deps, actor, input.projectId);
}

const typeOrder: Record<EnvironmentType, number> = { development: 0, testing: 1, staging: 2, production: 3 };

export async function listEnvironments(deps: GitOpsDeps, actor: Actor, projectId: string): Promise<Environment[]> {
  const { subject } = await authorizeProject(deps.db, actor, "project.read", projectId);
  const rows = await deps.db
    .select()
    .from(environments)
    .where(eq(environments.projectId, projectId))
    .orderBy(asc(environments.position), asc(environments.createdAt), asc(environments.name));
  const s = { orgRole: subject.orgRole, projectRole: subject.projectRole ?? null };
  return Promise.all(rows.map((r) => toEnvironment(deps.db, actor, r, s)));
}

/**
 * Where a new environment goes in the project's promotion order: after the last one of the same or an
 * earlier kind (development → testing → staging → production), the ones after it move down a place. A
 * project that reordered its environments keeps its order; the new one joins after its kind.
 */
async function positionFor(tx: Executor, projectId: string, type: EnvironmentType): Promise<number> {
  const rows = await tx
    .select({ id: environments.id, type: environments.type, position: environments.position })
    .from(environments)
    .where(eq(environments.projectId, projectId))
    .orderBy(asc(environments.position), asc(environments.createdAt));
  let at = 0;
  rows.forEach((r, i) => {
    if (typeOrder[r.type] <= typeOrder[type]) at = i + 1;
  });
  for (const [i, r] of rows.entries()) {
    const want = i < at ? i : i + 1;
    if (r.position !== want) await tx.update(environments).set({ position: want }).where(eq(environments.id, r.id));
  }
  return at;
}

/** Inserts one environment inside the caller's transaction (authorization done by the caller). */
async function insertEnvironment(
  deps: GitOpsDeps,
  tx: Executor,
  input: EnvironmentInput & { projectId: string },
): Promise<EnvironmentRow> {
  await validateGitops(tx, input.projectId, input.gitops);
  const conflict = () =>
    new ConflictError(`An environment named "${input.name}" already exists`, { name: ["is already taken"] });
  const [taken] = await tx
    .select({ id: environments.id })
    .from(environments)
    .where(and(eq(environments.projectId, input.projectId), eq(environments.name, input.name)));
  if (taken) throw conflict();
  const position = await positionFor(tx, input.projectId, input.type);
  const [env] = await tx
    .insert(environments)
    .values({
      projectId: input.projectId,
      ...columns(input),
      position,
      lastSeenSha: await pushBaseline(deps, tx, input.gitops),
    })
    .returning()
    .catch((err: unknown) => {
      throw isUniqueViolation(err) ? conflict() : err;
    });
  return env!;
}

export async function createEnvironment(
  deps: GitOpsDeps,
  actor: Actor,
  input: EnvironmentInput & { projectId: string },
): Promise<Environment> {
  return mutate(deps, { actor }, { action: "environment.create", resourceType: "environment" }, async (tx, audit) => {
    const { subject, project } = await authorizeProject(tx, actor, "environment.manage", input.projectId, audit);
    const inserted = await insertEnvironment(deps, tx, input);
    // A rule no request could meet is refused (the insert rolls back with it).
    await assertRuleCanBeMet(tx, inserted, input);
    const state = await scheduleGitops(tx, null, inserted, project.slug, false);
    const [env] = await tx.update(environments).set(state).where(eq(environments.id, inserted.id)).returning();
    if (!env) throw new ConflictError("The environment changed meanwhile: reload and try again");
    audit.resourceId = env.id;
    audit.changes = { after: columns(input) };
    return toEnvironment(tx, actor, env, { orgRole: subject.orgRole, projectRole: subject.projectRole ?? null });
  });
}

export async function updateEnvironment(
  deps: GitOpsDeps,
  actor: Actor,
  input: EnvironmentInput & { environmentId: string; confirmGitopsRemoval?: boolean },
): Promise<Environment> {
  return mutate(deps, { actor }, { action: "environment.update", resourceType: "environment" }, async (tx, audit) => {
    const { env, subject, project } = await authorizeEnvironment(
      tx,
      actor,
      "environment.manage",
      input.environmentId,
      audit,
    );
    await validateGitops(tx, env.projectId, input.gitops);
    const next = columns(input);
    // A changed rule must be one a request can meet (an unchanged one is left alone: editing the name of an
    // environment whose approvers left is not refused; its waiting requests say they are blocked).
    if (next.approvalRequired !== env.approvalRequired || next.minApprovals !== env.minApprovals) {
      await assertRuleCanBeMet(tx, env, next);
    }
    if (next.name !== env.name) {
      const [taken] = await tx
        .select({ id: environments.id })
        .from(environments)
        .where(and(eq(environments.projectId, env.projectId), eq(environments.name, next.name)));
      if (taken)
        throw new ConflictError(`An environment named "${next.name}" already exists`, { name: ["is already taken"] });
    }
    // A new branch or path starts push detection afresh from that branch's head.
    const moved = next.branch !== env.branch || next.path !== env.path || next.repositoryId !== env.repositoryId;
    const baseline = moved || !env.lastSeenSha ? await pushBaseline(deps, tx, input.gitops) : env.lastSeenSha;
    const state = await scheduleGitops(tx, env, { ...env, ...next }, project.slug, input.confirmGitopsRemoval ?? false);
    const [row] = await tx
      .update(environments)
      .set({ ...next, ...state, lastSeenSha: baseline, updatedAt: deps.clock.now() })
      .where(eq(environments.id, env.id))
      .returning();
    audit.changes = diffFields(env, next);
    return toEnvironment(tx, actor, row!, { orgRole: subject.orgRole, projectRole: subject.projectRole ?? null });
  });
}

export async function deleteEnvironment(deps: GitOpsDeps, actor: Actor, environmentId: string): Promise<void> {
  await mutate(deps, { actor }, { action: "environment.delete", resourceType: "environment" }, async (tx, audit) => {
    const { env, project } = await authorizeEnvironment(tx, actor, "environment.manage", environmentId, audit);
    // Its Flux objects leave the cluster with it (the delete dialog says so).
    await scheduleGitops(tx, env, { ...env, gitopsEnabled: false, clusterId: null }, project.slug, true);
    await tx.delete(environments).where(eq(environments.id, env.id));
    audit.changes = { before: { name: env.name, type: env.type } };
  });
}

export async function setEnvironmentGrants(
  deps: GitOpsDeps,
  actor: Actor,
  input: {
    environmentId: string;
    grants: { subjectType: "user" | "team"; subjectId: string; permission: "read" | "deploy" | "admin" }[];
  },
): Promise<Environment> {
  return mutate(
    deps,
    { actor },
    { action: "environment.set_permissions", resourceType: "environment" },
    async (tx, audit) => {
      const { env, project, subject } = await authorizeEnvironment(
        tx,
        actor,
        "environment.manage",
        input.environmentId,
        audit,
      );
      const seen = new Set<string>();
      for (const [i, g] of input.grants.entries()) {
        const key = `${g.subjectType}:${g.subjectId}`;
        if (seen.has(key)) throw InputError.field(`grants.${i}.subjectId`, "is listed twice");
        seen.add(key);
        if (g.subjectType === "team") {
          const [t] = await tx.select().from(teams).where(eq(teams.id, g.subjectId));
          if (!t || t.organizationId !== project.organizationId) {
            throw InputError.field(`grants.${i}.subjectId`, "must be a team of the project's organization");
          }
        } else {
          const [u] = await tx.select({ id: users.id }).from(users).where(eq(users.id, g.subjectId));
          if (!u) throw InputError.field(`grants.${i}.subjectId`, "must be an existing user");
        }
      }
      const before = await tx.select().from(environmentGrants).where(eq(environmentGrants.environmentId, env.id));
      await tx.delete(environmentGrants).where(eq(environmentGrants.environmentId, env.id));
      if (input.grants.length) {
        await tx.insert(environmentGrants).values(input.grants.map((g) => ({ environmentId: env.id, ...g })));
      }
      audit.changes = {
        before: { grants: before.map((g) => `${g.subjectType}:${g.subjectId}=${g.permission}`) },
        after: { grants: input.grants.map((g) => `${g.subjectType}:${g.subjectId}=${g.permission}`) },
      };
      return toEnvironment(tx, actor, env, { orgRole: subject.orgRole, projectRole: subject.projectRole ?? null });
    },
  );
}

/** The seeds' development / staging / production trio, wired to a repository: all three or none. */
export async function createSuggestedEnvironments(
  deps: GitOpsDeps,
  actor: Actor,
  input: { projectId: string; repositoryId: string | null; unchecked?: readonly string[] },
): Promise<Environment[]> {
  return mutate(deps, { actor }, { action: "environment.create", resourceType: "environment" }, async (tx, audit) => {
    const { subject } = await authorizeProject(tx, actor, "environment.manage", input.projectId, audit);
    const rows: EnvironmentRow[] = [];
    // Suggested rules are kept when they can be met, else lowered to what can be: production's two
    // approvals become one when one other person can approve; with nobody else, approvals are off (the
    // answer says so, and turning them on later is refused until someone else can approve).
    const possible = await possibleApprovals(tx, {
      id: "00000000-0000-0000-0000-000000000000",
      projectId: input.projectId,
    });
    for (const s of suggestedEnvironments) {
      const envInput: EnvironmentInput & { projectId: string } = {
        projectId: input.projectId,
        name: s.name,
        type: s.type,
        cloudProvider: null,
        region: null,
        approvalRequired: s.approvalRequired && possible > 0,
        minApprovals: Math.max(1, Math.min(s.minApprovals, possible)),
        gitops: {
          enabled: input.repositoryId !== null,
          repositoryId: input.repositoryId,
          branch: s.branch,
          path: s.path,
          syncInterval: s.syncInterval,
          autoSync: s.autoSync,
          clusterId: null,
          namespace: null,
          prune: true,
          timeout: "5m",
          wait: true,
        },
      };
      const row = await insertEnvironment(deps, tx, envInput);
      rows.push(row);
      // One audit entry per environment, exactly as if each had been created on its own.
      await recordAudit(tx, {
        actorId: actor.user.id,
        actorLabel: actor.user.username,
        ip: actor.ip,
        userAgent: actor.userAgent,
        action: "environment.create",
        resourceType: "environment",
        resourceId: row.id,
        organizationId: audit.organizationId,
        projectId: audit.projectId,
        // Kept although checking it against the repository did not pass (the user chose so).
        changes: { after: { ...columns(envInput), ...(input.unchecked?.includes(s.name) ? { unchecked: true } : {}) } },
        result: "success",
      });
    }
    audit.unchanged = true;
    const s = { orgRole: subject.orgRole, projectRole: subject.projectRole ?? null };
    const created: Environment[] = [];
    for (const r of rows) created.push(await toEnvironment(tx, actor, r, s));
    return created;
  });
}
