import type { Cluster } from "@juanie/contracts";
import { clusters, type Executor, environments, projects } from "@juanie/db";
import { and, asc, eq } from "drizzle-orm";
import { authorizeOrg } from "../access/authorize.ts";
import { diffFields } from "../audit/record.ts";
import { gitopsNames } from "../environments/gitops.ts";
import { publish } from "../notifications/realtime.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { ConflictError, InputError, isUniqueViolation, NotFoundError, UnavailableError } from "../shared/errors.ts";
import { type AuditDraft, mutate } from "../shared/mutation.ts";
import {
  type ClusterAccess,
  type ClusterCheckResult,
  KubeCallError,
  KubeconfigRejected,
  type KubeconfigSummary,
} from "./port.ts";

export type ClusterRow = typeof clusters.$inferSelect;

/** What the UI shows of a cluster: never its kubeconfig. */
export async function toCluster(db: Executor, c: ClusterRow): Promise<Cluster> {
  const bound = await db
    .select({ env: environments, projectName: projects.name, slug: projects.slug })
    .from(environments)
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .where(eq(environments.clusterId, c.id))
    .orderBy(asc(projects.name), asc(environments.name));
  return {
    id: c.id,
    organizationId: c.organizationId,
    name: c.name,
    description: c.description,
    connection: c.connection,
    context: c.context,
    server: c.server,
    status: c.status === "connected" || c.status === "error" ? c.status : "unknown",
    statusReason: c.statusReason,
    statusMessage: c.statusMessage,
    serverVersion: c.serverVersion,
    nodes: c.nodesTotal === null ? null : { total: c.nodesTotal, ready: c.nodesReady ?? 0 },
    simulated: c.simulated,
    lastCheckedAt: c.lastCheckedAt?.toISOString() ?? null,
    fluxNamespace: c.fluxNamespace,
    fluxMirrorUrl: c.fluxMirrorUrl,
    watchState: c.watchState,
    watchError: c.watchError,
    environments: bound.map((b) => ({
      id: b.env.id,
      name: b.env.name,
      projectId: b.env.projectId,
      projectName: b.projectName,
      namespace: gitopsNames(b.slug, b.env).namespace,
    })),
    createdAt: c.createdAt.toISOString(),
  };
}

/** The credentials of a cluster, decrypted for one call. */
export function accessOf(deps: Pick<GitOpsDeps, "secrets">, c: ClusterRow): ClusterAccess {
  if (c.connection === "in_cluster") return { kind: "in-cluster" };
  return { kind: "kubeconfig", kubeconfig: deps.secrets.decrypt(c.kubeconfig ?? ""), context: c.context };
}

/** A failed cluster call as the API answers it: what went wrong, in words, and that nothing changed there. */
export function clusterFailure(err: unknown, cluster: { name: string }): UnavailableError {
  if (err instanceof KubeCallError) {
    return new UnavailableError(`Cluster "${cluster.name}": ${err.message}`, err.reason);
  }
  throw err;
}

export async function loadCluster(db: Executor, clusterId: string): Promise<ClusterRow> {
  const [c] = await db.select().from(clusters).where(eq(clusters.id, clusterId));
  if (!c) throw new NotFoundError("Cluster");
  return c;
}

/** Loads the cluster and checks the actor's organization role for `action` (organization members see, admins manage). */
export async function authorizeCluster(
  db: Executor,
  actor: Actor,
  action: "cluster.read" | "cluster.manage",
  clusterId: string,
  draft?: AuditDraft,
): Promise<ClusterRow> {
  const c = await loadCluster(db, clusterId);
  if (draft) draft.resourceId = c.id;
  await authorizeOrg(db, actor, action, c.organizationId, draft);
  return c;
}

export async function listClusters(deps: GitOpsDeps, actor: Actor, organizationId: string): Promise<Cluster[]> {
  await authorizeOrg(deps.db, actor, "cluster.read", organizationId);
  const rows = await deps.db
    .select()
    .from(clusters)
    .where(eq(clusters.organizationId, organizationId))
    .orderBy(asc(clusters.name));
  return Promise.all(rows.map((r) => toCluster(deps.db, r)));
}

export async function getCluster(deps: GitOpsDeps, actor: Actor, clusterId: string): Promise<Cluster> {
  const c = await authorizeCluster(deps.db, actor, "cluster.read", clusterId);
  return toCluster(deps.db, c);
}

export type ClusterConnectionInput =
  | { type: "kubeconfig"; kubeconfig: string; context?: string | null }
  | { type: "in_cluster" };

