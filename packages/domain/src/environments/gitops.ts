import { clusters, environments, gitopsResources, projects, repositories } from "@juanie/db";
import { and, eq } from "drizzle-orm";
import { type GitOpsObjectsInput, KubeCallError, type ObjectRef } from "../clusters/port.ts";
import { accessOf, clusterFailure, loadCluster } from "../clusters/service.ts";
import { publish } from "../notifications/realtime.ts";
import { remoteOf } from "../repositories/service.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { ConflictError, InputError } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";
import { authorizeEnvironment, type EnvironmentRow } from "./access.ts";

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes-safe name from free text: lowercase, '-' for anything else, at most 63 characters. */
export function kubeName(...parts: string[]): string {
  const name = parts
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return name || "env";
}

/** The namespace (`<project>-<environment>` unless chosen) and the Flux object name of an environment. */
export function gitopsNames(projectSlug: string, env: Pick<EnvironmentRow, "name" | "namespace" | "fluxName">) {
  const base = kubeName(projectSlug, env.name);
  const names = { namespace: env.namespace ?? base, fluxName: env.fluxName ?? base };
  for (const [field, value] of [
    ["gitops.namespace", names.namespace],
    ["gitops.fluxName", names.fluxName],
  ] as const) {
    if (!dns1123Label.test(value) || value.length > 63) {
      throw InputError.field(
        field,
        "must be a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters",
      );
    }
  }
  return names;
}

export const gitRepositoryRef = (name: string, namespace: string): ObjectRef => ({
  apiVersion: "source.toolkit.fluxcd.io/v1",
  kind: "GitRepository",
  namespace,
  name,
});
export const kustomizationRef = (name: string, namespace: string): ObjectRef => ({
  apiVersion: "kustomize.toolkit.fluxcd.io/v1",
  kind: "Kustomization",
  namespace,
  name,
});

async function setState(
  deps: GitOpsDeps,
  env: EnvironmentRow,
  set: { gitopsState: string; gitopsError: string | null; gitopsAppliedAt?: Date },
) {
  await deps.db.transaction(async (tx) => {
    await tx
      .update(environments)
      .set({ ...set, updatedAt: deps.clock.now() })
      .where(eq(environments.id, env.id));
    await publish(tx, { type: "environment.changed", environmentId: env.id, projectId: env.projectId });
  });
}

/** The Flux objects the environment's settings call for, with the repository's credential for Flux. */
export async function gitopsObjectsFor(deps: GitOpsDeps, env: EnvironmentRow): Promise<GitOpsObjectsInput> {
  const [row] = await deps.db
    .select({ repo: repositories, project: projects, cluster: clusters })
    .from(environments)
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .innerJoin(repositories, eq(repositories.id, environments.repositoryId))
    .innerJoin(clusters, eq(clusters.id, environments.clusterId))
    .where(eq(environments.id, env.id));
  if (!row || !env.branch || !env.path)
    throw new ConflictError("The environment's GitOps settings are incomplete").because(
      "environments.gitops_incomplete",
    );
  const { repo, project, cluster } = row;
  const names = gitopsNames(project.slug, env);
  const secret = repo.authType === "none" ? "" : deps.secrets.decrypt(repo.credential);
  let credential: GitOpsObjectsInput["credential"] = { type: "none" };
  if (repo.authType === "token") credential = { type: "basic", username: repo.username ?? "git", password: secret };
  if (repo.authType === "ssh_key") {
    // Flux verifies the Git host's key too: the one the platform pinned when it connected.
    const knownHosts = await deps.git.knownHosts(remoteOf(deps, repo));
    if (!knownHosts) {
      throw new ConflictError(
        "The repository's SSH host key is not known yet: sync the repository once (or reconnect it) so Flux can verify the host",
      ).because("environments.ssh_host_key_unknown");
    }
    credential = { type: "ssh", identity: secret, knownHosts };
  }
  return {
    name: names.fluxName,
    fluxNamespace: cluster.fluxNamespace,
    targetNamespace: names.namespace,
    url: repo.url,
    branch: env.branch,
    path: env.path,
    interval: env.syncInterval,
    timeout: env.reconcileTimeout,
    prune: env.prune,
    wait: env.waitForHealth,
    suspend: !env.autoSync,
    credential,
  };
}

