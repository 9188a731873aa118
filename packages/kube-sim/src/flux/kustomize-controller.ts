// The simulated kustomize-controller (test tooling): builds a Kustomization's path of its GitRepository's
// artifact with the real kustomize, applies the objects into the simulated cluster with server-side apply
// (field manager "kustomize-controller"), keeps the inventory, prunes, waits for health, and writes the
// status fields, conditions, reasons and messages Flux's kustomize-controller writes.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { StatusError } from "../errors.ts";
import { isObject, type Json, type JsonObject, type KubeObject, obj, str } from "../json.ts";
import type { ResourceType } from "../resources.ts";
import {
  type Condition,
  findCondition,
  goDuration,
  parseDuration,
  readConditions,
  removeCondition,
  setCondition,
} from "./conditions.ts";
import { type FluxSimulator, GIT_REPOSITORY, REQUESTED_AT_ANNOTATION } from "./controllers.ts";
import { checkHealth, type HealthTarget } from "./health.ts";
import { build, ReconcileError, readObjects } from "./kustomize-build.ts";
import { artifactDir } from "./source-controller.ts";

const MANAGER = "kustomize-controller";
const GROUP = "kustomize.toolkit.fluxcd.io";
export const NAME_LABEL = `${GROUP}/name`;
export const NAMESPACE_LABEL = `${GROUP}/namespace`;
const PRUNE_ANNOTATION = `${GROUP}/prune`;
const HISTORY_LIMIT = 5;

interface InventoryEntry extends JsonObject {
  id: string;
  v: string;
}

