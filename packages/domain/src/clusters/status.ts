import { clusters, deployments, environments, gitopsResources, projects } from "@juanie/db";
import {
  deploymentReadiness,
  deploymentRollout,
  type FluxResourceState,
  fluxResourceState,
  type KubeObjectLike,
  type RolloutStep,
} from "@juanie/kube/status/pure";
import { and, asc, desc, eq, inArray, isNotNull, or, sql } from "drizzle-orm";
import { notifyDeployment } from "../deployments/notices.ts";
import { applyEvent } from "../deployments/service.ts";
import type { DeploymentEvent } from "../deployments/state.ts";
import { gitopsNames } from "../environments/gitops.ts";
import { enqueueJob } from "../jobs/queue.ts";
import { publish } from "../notifications/realtime.ts";
import type { GitOpsDeps } from "../shared/deps.ts";

type EnvironmentRow = typeof environments.$inferSelect;
type ResourceRow = typeof gitopsResources.$inferSelect;
type Workload = { kind: string; name: string; ready: number; desired: number };

/** The Flux kinds whose status the platform keeps (Deployments feed their Kustomization's workloads). */
const fluxKinds = new Set(["GitRepository", "OCIRepository", "HelmRepository", "Kustomization", "HelmRelease"]);

type Bound = { env: EnvironmentRow; fluxNamespace: string; fluxName: string }[];
/**
 * Bound environments per cluster, read at most every BOUND_TTL_MS: a watch's first list delivers every
 * object of the cluster at once, and each would otherwise read them again. A binding made meanwhile is
 * seen within that time (and the environment's own apply job re-reads it).
 */
const boundCache = new Map<string, { at: number; value: Promise<Bound> }>();
const BOUND_TTL_MS = 2_000;

function boundEnvironments(deps: GitOpsDeps, clusterId: string, maxAgeMs = BOUND_TTL_MS): Promise<Bound> {
  const now = Date.now();
  const hit = boundCache.get(clusterId);
  if (hit && now - hit.at < maxAgeMs) return hit.value;
  const value = readBoundEnvironments(deps, clusterId);
  boundCache.set(clusterId, { at: now, value });
  value.catch(() => boundCache.delete(clusterId));
  if (boundCache.size > 1_000) boundCache.clear();
  return value;
}

async function readBoundEnvironments(deps: GitOpsDeps, clusterId: string): Promise<Bound> {
  const rows = await deps.db
    .select({ env: environments, slug: projects.slug, fluxNamespace: clusters.fluxNamespace })
    .from(environments)
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .innerJoin(clusters, eq(clusters.id, environments.clusterId))
    .where(and(eq(environments.clusterId, clusterId), eq(environments.gitopsEnabled, true)));
  return rows.map((r) => ({
    env: r.env,
    fluxNamespace: r.fluxNamespace,
    fluxName: gitopsNames(r.slug, r.env).fluxName,
  }));
}

/**
 * One watch event from a cluster, applied to the platform's state: the `gitops_resources` row of a Flux
 * object, the workloads of a Kustomization, and the rollout of the deployments of the environment it
 * belongs to. Idempotent: replaying an event (a re-list) changes nothing more.
 */
