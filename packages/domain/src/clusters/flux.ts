import type { FluxOperation, FluxStatus } from "@juanie/contracts";
import { clusters, environments, fluxOperations, organizationMembers, organizations, users } from "@juanie/db";
import { and, desc, eq, inArray, isNotNull } from "drizzle-orm";
import { enqueueJob } from "../jobs/queue.ts";
import { publish } from "../notifications/realtime.ts";
import { notify } from "../notifications/service.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { ConflictError, InputError, NotFoundError } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";
import { type FluxDetection, type FluxManifestSource, type FluxProgress, KubeCallError } from "./port.ts";
import { accessOf, authorizeCluster, type ClusterRow, clusterFailure, loadCluster, recordCheck } from "./service.ts";

type OperationRow = typeof fluxOperations.$inferSelect;
type Source = "release" | "mirror" | "upload" | "flux-cli" | "operator";

async function operationsOf(deps: GitOpsDeps, clusterId: string): Promise<FluxOperation[]> {
  const rows = await deps.db
    .select({ op: fluxOperations, username: users.username })
    .from(fluxOperations)
    .leftJoin(users, eq(users.id, fluxOperations.requestedById))
    .where(eq(fluxOperations.clusterId, clusterId))
    .orderBy(desc(fluxOperations.createdAt))
    .limit(20);
  const current = rows.find((r) => r.op.status === "succeeded" && r.op.action !== "adopt")?.op.id;
  return rows.map(({ op, username }) => ({
    id: op.id,
    action: op.action,
    version: op.version,
    source: op.source,
    status: op.status,
    progress: op.progress,
    error: op.error,
    requestedBy: username,
    createdAt: op.createdAt.toISOString(),
    finishedAt: op.finishedAt?.toISOString() ?? null,
    restorable:
      op.status === "succeeded" &&
      (op.action === "install" || op.action === "upgrade") &&
      op.manifest !== null &&
      op.id !== current,
  }));
}

/** Flux as the cluster shows it now (never from a table), with the platform's operations on it. */
export async function getFluxStatus(deps: GitOpsDeps, actor: Actor, clusterId: string): Promise<FluxStatus> {
  const c = await authorizeCluster(deps.db, actor, "cluster.read", clusterId);
  const [operations, cli] = await Promise.all([operationsOf(deps, c.id), deps.kube.fluxCli()]);
  const base = { operations, fluxCli: cli !== null, namespace: c.fluxNamespace };
  try {
    const d = await deps.kube.detectFlux(accessOf(deps, c), c.fluxNamespace);
    return { ...base, ...d, reachable: true, error: null };
  } catch (err) {
    if (!(err instanceof KubeCallError)) throw err;
    return {
      ...base,
      reachable: false,
      error: err.message,
      installed: false,
      version: null,
      healthy: false,
      managedBy: "unknown",
      operator: { present: false, instance: null },
      crds: [],
      components: [],
    };
  }
}

async function detectOrFail(deps: GitOpsDeps, c: ClusterRow): Promise<FluxDetection> {
  try {
    return await deps.kube.detectFlux(accessOf(deps, c), c.fluxNamespace);
  } catch (err) {
    throw clusterFailure(err, c);
  }
}

async function assertNoOperationRunning(deps: GitOpsDeps, clusterId: string) {
  const [busy] = await deps.db
    .select({ id: fluxOperations.id, action: fluxOperations.action })
    .from(fluxOperations)
    .where(and(eq(fluxOperations.clusterId, clusterId), inArray(fluxOperations.status, ["queued", "running"])));
  if (busy) {
    throw new ConflictError(`A Flux ${busy.action} is already in progress on this cluster: wait for it to end`).because(
      "clusters.flux_busy",
    );
  }
}

/**
 * Installs Flux (or upgrades it, when the cluster already runs it) from the chosen source. The work runs
 * as a job with live progress; the manifests applied are kept, so the platform can go back to them.
 */