interface Checked {
  access: ClusterAccess;
  summary: KubeconfigSummary | null;
  result: ClusterCheckResult;
}

/** Parses and checks a connection before anything is saved: a refusal names the field and the rule. */
async function checkConnection(deps: GitOpsDeps, conn: ClusterConnectionInput): Promise<Checked> {
  let access: ClusterAccess;
  let summary: KubeconfigSummary | null = null;
  if (conn.type === "in_cluster") {
    if (!deps.kube.inClusterAvailable()) {
      throw InputError.field(
        "connection.type",
        "in-cluster needs the platform to run inside a Kubernetes cluster with a service account (none was found)",
      );
    }
    access = { kind: "in-cluster" };
  } else {
    try {
      summary = deps.kube.parseKubeconfig(conn.kubeconfig, conn.context ?? null);
    } catch (err) {
      if (err instanceof KubeconfigRejected) throw InputError.field(`connection.${err.field}`, err.message);
      throw err;
    }
    access = { kind: "kubeconfig", kubeconfig: conn.kubeconfig, context: summary.context };
  }
  try {
    return { access, summary, result: await deps.kube.check(access) };
  } catch (err) {
    if (err instanceof KubeCallError) {
      const field = conn.type === "kubeconfig" ? "connection.kubeconfig" : "connection.type";
      throw new InputError(`The cluster could not be used: ${err.message}`, {
        [field]: [`could not be used: ${err.message}`],
      });
    }
    throw err;
  }
}

function checkedColumns(deps: GitOpsDeps, conn: ClusterConnectionInput, checked: Checked) {
  const now = deps.clock.now();
  return {
    connection: conn.type,
    kubeconfig: conn.type === "kubeconfig" ? deps.secrets.encrypt(conn.kubeconfig) : null,
    context: checked.summary?.context ?? null,
    server: checked.summary?.server ?? "https://kubernetes.default.svc",
    status: "connected",
    statusReason: null,
    statusMessage: null,
    serverVersion: checked.result.gitVersion,
    nodesTotal: checked.result.nodes.total,
    nodesReady: checked.result.nodes.ready,
    simulated: checked.result.simulated,
    lastCheckedAt: now,
    updatedAt: now,
  };
}

const nameTaken = (name: string) =>
  new ConflictError(`A cluster named "${name}" already exists in this organization`, { name: ["is already taken"] });

export async function registerCluster(
  deps: GitOpsDeps,
  actor: Actor,
  input: { organizationId: string; name: string; description?: string | null; connection: ClusterConnectionInput },
): Promise<Cluster> {
  // Refused early (and audited as denied) before the cluster is contacted on a non-admin's behalf.
  await mutate(deps, { actor }, { action: "cluster.register", resourceType: "cluster" }, async (tx, audit) => {
    await authorizeOrg(tx, actor, "cluster.manage", input.organizationId, audit);
    audit.unchanged = true;
  });
  const checked = await checkConnection(deps, input.connection);
  return mutate(deps, { actor }, { action: "cluster.register", resourceType: "cluster" }, async (tx, audit) => {
    await authorizeOrg(tx, actor, "cluster.manage", input.organizationId, audit);
    const [taken] = await tx
      .select({ id: clusters.id })
      .from(clusters)
      .where(and(eq(clusters.organizationId, input.organizationId), eq(clusters.name, input.name)));
    if (taken) throw nameTaken(input.name);
    const [row] = await tx
      .insert(clusters)
      .values({
        organizationId: input.organizationId,
        name: input.name,
        description: input.description ?? null,
        ...checkedColumns(deps, input.connection, checked),
      })
      .returning()
      .catch((err: unknown) => {
        throw isUniqueViolation(err) ? nameTaken(input.name) : err;
      });
    audit.resourceId = row!.id;
    audit.changes = {
      after: {
        name: row!.name,
        connection: row!.connection,
        server: row!.server,
        context: row!.context,
        serverVersion: row!.serverVersion,
      },
    };
    await publish(tx, { type: "cluster.changed", clusterId: row!.id, organizationId: row!.organizationId });
    return toCluster(tx, row!);
  });
}