export async function ingestClusterEvent(
  deps: GitOpsDeps,
  clusterId: string,
  event: { type: "upsert" | "delete"; kind: string; object: KubeObjectLike },
): Promise<void> {
  if (event.kind === "Deployment") return ingestWorkload(deps, clusterId, event.type, event.object);
  if (!fluxKinds.has(event.kind)) return;
  const state = fluxResourceState(event.object);
  const find = (bound: Bound) => bound.find((b) => b.fluxNamespace === state.namespace && b.fluxName === state.name);
  // An object of no known environment may be one just bound: look again, at most every 200 ms.
  const owner = find(await boundEnvironments(deps, clusterId)) ?? find(await boundEnvironments(deps, clusterId, 200));
  const key = and(
    eq(gitopsResources.clusterId, clusterId),
    eq(gitopsResources.kind, state.kind),
    eq(gitopsResources.namespace, state.namespace),
    eq(gitopsResources.name, state.name),
  );
  await deps.db.transaction(async (tx) => {
    if (event.type === "delete") {
      await tx.delete(gitopsResources).where(key);
    } else {
      const values = {
        clusterId,
        environmentId: owner?.env.id ?? null,
        apiVersion: state.apiVersion,
        kind: state.kind,
        namespace: state.namespace,
        name: state.name,
        uid: state.uid,
        state: state.state,
        reason: state.reason,
        message: state.message,
        artifactRevision: state.artifactRevision,
        appliedRevision: state.appliedRevision,
        attemptedRevision: state.attemptedRevision,
        requestedAt: state.requestedAt,
        lastHandledReconcileAt: state.lastHandledReconcileAt,
        lastReconcileAt: state.lastReconcileAt ? new Date(state.lastReconcileAt) : null,
        suspended: state.suspended,
        generation: state.generation,
        observedGeneration: state.observedGeneration,
        history: state.history as unknown as Record<string, unknown>[],
        inventoryCount: state.inventory.length,
        snapshot: state as unknown as Record<string, unknown>,
        updatedAt: deps.clock.now(),
      };
      await tx
        .insert(gitopsResources)
        .values(values)
        .onConflictDoUpdate({
          target: [gitopsResources.clusterId, gitopsResources.kind, gitopsResources.namespace, gitopsResources.name],
          set: values,
        });
    }
    if (owner)
      await publish(tx, { type: "environment.changed", environmentId: owner.env.id, projectId: owner.env.projectId });
  });
  if (owner) await advanceRollouts(deps, owner.env.id);
}

async function ingestWorkload(
  deps: GitOpsDeps,
  clusterId: string,
  type: "upsert" | "delete",
  object: KubeObjectLike,
): Promise<void> {
  const w = deploymentReadiness(object);
  if (!w.kustomization) return;
  const [ks] = await deps.db
    .select()
    .from(gitopsResources)
    .where(
      and(
        eq(gitopsResources.clusterId, clusterId),
        eq(gitopsResources.kind, "Kustomization"),
        eq(gitopsResources.namespace, w.kustomization.namespace),
        eq(gitopsResources.name, w.kustomization.name),
      ),
    );
  if (!ks) return;
  const id = `${w.namespace}/${w.name}`;
  const others = (ks.workloads ?? []).filter((x) => x.name !== id);
  const next: Workload[] =
    type === "delete" ? others : [...others, { kind: "Deployment", name: id, ready: w.ready, desired: w.desired }];
  next.sort((a, b) => a.name.localeCompare(b.name));
  if (JSON.stringify(next) === JSON.stringify(ks.workloads ?? [])) return;
  await deps.db.transaction(async (tx) => {
    await tx.update(gitopsResources).set({ workloads: next }).where(eq(gitopsResources.id, ks.id));
    if (ks.environmentId) {
      const [env] = await tx.select().from(environments).where(eq(environments.id, ks.environmentId));
      if (env) await publish(tx, { type: "environment.changed", environmentId: env.id, projectId: env.projectId });
    }
  });
  if (ks.environmentId) await advanceRollouts(deps, ks.environmentId);
}

const eventFor: Record<RolloutStep, DeploymentEvent | null> = {
  committed: null,
  fetched: "fetch",
  applied: "apply",
  healthy: "become_healthy",
  failed: "rollout_fail",
  superseded: "supersede",
};

function snapshotOf(row: ResourceRow | undefined): FluxResourceState | null {
  return row?.snapshot ? (row.snapshot as unknown as FluxResourceState) : null;
}

/**
 * Moves the environment's deployments along Git commit → fetched → applied → healthy (or failed /
 * superseded) from what its GitRepository, Kustomization and workloads report now. A revision Flux
 * applied that the platform has no deployment for is handed to push detection, which records it as a
 * `gitops-git` deployment (then this runs again).
 */