/** Reconciles one Kustomization; returns when to run again (ms), or undefined to wait for a change. */
export async function reconcileKustomization(
  sim: FluxSimulator,
  type: ResourceType,
  ks: KubeObject,
): Promise<number | undefined> {
  const ns = str(ks.metadata.namespace) as string;
  const name = str(ks.metadata.name) as string;
  const spec = obj(ks.spec) ?? {};
  if (ks.metadata.deletionTimestamp) {
    if (spec.prune === true && spec.suspend !== true) {
      const entries = inventoryOf(ks);
      await prune(sim, ks, entries);
    }
    sim.setFinalizer(type, ks, MANAGER, false);
    return undefined;
  }
  if (spec.suspend === true) return undefined;
  const current = sim.setFinalizer(type, ks, MANAGER, true) ?? ks;
  const generation = Number(current.metadata.generation ?? 1);
  const requestedAt = str(obj(current.metadata.annotations)?.[REQUESTED_AT_ANNOTATION]);
  const handled: JsonObject = requestedAt ? { lastHandledReconcileAt: requestedAt } : {};
  const started = Date.now();
  const timeoutMs = parseDuration(spec.timeout) ?? sim.intervalOf(current);
  const timeoutText = goDuration(timeoutMs);

  const fail = (reason: string, message: string, extra: JsonObject = {}, keepReconciling = false) => {
    const latest = sim.store.tryGet(type, ns, name);
    if (!latest) return undefined;
    let conditions = readConditions(latest.status);
    if (!keepReconciling) conditions = removeCondition(conditions, "Reconciling");
    conditions = setCondition(conditions, "Ready", "False", reason, message, generation);
    const updated = sim.patchStatus(type, latest, MANAGER, {
      conditions,
      observedGeneration: generation,
      ...handled,
      ...extra,
    });
    if (updated) sim.recordEvent(updated, MANAGER, "Warning", reason, message);
    return updated;
  };

  // The source and its artifact.
  const sourceRef = obj(spec.sourceRef) ?? {};
  const sourceKind = str(sourceRef.kind) ?? GIT_REPOSITORY.kind;
  const sourceNs = str(sourceRef.namespace) ?? ns;
  const sourceName = str(sourceRef.name) ?? "";
  const gitType = sim.type(GIT_REPOSITORY);
  if (sourceKind !== GIT_REPOSITORY.kind) {
    fail(
      "ArtifactFailed",
      `source kind '${sourceKind}' is not supported by the Juanie Flux simulator (test tooling): use a GitRepository`,
    );
    return undefined;
  }
  const source = gitType ? sim.store.tryGet(gitType, sourceNs, sourceName) : undefined;
  if (!source) {
    fail("ArtifactFailed", `GitRepository.source.toolkit.fluxcd.io "${sourceName}" not found`);
    return sim.intervalOf(current, "retryInterval");
  }
  const artifact = obj(obj(source.status)?.artifact);
  const revision = str(artifact?.revision);
  if (!revision) {
    fail("ArtifactFailed", `Source artifact not found, retrying in ${goDuration(sim.dependencyRequeueMs)}`);
    return sim.dependencyRequeueMs;
  }

  // Dependencies must be Ready (for their current generation) first.
  const notReady = dependencyNotReady(sim, type, current, revision, sourceNs, sourceName);
  if (notReady) {
    fail("DependencyNotReady", notReady);
    return sim.dependencyRequeueMs;
  }

  // Progressing: visible to watchers, as real Flux patches it before the work.
  let conditions = readConditions(current.status);
  conditions = setCondition(
    conditions,
    "Reconciling",
    "True",
    "Progressing",
    `Fetching manifests for revision ${revision} with a timeout of ${timeoutText}`,
    generation,
  );
  conditions = setCondition(conditions, "Ready", "Unknown", "Progressing", "Reconciliation in progress", generation);
  sim.patchStatus(type, current, MANAGER, { conditions, lastAttemptedRevision: revision });
  await sim.sleep(sim.stepDelayMs);
  if (sim.isStopped) return undefined;

  const sha = revision.slice(revision.lastIndexOf(":") + 1);
  const dir = artifactDir(await sim.workDir(), sourceNs, sourceName, sha);
  if (!existsSync(dir)) {
    fail("ArtifactFailed", "Source is not ready, artifact not found, retrying in 30s");
    return sim.dependencyRequeueMs;
  }
  const progress = (message: string, healthy?: boolean) => {
    const latest = sim.store.tryGet(type, ns, name);
    if (!latest) return;
    let c = setCondition(readConditions(latest.status), "Reconciling", "True", "Progressing", message, generation);
    if (healthy !== undefined) c = setCondition(c, "Healthy", "Unknown", "Progressing", message, generation);
    sim.patchStatus(type, latest, MANAGER, { conditions: c });
  };
  progress(`Building manifests for revision ${revision} with a timeout of ${timeoutText}`);

  let digest: string | undefined;
  try {
    const built = await build(sim, dir, str(spec.path) ?? "./");
    digest = `sha256:${createHash("sha256").update(built).digest("hex")}`;
    const objects = readObjects(built);
    await sim.sleep(sim.stepDelayMs);
    if (sim.isStopped) return undefined;
    progress(`Detecting drift for revision ${revision} with a timeout of ${timeoutText}`);

    const { entries, changes, applied } = await applyAll(sim, current, objects);
    const oldEntries = inventoryOf(current);
    const stale = oldEntries.filter((e) => !entries.some((n) => n.id === e.id));
    const latest = sim.store.tryGet(type, ns, name);
    if (!latest || sim.isStopped) return undefined;
    sim.patchStatus(type, latest, MANAGER, { inventory: { entries } });
    if (changes.length > 0) sim.recordEvent(latest, MANAGER, "Normal", "Progressing", changes.join("\n"));
    if (spec.prune === true) {
      const pruned = await prune(sim, current, stale);
      if (pruned.length > 0) sim.recordEvent(latest, MANAGER, "Normal", "Progressing", pruned.join("\n"));
    }

    // Health: the applied workloads (spec.wait) or the listed ones (spec.healthChecks).
    const targets = healthTargets(spec, applied);
    if (targets.length > 0) {
      const message = `Running health checks for revision ${revision} with a timeout of ${timeoutText}`;
      progress(message, true);
      const checkStart = Date.now();
      const healthError = await checkHealth(sim, targets, timeoutMs, () => {
        const src = gitType && sim.store.tryGet(gitType, sourceNs, sourceName);
        if (src && str(obj(obj(src.status)?.artifact)?.revision) !== revision) {
          return `New reconciliation triggered by GitRepository/${sourceNs}/${sourceName}`;
        }
        const self = sim.store.tryGet(type, ns, name);
        const token = str(obj(self?.metadata.annotations)?.[REQUESTED_AT_ANNOTATION]);
        if (self && (Number(self.metadata.generation ?? 1) !== generation || token !== requestedAt)) {
          return `New reconciliation triggered by Kustomization/${ns}/${name}`;
        }
        return undefined;
      });
      if (sim.isStopped) return undefined;
      const latest2 = sim.store.tryGet(type, ns, name);
      if (!latest2) return undefined;
      if (typeof healthError === "object") {
        // As Flux: the health check gives way to the newer reconciliation (the change that canceled it
        // has already queued it).
        fail("HealthCheckCanceled", healthError.canceled, {}, true);
        return undefined;
      }
      if (healthError) {
        const c = setCondition(
          readConditions(latest2.status),
          "Healthy",
          "False",
          "HealthCheckFailed",
          healthError,
          generation,
        );
        sim.patchStatus(type, latest2, MANAGER, { conditions: c });
        throw new ReconcileError(
          "HealthCheckFailed",
          `health check failed after ${goDuration(Date.now() - checkStart)}: ${healthError}`,
          digest,
        );
      }
      const c = setCondition(
        readConditions(latest2.status),
        "Healthy",
        "True",
        "Succeeded",
        `Health check passed in ${goDuration(Date.now() - checkStart)}`,
        generation,
      );
      sim.patchStatus(type, latest2, MANAGER, { conditions: c });
    }

    const done = sim.store.tryGet(type, ns, name);
    if (!done || sim.isStopped) return undefined;
    let finalConditions: Condition[] = removeCondition(readConditions(done.status), "Reconciling");
    finalConditions = setCondition(
      finalConditions,
      "Ready",
      "True",
      "ReconciliationSucceeded",
      `Applied revision: ${revision}`,
      generation,
    );
    const updated = sim.patchStatus(type, done, MANAGER, {
      conditions: finalConditions,
      lastAppliedRevision: revision,
      lastAttemptedRevision: revision,
      observedGeneration: generation,
      history: upsertHistory(done, digest, revision, Date.now() - started, "ReconciliationSucceeded"),
      ...handled,
    });
    const next = sim.intervalOf(current);
    if (updated) {
      sim.recordEvent(
        updated,
        MANAGER,
        "Normal",
        "ReconciliationSucceeded",
        `Reconciliation finished in ${goDuration(Date.now() - started)}, next run in ${goDuration(next)}`,
      );
    }
    return next;
  } catch (err) {
    if (sim.isStopped) return undefined;
    const reason = err instanceof ReconcileError ? err.reason : "ReconciliationFailed";
    const historyDigest = err instanceof ReconcileError ? err.digest : digest;
    const latest = sim.store.tryGet(type, ns, name);
    const extra: JsonObject =
      historyDigest && latest
        ? { history: upsertHistory(latest, historyDigest, revision, Date.now() - started, reason) }
        : {};
    fail(reason, (err as Error).message, { lastAttemptedRevision: revision, ...extra });
    return sim.intervalOf(current, "retryInterval");
  }
}