export async function installFlux(
  deps: GitOpsDeps,
  actor: Actor,
  input: { clusterId: string; source: Source; version?: string; manifest?: string },
): Promise<FluxOperation> {
  const c = await mutate(deps, { actor }, { action: "flux.install", resourceType: "cluster" }, async (tx, audit) => {
    const row = await authorizeCluster(tx, actor, "cluster.manage", input.clusterId, audit);
    audit.unchanged = true;
    return row;
  });
  if (input.source !== "upload" && !input.version) {
    throw InputError.field(
      "version",
      "is required to install from a release, a mirror, the flux CLI or the Flux Operator",
    );
  }
  if (input.source === "upload" && !input.manifest?.trim()) {
    throw InputError.field("manifest", "is required: upload the install.yaml of the Flux release to install");
  }
  if (input.source === "mirror" && !c.fluxMirrorUrl) {
    throw InputError.field("source", "needs the cluster's Flux mirror URL: set it in the cluster's settings first");
  }
  if (input.source === "flux-cli" && !(await deps.kube.fluxCli())) {
    throw InputError.field("source", "needs a `flux` binary on the platform's host; none was found on its PATH");
  }
  await assertNoOperationRunning(deps, c.id);
  const detected = await detectOrFail(deps, c);
  if (input.source === "operator" && !detected.operator.present) {
    throw InputError.field("source", "needs the Flux Operator in the cluster (its FluxInstance kind is not served)");
  }
  const action = detected.installed ? "upgrade" : "install";
  return enqueueOperation(deps, actor, c, {
    action,
    source: input.source,
    version: input.version ?? null,
    manifest: input.source === "upload" ? input.manifest! : null,
    before: { version: detected.version, installed: detected.installed },
  });
}

/** Goes back to the manifests of an earlier install or upgrade the platform ran. */
export async function restoreFlux(
  deps: GitOpsDeps,
  actor: Actor,
  input: { clusterId: string; operationId: string },
): Promise<FluxOperation> {
  const c = await mutate(deps, { actor }, { action: "flux.upgrade", resourceType: "cluster" }, async (tx, audit) => {
    const row = await authorizeCluster(tx, actor, "cluster.manage", input.clusterId, audit);
    audit.unchanged = true;
    return row;
  });
  const [previous] = await deps.db
    .select()
    .from(fluxOperations)
    .where(
      and(
        eq(fluxOperations.id, input.operationId),
        eq(fluxOperations.clusterId, c.id),
        eq(fluxOperations.status, "succeeded"),
        isNotNull(fluxOperations.manifest),
      ),
    );
  if (!previous) throw new NotFoundError("Earlier Flux install with kept manifests");
  await assertNoOperationRunning(deps, c.id);
  return enqueueOperation(deps, actor, c, {
    action: "upgrade",
    source: "previous",
    version: previous.version,
    manifest: previous.manifest,
    before: {},
  });
}

async function enqueueOperation(
  deps: GitOpsDeps,
  actor: Actor,
  c: ClusterRow,
  op: {
    action: OperationRow["action"];
    source: string;
    version: string | null;
    manifest: string | null;
    before: Record<string, unknown>;
  },
): Promise<FluxOperation> {
  const id = await mutate(
    deps,
    { actor },
    { action: `flux.${op.action}`, resourceType: "cluster" },
    async (tx, audit) => {
      await authorizeCluster(tx, actor, "cluster.manage", c.id, audit);
      const [row] = await tx
        .insert(fluxOperations)
        .values({
          clusterId: c.id,
          action: op.action,
          source: op.source,
          version: op.version,
          manifest: op.manifest,
          requestedById: actor.user.id,
        })
        .returning();
      await enqueueJob(
        tx,
        "flux.operation",
        { operationId: row!.id },
        { queueName: `cluster:${c.id}`, maxAttempts: 1 },
      );
      audit.changes = { before: op.before, after: { action: op.action, source: op.source, version: op.version } };
      await publish(tx, { type: "cluster.changed", clusterId: c.id, organizationId: c.organizationId });
      return row!.id;
    },
  );
  const ops = await operationsOf(deps, c.id);
  return ops.find((o) => o.id === id)!;
}

/** The manifests the last successful install or upgrade applied, if the platform ran one. */
async function currentManifest(deps: GitOpsDeps, clusterId: string): Promise<string> {
  const [last] = await deps.db
    .select({ manifest: fluxOperations.manifest })
    .from(fluxOperations)
    .where(
      and(
        eq(fluxOperations.clusterId, clusterId),
        eq(fluxOperations.status, "succeeded"),
        inArray(fluxOperations.action, ["install", "upgrade"]),
      ),
    )
    .orderBy(desc(fluxOperations.createdAt))
    .limit(1);
  return last?.manifest ?? "";
}