/** The job: applies the environment's namespace, credentials Secret, GitRepository and Kustomization. */
export async function applyEnvironmentGitOps(deps: GitOpsDeps, environmentId: string): Promise<void> {
  const [env] = await deps.db.select().from(environments).where(eq(environments.id, environmentId));
  if (!env?.gitopsEnabled || !env.clusterId) return;
  const cluster = await loadCluster(deps.db, env.clusterId);
  try {
    const input = await gitopsObjectsFor(deps, env);
    const access = accessOf(deps, cluster);
    const flux = await deps.kube.detectFlux(access, cluster.fluxNamespace);
    if (!flux.installed) {
      throw new KubeCallError(
        "not_found",
        `Flux is not installed in the cluster "${cluster.name}": install or adopt it in the organization's Clusters settings first`,
      );
    }
    await deps.kube.ensureNamespace(access, input.targetNamespace);
    await deps.kube.applyGitOps(access, input);
    await setState(deps, env, { gitopsState: "applied", gitopsError: null, gitopsAppliedAt: deps.clock.now() });
  } catch (err) {
    if (!(err instanceof KubeCallError) && !(err instanceof InputError) && !(err instanceof ConflictError)) throw err;
    await setState(deps, env, { gitopsState: "error", gitopsError: err.message });
  }
}

/** The job: removes the Flux objects of an environment that no longer runs in that cluster. */
export async function removeEnvironmentGitOps(
  deps: GitOpsDeps,
  payload: { clusterId: string; name: string; fluxNamespace: string; environmentId: string | null },
): Promise<void> {
  const [cluster] = await deps.db.select().from(clusters).where(eq(clusters.id, payload.clusterId));
  const [env] = payload.environmentId
    ? await deps.db.select().from(environments).where(eq(environments.id, payload.environmentId))
    : [];
  if (!cluster) return;
  try {
    await deps.kube.removeGitOps(accessOf(deps, cluster), { name: payload.name, fluxNamespace: payload.fluxNamespace });
    await deps.db
      .delete(gitopsResources)
      .where(
        and(
          eq(gitopsResources.clusterId, cluster.id),
          eq(gitopsResources.namespace, payload.fluxNamespace),
          eq(gitopsResources.name, payload.name),
        ),
      );
    if (env && env.gitopsState === "removing") await setState(deps, env, { gitopsState: "off", gitopsError: null });
  } catch (err) {
    if (!(err instanceof KubeCallError)) throw err;
    if (env)
      await setState(deps, env, {
        gitopsState: "error",
        gitopsError: `Removing the Flux objects failed: ${err.message}`,
      });
    else throw err;
  }
}

/**
 * What turning GitOps off (or moving the environment to another cluster) deletes: the Kustomization, its
 * GitRepository and Secret, and — when pruning is on — everything the Kustomization applied.
 */
export async function gitopsRemovalPlan(deps: GitOpsDeps, actor: Actor, environmentId: string) {
  const { env, project } = await authorizeEnvironment(deps.db, actor, "environment.manage", environmentId);
  if (!env.clusterId || env.gitopsState === "off") return { applied: false, prune: env.prune, objects: [] };
  const cluster = await loadCluster(deps.db, env.clusterId);
  const names = gitopsNames(project.slug, env);
  try {
    const inventory = await deps.kube.gitOpsInventory(accessOf(deps, cluster), {
      name: names.fluxName,
      fluxNamespace: cluster.fluxNamespace,
    });
    return {
      applied: true,
      prune: env.prune,
      cluster: cluster.name,
      fluxObjects: [
        { kind: "Kustomization", namespace: cluster.fluxNamespace, name: names.fluxName },
        { kind: "GitRepository", namespace: cluster.fluxNamespace, name: names.fluxName },
        { kind: "Secret", namespace: cluster.fluxNamespace, name: `${names.fluxName}-git-auth` },
      ],
      objects: env.prune ? inventory : [],
    };
  } catch (err) {
    throw clusterFailure(err, cluster);
  }
}