export async function updateCluster(
  deps: GitOpsDeps,
  actor: Actor,
  input: {
    clusterId: string;
    name?: string;
    description?: string | null;
    connection?: ClusterConnectionInput;
    fluxMirrorUrl?: string | null;
  },
): Promise<Cluster> {
  const current = await authorizeClusterAudited(deps, actor, "cluster.update", input.clusterId);
  const checked = input.connection ? await checkConnection(deps, input.connection) : null;
  return mutate(deps, { actor }, { action: "cluster.update", resourceType: "cluster" }, async (tx, audit) => {
    const c = await authorizeCluster(tx, actor, "cluster.manage", current.id, audit);
    const next = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.fluxMirrorUrl !== undefined ? { fluxMirrorUrl: input.fluxMirrorUrl } : {}),
    };
    if (next.name && next.name !== c.name) {
      const [taken] = await tx
        .select({ id: clusters.id })
        .from(clusters)
        .where(and(eq(clusters.organizationId, c.organizationId), eq(clusters.name, next.name)));
      if (taken) throw nameTaken(next.name);
    }
    const [row] = await tx
      .update(clusters)
      .set({
        ...next,
        ...(checked && input.connection ? checkedColumns(deps, input.connection, checked) : {}),
        updatedAt: deps.clock.now(),
      })
      .where(eq(clusters.id, c.id))
      .returning();
    audit.changes = diffFields(c, { ...next, ...(checked ? { server: checked.summary?.server ?? c.server } : {}) });
    if (checked) {
      audit.changes = {
        before: { ...audit.changes?.before, credentials: "replaced" },
        after: { ...audit.changes?.after, credentials: "replaced" },
      };
    }
    await publish(tx, { type: "cluster.changed", clusterId: c.id, organizationId: c.organizationId });
    return toCluster(tx, row!);
  });
}

/** Checks the actor may manage the cluster, auditing a denial, before any network call is made for them. */
async function authorizeClusterAudited(deps: GitOpsDeps, actor: Actor, action: string, clusterId: string) {
  return mutate(deps, { actor }, { action, resourceType: "cluster" }, async (tx, audit) => {
    const c = await authorizeCluster(tx, actor, "cluster.manage", clusterId, audit);
    audit.unchanged = true;
    return c;
  });
}

export async function deleteCluster(deps: GitOpsDeps, actor: Actor, clusterId: string): Promise<void> {
  await mutate(deps, { actor }, { action: "cluster.delete", resourceType: "cluster" }, async (tx, audit) => {
    const c = await authorizeCluster(tx, actor, "cluster.manage", clusterId, audit);
    const bound = await tx
      .select({ name: environments.name, project: projects.name })
      .from(environments)
      .innerJoin(projects, eq(projects.id, environments.projectId))
      .where(eq(environments.clusterId, c.id));
    if (bound.length) {
      const names = bound.map((b) => `${b.project}/${b.name}`).join(", ");
      throw new ConflictError(
        `The cluster still runs ${bound.length} environment(s): ${names}. Move them to another cluster or turn their GitOps off first.`,
      ).because("clusters.still_used", { count: bound.length, names });
    }
    await tx.delete(clusters).where(eq(clusters.id, c.id));
    audit.changes = { before: { name: c.name, server: c.server } };
    await publish(tx, { type: "cluster.changed", clusterId: c.id, organizationId: c.organizationId });
  });
}

/** Contacts the cluster now and records what it answered (version, nodes) or why it could not be used. */
export async function checkClusterNow(deps: GitOpsDeps, actor: Actor, clusterId: string): Promise<Cluster> {
  const c = await authorizeClusterAudited(deps, actor, "cluster.check", clusterId);
  const row = await recordCheck(deps, c);
  await mutate(deps, { actor }, { action: "cluster.check", resourceType: "cluster" }, async (_tx, audit) => {
    audit.resourceId = c.id;
    audit.organizationId = c.organizationId;
    audit.changes = { after: { status: row.status, reason: row.statusReason, serverVersion: row.serverVersion } };
  });
  return toCluster(deps.db, row);
}

/** Runs the connection check and stores its outcome; used by the check button and the periodic health check. */
export async function recordCheck(deps: GitOpsDeps, c: ClusterRow): Promise<ClusterRow> {
  const now = deps.clock.now();
  let set: Partial<ClusterRow>;
  try {
    const r = await deps.kube.check(accessOf(deps, c));
    set = {
      status: "connected",
      statusReason: null,
      statusMessage: null,
      serverVersion: r.gitVersion,
      nodesTotal: r.nodes.total,
      nodesReady: r.nodes.ready,
      simulated: r.simulated,
    };
  } catch (err) {
    if (!(err instanceof KubeCallError)) throw err;
    set = { status: "error", statusReason: err.reason, statusMessage: err.message };
  }
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(clusters)
      .set({ ...set, lastCheckedAt: now, updatedAt: now })
      .where(eq(clusters.id, c.id))
      .returning();
    await publish(tx, { type: "cluster.changed", clusterId: c.id, organizationId: c.organizationId });
    return row ?? c;
  });
}