export async function advanceRollouts(deps: GitOpsDeps, environmentId: string): Promise<void> {
  const [env] = await deps.db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env?.clusterId) return;
  const rows = await deps.db
    .select()
    .from(gitopsResources)
    .where(and(eq(gitopsResources.environmentId, env.id), eq(gitopsResources.clusterId, env.clusterId)));
  const ks = snapshotOf(rows.find((r) => r.kind === "Kustomization"));
  const ksRow = rows.find((r) => r.kind === "Kustomization");
  const source = snapshotOf(rows.find((r) => r.kind === "GitRepository" || r.kind === "OCIRepository"));
  if (!ks && !source) return;
  const known = await deps.db
    .select({ sha: deployments.commitSha })
    .from(deployments)
    .where(and(eq(deployments.environmentId, env.id), isNotNull(deployments.commitSha)))
    .orderBy(asc(deployments.createdAt), asc(deployments.id));
  const order = known.map((k) => k.sha!);
  const open = await deps.db
    .select()
    .from(deployments)
    .where(
      and(
        eq(deployments.environmentId, env.id),
        isNotNull(deployments.commitSha),
        or(
          inArray(deployments.status, ["committed", "fetched", "applied"]),
          and(eq(deployments.status, "failed"), isNotNull(deployments.rolloutReason)),
        ),
      ),
    )
    .orderBy(desc(deployments.createdAt))
    .limit(50);
  const workloads = ksRow?.workloads?.length ? ksRow.workloads : null;
  let unknownApplied: string | null = null;
  for (const d of open) {
    const step = (d.status === "failed" ? "failed" : d.status) as RolloutStep;
    const r = deploymentRollout({
      deployment: { commitSha: d.commitSha!, step },
      source,
      kustomization: ks,
      workloads,
      order,
    });
    unknownApplied ??= r.unknownApplied;
    const event = eventFor[r.step];
    if (!r.changed || !event) continue;
    await applyRollout(deps, env, d, r.step, event, r.reason, r.message, ksRow?.workloads ?? null);
  }
  if (!open.length && ks) {
    unknownApplied = deploymentRollout({
      deployment: { commitSha: "0".repeat(40), step: "committed" },
      source,
      kustomization: ks,
      order,
    }).unknownApplied;
  }
  if (unknownApplied && env.repositoryId) {
    await enqueueJob(
      deps.db,
      "environment.sync",
      { environmentId: env.id, appliedSha: unknownApplied },
      { queueName: `repo:${env.repositoryId}`, jobKey: `environment.sync.applied:${env.id}:${unknownApplied}` },
    );
  }
}

async function applyRollout(
  deps: GitOpsDeps,
  _env: EnvironmentRow,
  d: typeof deployments.$inferSelect,
  step: RolloutStep,
  event: DeploymentEvent,
  reason: string,
  message: string | null,
  workloads: Workload[] | null,
) {
  const now = deps.clock.now();
  const set: Partial<typeof deployments.$inferInsert> = { ...(workloads ? { workloads } : {}) };
  if (step === "fetched" || step === "applied" || step === "healthy") set.fetchedAt = d.fetchedAt ?? now;
  if (step === "applied" || step === "healthy") set.appliedAt = d.appliedAt ?? now;
  if (step === "healthy") {
    set.healthyAt = now;
    set.rolloutReason = null;
    set.rolloutMessage = null;
    set.error = null;
  }
  if (step === "failed" || step === "superseded") {
    set.rolloutReason = reason;
    set.rolloutMessage = message;
  }
  if (step === "failed") set.error = `${reason}: ${message ?? "Flux reported a failure"}`;
  // Flux checks health after it applied: the revision was applied, it did not become healthy.
  if (step === "failed" && reason === "HealthCheckFailed") {
    set.fetchedAt = d.fetchedAt ?? now;
    set.appliedAt = d.appliedAt ?? now;
  }
  await deps.db.transaction(async (tx) => {
    const fresh = await applyEvent(tx, d, event, {
      now,
      message: step === "failed" ? `${reason}: ${message ?? ""}`.trim() : (message ?? reason),
      set,
    }).catch((err: unknown) => {
      // Another replica moved it first (the leader changed hands): the next event settles it.
      deps.logger.warn({ deploymentId: d.id, err: String(err) }, "rollout step not applied");
      return null;
    });
    if (fresh && step === "failed") {
      await notifyDeployment(tx, fresh, "deployment.failed", [fresh.requestedById], {
        actorId: null,
        extra: { stage: "rollout", reason },
      });
    }
  });
}

/** Rows of the environment's Flux objects (for tests and the environment view). */
export async function gitopsResourcesOf(deps: GitOpsDeps, environmentId: string) {
  return deps.db
    .select()
    .from(gitopsResources)
    .where(eq(gitopsResources.environmentId, environmentId))
    .orderBy(sql`${gitopsResources.kind}`);
}