function dependencyNotReady(
  sim: FluxSimulator,
  type: ResourceType,
  ks: KubeObject,
  revision: string,
  sourceNs: string,
  sourceName: string,
): string | undefined {
  const deps = obj(ks.spec)?.dependsOn;
  if (!Array.isArray(deps)) return undefined;
  const ns = str(ks.metadata.namespace) as string;
  for (const d of deps) {
    const depName = str(obj(d)?.name);
    if (!depName) continue;
    const depNs = str(obj(d)?.namespace) ?? ns;
    const dep = sim.store.tryGet(type, depNs, depName);
    if (!dep)
      return `unable to get '${depNs}/${depName}' dependency: Kustomization.kustomize.toolkit.fluxcd.io "${depName}" not found`;
    const status = obj(dep.status);
    const ready = findCondition(dep.status, "Ready");
    if (Number(status?.observedGeneration ?? 0) !== Number(dep.metadata.generation ?? 1) || ready?.status !== "True") {
      return `dependency '${depNs}/${depName}' is not ready`;
    }
    // Same source: the dependency must have applied this revision first.
    const depSource = obj(obj(dep.spec)?.sourceRef);
    if (
      str(depSource?.name) === sourceName &&
      (str(depSource?.namespace) ?? depNs) === sourceNs &&
      str(status?.lastAppliedRevision) !== revision
    ) {
      return `dependency '${depNs}/${depName}' revision is not up to date`;
    }
  }
  return undefined;
}