type FluxAction = "sync" | "sync_with_source" | "suspend" | "resume";

/**
 * Sync now (with or without the source), suspend, resume: checked against the environment's deploy
 * permission and audited. An unreachable cluster is an error and changes nothing.
 */
export async function runEnvironmentFluxAction(
  deps: GitOpsDeps,
  actor: Actor,
  input: { environmentId: string; action: FluxAction },
): Promise<{ token: string | null }> {
  const { env, project, cluster } = await mutate(
    deps,
    { actor },
    { action: `environment.flux.${input.action}`, resourceType: "environment" },
    async (tx, audit) => {
      const r = await authorizeEnvironment(tx, actor, "deployment.create", input.environmentId, audit);
      if (!r.env.clusterId || !r.env.gitopsEnabled) {
        throw new ConflictError("This environment does not run in a cluster: bind it to a cluster first").because(
          "environments.no_cluster",
        );
      }
      audit.unchanged = true;
      const c = await loadCluster(tx, r.env.clusterId);
      return { ...r, cluster: c };
    },
  );
  const names = gitopsNames(project.slug, env);
  const ref = kustomizationRef(names.fluxName, cluster.fluxNamespace);
  let token: string | null;
  try {
    const access = accessOf(deps, cluster);
    token =
      input.action === "sync" || input.action === "sync_with_source"
        ? await deps.kube.requestReconcile(access, ref, input.action === "sync_with_source")
        : await deps.kube.setSuspended(access, ref, input.action === "suspend");
  } catch (err) {
    const failure = clusterFailure(err, cluster);
    await mutate(
      deps,
      { actor },
      { action: `environment.flux.${input.action}`, resourceType: "environment" },
      async (_tx, audit) => {
        audit.resourceId = env.id;
        audit.projectId = env.projectId;
        audit.organizationId = project.organizationId;
        throw failure;
      },
    ).catch(() => {});
    throw failure;
  }
  await mutate(
    deps,
    { actor },
    { action: `environment.flux.${input.action}`, resourceType: "environment" },
    async (tx, audit) => {
      audit.resourceId = env.id;
      audit.projectId = env.projectId;
      audit.organizationId = project.organizationId;
      audit.changes = { after: { kustomization: `${ref.namespace}/${ref.name}`, token } };
      if (input.action === "suspend" || input.action === "resume") {
        await tx
          .update(environments)
          .set({ autoSync: input.action === "resume", updatedAt: deps.clock.now() })
          .where(eq(environments.id, env.id));
      }
      if (token) {
        await tx
          .update(gitopsResources)
          .set({ requestedAt: token })
          .where(
            and(
              eq(gitopsResources.clusterId, cluster.id),
              eq(gitopsResources.kind, "Kustomization"),
              eq(gitopsResources.namespace, ref.namespace),
              eq(gitopsResources.name, ref.name),
            ),
          );
      }
      await publish(tx, { type: "environment.changed", environmentId: env.id, projectId: env.projectId });
    },
  );
  return { token };
}

/**
 * Asks Flux to fetch and apply now (a new commit reached the environment's branch): without it Flux would
 * see the commit only at its next interval. Best effort — the interval still applies when the cluster
 * cannot be reached; nothing is recorded as applied until Flux reports it.
 */
export async function nudgeFlux(deps: GitOpsDeps, environmentId: string): Promise<void> {
  const [row] = await deps.db
    .select({ env: environments, slug: projects.slug, cluster: clusters })
    .from(environments)
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .innerJoin(clusters, eq(clusters.id, environments.clusterId))
    .where(eq(environments.id, environmentId));
  if (!row?.env.gitopsEnabled || !row.env.autoSync || row.env.gitopsState !== "applied") return;
  const ref = kustomizationRef(gitopsNames(row.slug, row.env).fluxName, row.cluster.fluxNamespace);
  try {
    await deps.kube.requestReconcile(accessOf(deps, row.cluster), ref, true);
  } catch (err) {
    if (!(err instanceof KubeCallError)) throw err;
    deps.logger.warn(
      { environmentId, reason: err.reason },
      "could not ask Flux to reconcile now; it will at its interval",
    );
  }
}