/** What an uninstall would delete: read from the cluster, for the confirmation dialog. */
export async function planFluxUninstall(deps: GitOpsDeps, actor: Actor, clusterId: string) {
  const c = await authorizeCluster(deps.db, actor, "cluster.manage", clusterId);
  const bound = await deps.db
    .select({ name: environments.name })
    .from(environments)
    .where(and(eq(environments.clusterId, c.id), eq(environments.gitopsEnabled, true)));
  try {
    const plan = await deps.kube.planFluxUninstall(
      accessOf(deps, c),
      await currentManifest(deps, c.id),
      c.fluxNamespace,
    );
    return { ...plan, environments: bound.map((b) => b.name) };
  } catch (err) {
    throw clusterFailure(err, c);
  }
}

export async function uninstallFlux(
  deps: GitOpsDeps,
  actor: Actor,
  input: { clusterId: string; confirmName: string },
): Promise<FluxOperation> {
  const c = await mutate(deps, { actor }, { action: "flux.uninstall", resourceType: "cluster" }, async (tx, audit) => {
    const row = await authorizeCluster(tx, actor, "cluster.manage", input.clusterId, audit);
    audit.unchanged = true;
    return row;
  });
  if (input.confirmName.trim() !== c.name) {
    throw InputError.field("confirmName", `must be the cluster's name, "${c.name}", to confirm`, {
      rule: "confirm_mismatch",
      params: { expected: c.name },
    });
  }
  await assertNoOperationRunning(deps, c.id);
  const detected = await detectOrFail(deps, c);
  if (!detected.installed && detected.crds.length === 0) {
    throw new ConflictError("Flux is not installed in this cluster: there is nothing to uninstall").because(
      "clusters.flux_not_installed",
    );
  }
  return enqueueOperation(deps, actor, c, {
    action: "uninstall",
    source: "cluster",
    version: detected.version,
    manifest: null,
    before: { version: detected.version },
  });
}

/** Takes over a Flux the cluster already runs (bootstrapped elsewhere): recorded, nothing reinstalled. */
export async function adoptFlux(deps: GitOpsDeps, actor: Actor, clusterId: string): Promise<FluxOperation> {
  // Refused (and audited as denied) before the cluster is contacted on a non-admin's behalf.
  const c = await mutate(deps, { actor }, { action: "flux.adopt", resourceType: "cluster" }, async (tx, audit) => {
    const row = await authorizeCluster(tx, actor, "cluster.manage", clusterId, audit);
    audit.unchanged = true;
    return row;
  });
  const detected = await detectOrFail(deps, c);
  if (!detected.installed)
    throw new ConflictError("Flux is not installed in this cluster: install it instead").because(
      "clusters.flux_not_installed",
    );
  const id = await mutate(deps, { actor }, { action: "flux.adopt", resourceType: "cluster" }, async (tx, audit) => {
    await authorizeCluster(tx, actor, "cluster.manage", c.id, audit);
    const now = deps.clock.now();
    const [row] = await tx
      .insert(fluxOperations)
      .values({
        clusterId: c.id,
        action: "adopt",
        source: "cluster",
        version: detected.version,
        status: "succeeded",
        requestedById: actor.user.id,
        progress: [
          {
            phase: "done",
            done: 1,
            total: 1,
            message:
              `Flux ${detected.version ?? ""} found in ${detected.namespace} (managed by ${detected.managedBy})`.replace(
                "  ",
                " ",
              ),
            at: now.toISOString(),
          },
        ],
        finishedAt: now,
      })
      .returning();
    audit.changes = { after: { version: detected.version, managedBy: detected.managedBy } };
    await publish(tx, { type: "cluster.changed", clusterId: c.id, organizationId: c.organizationId });
    return row!.id;
  });
  return (await operationsOf(deps, c.id)).find((o) => o.id === id)!;
}

function manifestSource(c: ClusterRow, op: OperationRow): FluxManifestSource | null {
  const version = op.version ?? "";
  switch (op.source) {
    case "release":
      return { kind: "release", version };
    case "mirror":
      return { kind: "mirror", url: c.fluxMirrorUrl ?? "", version };
    case "flux-cli":
      return { kind: "flux-cli", version };
    default:
      return null;
  }
}