const FIRST_STAGE = new Set(["CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterRoleBinding"]);

/** Server-side applies every object (CRDs and namespaces first) and returns the new inventory. */
async function applyAll(sim: FluxSimulator, ks: KubeObject, objects: KubeObject[]) {
  const spec = obj(ks.spec) ?? {};
  const ksName = str(ks.metadata.name) as string;
  const ksNs = str(ks.metadata.namespace) as string;
  const targetNamespace = str(spec.targetNamespace);
  const ordered = [
    ...objects.filter((o) => FIRST_STAGE.has(o.kind)),
    ...objects.filter((o) => !FIRST_STAGE.has(o.kind)),
  ];
  const entries: InventoryEntry[] = [];
  const changes: string[] = [];
  const applied: { type: ResourceType; ns: string | undefined; name: string }[] = [];
  for (const o of ordered) {
    const name = str(o.metadata.name) as string;
    let type = sim.store.findKind(o.apiVersion, o.kind);
    // A CRD applied in the first stage is served a moment later.
    for (let i = 0; !type && i < 50 && objects.some((x) => x.kind === "CustomResourceDefinition"); i++) {
      await sim.sleep(20);
      type = sim.store.findKind(o.apiVersion, o.kind);
    }
    if (!type) {
      throw new ReconcileError(
        "ReconciliationFailed",
        `${o.kind}/${str(o.metadata.namespace) ?? targetNamespace ?? ""}${str(o.metadata.namespace) || targetNamespace ? "/" : ""}${name} dry-run failed: no matches for kind "${o.kind}" in version "${o.apiVersion}"`,
      );
    }
    let ns: string | undefined;
    if (type.namespaced) {
      ns = targetNamespace ?? str(o.metadata.namespace);
      if (!ns) {
        throw new ReconcileError(
          "ReconciliationFailed",
          `${o.kind}/${name} namespace not specified: the server could not find the requested resource`,
        );
      }
    }
    const body: KubeObject = {
      ...o,
      metadata: {
        ...o.metadata,
        ...(ns ? { namespace: ns } : {}),
        labels: { ...(obj(o.metadata.labels) ?? {}), [NAME_LABEL]: ksName, [NAMESPACE_LABEL]: ksNs },
      },
    };
    if (!ns) delete body.metadata.namespace;
    const id = `${o.kind}/${ns ? `${ns}/` : ""}${name}`;
    const before = sim.store.tryGet(type, ns, name);
    try {
      const after = sim.store.patch(type, ns, name, "apply", body, { manager: MANAGER, force: true });
      if (!before) changes.push(`${id} created`);
      else if (after.metadata.resourceVersion !== before.metadata.resourceVersion) changes.push(`${id} configured`);
    } catch (err) {
      if (err instanceof StatusError) {
        throw new ReconcileError("ReconciliationFailed", `${id} dry-run failed (${err.reason}): ${err.message}`);
      }
      throw err;
    }
    entries.push({ id: `${ns ?? ""}_${name}_${type.group}_${type.kind}`, v: type.version });
    applied.push({ type, ns, name });
  }
  entries.sort((a, b) => a.id.localeCompare(b.id));
  return { entries, changes, applied };
}

function inventoryOf(ks: KubeObject): InventoryEntry[] {
  const entries = obj(obj(ks.status)?.inventory)?.entries;
  if (!Array.isArray(entries)) return [];
  return entries.filter((e): e is InventoryEntry => isObject(e) && typeof e.id === "string" && typeof e.v === "string");
}

/** Deletes stale objects this Kustomization owns (its labels), unless annotated prune: disabled. */
async function prune(sim: FluxSimulator, ks: KubeObject, stale: InventoryEntry[]): Promise<string[]> {
  const ksName = str(ks.metadata.name);
  const ksNs = str(ks.metadata.namespace);
  const deleted: string[] = [];
  // Namespaces last, so their content goes first (as Flux's garbage collector orders them).
  const ordered = [...stale].sort((a, b) => Number(a.id.endsWith("_Namespace")) - Number(b.id.endsWith("_Namespace")));
  for (const e of ordered) {
    const [ns, name, group, kind] = e.id.split("_") as [string, string, string, string];
    const type = sim.store.findKind(group ? `${group}/${e.v}` : e.v, kind);
    const o = type && sim.store.tryGet(type, ns || undefined, name);
    if (!type || !o) continue;
    const labels = obj(o.metadata.labels) ?? {};
    if (labels[NAME_LABEL] !== ksName || labels[NAMESPACE_LABEL] !== ksNs) continue;
    if (str(obj(o.metadata.annotations)?.[PRUNE_ANNOTATION]) === "disabled") continue;
    try {
      sim.store.delete(type, ns || undefined, name, { propagationPolicy: "Background" });
      deleted.push(`${kind}/${ns ? `${ns}/` : ""}${name} deleted`);
    } catch (err) {
      if (!(err instanceof StatusError && err.code === 404)) throw err;
    }
  }
  return deleted;
}

function healthTargets(
  spec: JsonObject,
  applied: { type: ResourceType; ns: string | undefined; name: string }[],
): HealthTarget[] {
  if (spec.wait === true)
    return applied.map((a) => ({ apiVersion: apiVersionOf(a.type), kind: a.type.kind, namespace: a.ns, name: a.name }));
  const checks = spec.healthChecks;
  if (!Array.isArray(checks)) return [];
  return checks.filter(isObject).map((c) => ({
    apiVersion: str(c.apiVersion) ?? "apps/v1",
    kind: str(c.kind) ?? "Deployment",
    namespace: str(c.namespace),
    name: str(c.name) ?? "",
  }));
}

const apiVersionOf = (t: ResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);

/** Flux's History.Upsert: one snapshot per digest, newest first, at most 5. */
function upsertHistory(ks: KubeObject, digest: string, revision: string, durationMs: number, status: string): Json[] {
  const history = obj(ks.status)?.history;
  const list = (Array.isArray(history) ? history.filter(isObject) : []).map((h) => ({ ...h }));
  const ts = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const found = list.find((h) => h.digest === digest);
  if (found) {
    found.lastReconciled = ts;
    found.lastReconciledDuration = goDuration(durationMs);
    found.lastReconciledStatus = status;
    found.totalReconciliations = Number(found.totalReconciliations ?? 0) + 1;
    found.metadata = { revision };
    list.sort((a, b) => String(b.lastReconciled).localeCompare(String(a.lastReconciled)));
    if (list[0] !== found) {
      list.splice(list.indexOf(found), 1);
      list.unshift(found);
    }
    return list.slice(0, HISTORY_LIMIT);
  }
  return [
    {
      digest,
      firstReconciled: ts,
      lastReconciled: ts,
      lastReconciledDuration: goDuration(durationMs),
      lastReconciledStatus: status,
      totalReconciliations: 1,
      metadata: { revision },
    },
    ...list,
  ].slice(0, HISTORY_LIMIT);
}