/** The job: runs an install, upgrade or uninstall, writing its progress as it goes. */
export async function runFluxOperation(deps: GitOpsDeps, payload: { operationId: string }): Promise<void> {
  const [op] = await deps.db.select().from(fluxOperations).where(eq(fluxOperations.id, payload.operationId));
  if (!op || op.status === "succeeded" || op.status === "failed") return;
  const c = await loadCluster(deps.db, op.clusterId);
  const progress = [...op.progress];
  const write = async (set: Partial<OperationRow>) => {
    await deps.db.transaction(async (tx) => {
      await tx.update(fluxOperations).set(set).where(eq(fluxOperations.id, op.id));
      await publish(tx, { type: "cluster.changed", clusterId: c.id, organizationId: c.organizationId });
    });
  };
  let pending = Promise.resolve();
  const onProgress = (p: FluxProgress) => {
    progress.push({ ...p, at: deps.clock.now().toISOString() });
    const snapshot = [...progress];
    pending = pending.then(() => write({ progress: snapshot })).catch(() => {});
  };
  await write({ status: "running" });
  try {
    const access = accessOf(deps, c);
    if (op.action === "uninstall") {
      await deps.kube.uninstallFlux(access, await currentManifest(deps, c.id), c.fluxNamespace, onProgress);
    } else if (op.source === "operator") {
      onProgress({ phase: "resources", done: 0, total: 1, message: `Applying FluxInstance (version ${op.version})` });
      await deps.kube.applyFluxInstance(access, { version: op.version ?? "2.x", namespace: c.fluxNamespace });
      onProgress({ phase: "done", done: 1, total: 1, message: "FluxInstance applied: the Flux Operator installs it" });
    } else {
      let manifest = op.manifest;
      const source = manifestSource(c, op);
      if (!manifest && source) {
        onProgress({ phase: "download", done: 0, total: 1, message: `Fetching the manifests of Flux ${op.version}` });
        manifest = await deps.kube.loadFluxManifest(source);
        await pending;
        await deps.db.update(fluxOperations).set({ manifest }).where(eq(fluxOperations.id, op.id));
      }
      if (!manifest) throw new KubeCallError("invalid", "no manifests to apply");
      await deps.kube.installFlux(access, manifest, onProgress);
    }
    await pending;
    await write({ status: "succeeded", finishedAt: deps.clock.now(), progress });
  } catch (err) {
    await pending;
    const message = err instanceof Error ? err.message : String(err);
    deps.logger.warn({ clusterId: c.id, operationId: op.id, err: message }, "Flux operation failed");
    await write({ status: "failed", error: message, finishedAt: deps.clock.now(), progress });
  }
}

/**
 * The periodic health check: the connection and Flux's controllers of every cluster. Organization admins
 * are notified in-app when Flux turns unhealthy (once per change, not at every check).
 */
export async function checkClustersHealth(deps: GitOpsDeps): Promise<void> {
  const rows = await deps.db.select().from(clusters);
  for (const c of rows) {
    const checked = await recordCheck(deps, c).catch(() => c);
    if (checked.status !== "connected") continue;
    let health: "healthy" | "unhealthy" | "absent";
    let unhealthy: string[] = [];
    try {
      const d = await deps.kube.detectFlux(accessOf(deps, c), c.fluxNamespace);
      unhealthy = d.components.filter((x) => x.required && !x.ready).map((x) => x.name);
      health = !d.installed ? "absent" : unhealthy.length ? "unhealthy" : "healthy";
    } catch {
      continue;
    }
    if (health === c.fluxHealth) continue;
    await deps.db.transaction(async (tx) => {
      await tx.update(clusters).set({ fluxHealth: health }).where(eq(clusters.id, c.id));
      if (health === "unhealthy" && c.fluxHealth === "healthy") {
        const [org] = await tx
          .select({ slug: organizations.slug })
          .from(organizations)
          .where(eq(organizations.id, c.organizationId));
        const admins = await tx
          .select({ userId: organizationMembers.userId })
          .from(organizationMembers)
          .where(and(eq(organizationMembers.organizationId, c.organizationId), eq(organizationMembers.role, "admin")));
        for (const a of admins) {
          await notify(
            tx,
            a.userId,
            "cluster.flux_unhealthy",
            { clusterName: c.name, components: unhealthy.join(", "), clusterId: c.id },
            `/orgs/${org?.slug ?? ""}/clusters/${c.id}`,
          );
        }
      }
      await publish(tx, { type: "cluster.changed", clusterId: c.id, organizationId: c.organizationId });
    });
  }
}
