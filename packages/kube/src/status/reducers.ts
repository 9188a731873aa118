import { parseRevision, sameSha } from "./revision.ts";

// Pure reducers over Flux objects as they come from the API (no I/O). Field names follow Flux's APIs:
// source.toolkit.fluxcd.io/v1, kustomize.toolkit.fluxcd.io/v1, helm.toolkit.fluxcd.io/v2.

export type FluxKind = "GitRepository" | "OCIRepository" | "HelmRepository" | "Kustomization" | "HelmRelease";
export type FluxState = "ready" | "reconciling" | "failed" | "suspended" | "unknown";

/** A Kubernetes object as decoded from JSON: only the shape is known, every field is checked before use. */
export interface KubeObjectLike {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  spec?: unknown;
  status?: unknown;
}

export interface SourceRef {
  kind: string;
  name: string;
  namespace: string;
}

export interface HistoryEntry {
  revision: string | null;
  digest: string | null;
  firstReconciled: string | null;
  lastReconciled: string | null;
  status: string | null;
  totalReconciliations: number | null;
}

export interface FluxResourceState {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  uid: string;
  generation: number | null;
  observedGeneration: number | null;
  state: FluxState;
  reason: string | null;
  message: string | null;
  /** Sources: `status.artifact.revision`. */
  artifactRevision: string | null;
  /** Kustomization `status.lastAppliedRevision`; HelmRelease the newest deployed release's chart version. */
  appliedRevision: string | null;
  attemptedRevision: string | null;
  lastHandledReconcileAt: string | null;
  /** The `reconcile.fluxcd.io/requestedAt` annotation: "sync now" is handled when it equals lastHandledReconcileAt. */
  requestedAt: string | null;
  lastReconcileAt: string | null;
  suspended: boolean;
  /** Kustomization / HelmRelease only. */
  sourceRef: SourceRef | null;
  /**
   * Whether Flux itself waits for the applied workloads to become ready before Ready=True
   * (Kustomization `spec.wait` or `spec.healthChecks`; HelmRelease unless install/upgrade `disableWait`).
   */
  waitsForHealth: boolean;
  /** Newest first, as Flux keeps it (at most 5 entries). */
  history: HistoryEntry[];
  /** Inventory ids `<namespace>_<name>_<group>_<kind>`. */
  inventory: string[];
}

export const REQUESTED_AT_ANNOTATION = "reconcile.fluxcd.io/requestedAt";

interface Condition {
  type: string;
  status: string;
  reason: string | null;
  message: string | null;
  lastTransitionTime: string | null;
}

const rec = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function conditionsOf(status: Record<string, unknown>): Map<string, Condition> {
  const out = new Map<string, Condition>();
  for (const c of arr(status.conditions)) {
    const r = rec(c);
    const type = str(r.type);
    if (!type) continue;
    out.set(type, {
      type,
      status: str(r.status) ?? "Unknown",
      reason: str(r.reason),
      message: str(r.message),
      lastTransitionTime: str(r.lastTransitionTime),
    });
  }
  return out;
}

const newest = (a: string | null, b: string | null): string | null => {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
};

function historyOf(kind: string, status: Record<string, unknown>): HistoryEntry[] {
  return arr(status.history).map((h) => {
    const r = rec(h);
    if (kind === "HelmRelease") {
      // helm-controller v2 snapshots: one per Helm release version.
      return {
        revision: str(r.chartVersion),
        digest: str(r.digest),
        firstReconciled: str(r.firstDeployed),
        lastReconciled: str(r.lastDeployed),
        status: str(r.status),
        totalReconciliations: null,
      };
    }
    return {
      revision: str(rec(r.metadata).revision),
      digest: str(r.digest),
      firstReconciled: str(r.firstReconciled),
      lastReconciled: str(r.lastReconciled),
      status: str(r.lastReconciledStatus),
      totalReconciliations: num(r.totalReconciliations),
    };
  });
}

function sourceRefOf(kind: string, spec: Record<string, unknown>, namespace: string): SourceRef | null {
  let ref: Record<string, unknown> | null = null;
  if (kind === "Kustomization") ref = rec(spec.sourceRef);
  else if (kind === "HelmRelease") {
    const chartRef = rec(spec.chartRef);
    ref = str(chartRef.kind) ? chartRef : rec(rec(rec(spec.chart).spec).sourceRef);
  }
  if (!ref) return null;
  const refKind = str(ref.kind);
  const name = str(ref.name);
  if (!refKind || !name) return null;
  return { kind: refKind, name, namespace: str(ref.namespace) ?? namespace };
}

function waitsForHealth(kind: string, spec: Record<string, unknown>): boolean {
  if (kind === "Kustomization") return spec.wait === true || arr(spec.healthChecks).length > 0;
  if (kind === "HelmRelease") {
    return rec(spec.install).disableWait !== true && rec(spec.upgrade).disableWait !== true;
  }
  return false;
}

/**
 * The state of a Flux object, following Flux's kstatus conventions (fluxcd/pkg runtime/conditions):
 * - `spec.suspend` wins;
 * - `Stalled=True` is a failure Flux will not retry by itself;
 * - after a failed attempt Flux leaves `Ready=False` *and* `Reconciling=True` with reason `ProgressingWithRetry`
 *   (it retries with backoff): that is failed, not in progress;
 * - `Reconciling=True` (reason `Progressing`) or `Ready=Unknown` is a reconciliation in progress;
 * - `Ready=True` is ready only once the controller has observed the current generation.
 */
export function fluxResourceState(obj: KubeObjectLike): FluxResourceState {
  const meta = obj.metadata ?? {};
  const kind = obj.kind ?? "";
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  const namespace = meta.namespace ?? "";
  const conditions = conditionsOf(status);
  const ready = conditions.get("Ready");
  const reconciling = conditions.get("Reconciling");
  const stalled = conditions.get("Stalled");
  const generation = num(meta.generation);
  const observedGeneration = num(status.observedGeneration);
  const suspended = spec.suspend === true;
  const behind = generation !== null && observedGeneration !== null && observedGeneration < generation;

  let state: FluxState;
  let cause: Condition | undefined;
  if (suspended) {
    state = "suspended";
    cause = ready;
  } else if (stalled?.status === "True") {
    state = "failed";
    cause = stalled;
  } else if (
    ready?.status === "False" &&
    (reconciling?.status !== "True" || reconciling.reason === "ProgressingWithRetry")
  ) {
    state = "failed";
    cause = ready;
  } else if (reconciling?.status === "True" || ready?.status === "Unknown") {
    state = "reconciling";
    cause = reconciling?.status === "True" ? reconciling : ready;
  } else if (ready?.status === "True") {
    state = behind ? "reconciling" : "ready";
    cause = ready;
  } else if (ready?.status === "False") {
    state = "failed";
    cause = ready;
  } else {
    state = behind ? "reconciling" : "unknown";
    cause = undefined;
  }

  const history = historyOf(kind, status);
  let appliedRevision = str(status.lastAppliedRevision);
  if (!appliedRevision && kind === "HelmRelease") {
    const deployed = history.find((h) => h.status === "deployed") ?? (history[0]?.status ? undefined : history[0]);
    appliedRevision = deployed?.revision ?? null;
  }
  const lastReconciled = history.reduce<string | null>((acc, h) => newest(acc, h.lastReconciled), null);

  return {
    kind,
    apiVersion: obj.apiVersion ?? "",
    namespace,
    name: meta.name ?? "",
    uid: meta.uid ?? "",
    generation,
    observedGeneration,
    state,
    reason: cause?.reason ?? null,
    message: cause?.message ?? null,
    artifactRevision: str(rec(status.artifact).revision),
    appliedRevision,
    attemptedRevision: str(status.lastAttemptedRevision),
    lastHandledReconcileAt: str(status.lastHandledReconcileAt),
    requestedAt: str(meta.annotations?.[REQUESTED_AT_ANNOTATION]),
    lastReconcileAt: newest(ready?.lastTransitionTime ?? null, lastReconciled),
    suspended,
    sourceRef: sourceRefOf(kind, spec, namespace),
    waitsForHealth: waitsForHealth(kind, spec),
    history,
    inventory: arr(rec(status.inventory).entries)
      .map((e) => str(rec(e).id))
      .filter((id): id is string => id !== null),
  };
}

// ---- Deployment workloads ----

export const KUSTOMIZE_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name";
export const KUSTOMIZE_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace";

export interface WorkloadReadiness {
  namespace: string;
  name: string;
  /** The Flux Kustomization that applied it (labels set by kustomize-controller), if any. */
  kustomization: { name: string; namespace: string } | null;
  desired: number;
  /** Replicas both updated to the current spec and ready; 0 while the controller has not seen the spec yet. */
  ready: number;
}

/** Ready/desired of an apps/v1 Deployment, counting only pods of its current template. */
export function deploymentReadiness(obj: KubeObjectLike): WorkloadReadiness {
  const meta = obj.metadata ?? {};
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  const desired = num(spec.replicas) ?? 1;
  const generation = num(meta.generation);
  const observed = num(status.observedGeneration);
  const current = generation === null || (observed !== null && observed >= generation);
  // readyReplicas counts pods of every template: while old pods still run, only what exceeds them is
  // surely of the current template (a lower bound, exact once the rollout finished).
  const updated = num(status.updatedReplicas) ?? 0;
  const old = Math.max(0, (num(status.replicas) ?? updated) - updated);
  const ready = current ? Math.max(0, Math.min((num(status.readyReplicas) ?? 0) - old, updated)) : 0;
  const ksName = meta.labels?.[KUSTOMIZE_NAME_LABEL];
  const ksNamespace = meta.labels?.[KUSTOMIZE_NAMESPACE_LABEL];
  return {
    namespace: meta.namespace ?? "",
    name: meta.name ?? "",
    kustomization: ksName ? { name: ksName, namespace: ksNamespace ?? meta.namespace ?? "" } : null,
    desired,
    ready,
  };
}

// ---- One deployment's rollout ----

export type RolloutStep = "committed" | "fetched" | "applied" | "healthy" | "failed" | "superseded";

export interface RolloutInput {
  deployment: { commitSha: string; step: RolloutStep; committedAt?: string | null };
  /** The environment's source (GitRepository/OCIRepository), from fluxResourceState. */
  source?: FluxResourceState | null;
  /** The environment's Kustomization (or HelmRelease), from fluxResourceState. */
  kustomization?: FluxResourceState | null;
  /** Readiness of the workloads the Kustomization applied; omitted when unknown. */
  workloads?: readonly { ready: number; desired: number }[] | null;
  /** Commit ids known to the platform for this environment, oldest → newest. */
  order: readonly string[];
}

export interface RolloutResult {
  step: RolloutStep;
  /** Whether `step` differs from the input step. */
  changed: boolean;
  /** A stable code: Flux's reason when failed, else what was observed. */
  reason: string;
  message: string | null;
  /** The Kustomization's lastAppliedRevision commit when the platform does not know it (a change made in Git directly). */
  unknownApplied: string | null;
}

/** true when `a` is newer than `b`, false when older or equal, null when either is unknown. */
export function isNewerIn(order: readonly string[], a: string, b: string): boolean | null {
  const ia = order.findIndex((s) => sameSha(s, a));
  const ib = order.findIndex((s) => sameSha(s, b));
  if (ia < 0 || ib < 0) return null;
  return ia > ib;
}

const PROGRESS: Record<RolloutStep, number> = {
  committed: 0,
  fetched: 1,
  applied: 2,
  healthy: 3,
  failed: -1,
  superseded: -1,
};

/** Monotonic transitions: forward through committed → fetched → applied → healthy; failed and superseded are side exits. */
export function canAdvance(from: RolloutStep, to: RolloutStep): boolean {
  if (from === to) return false;
  if (from === "healthy" || from === "superseded") return false;
  if (from === "failed") return to === "healthy" || to === "superseded";
  if (to === "failed") return true;
  if (to === "superseded") return from === "committed" || from === "fetched";
  return PROGRESS[to] > PROGRESS[from];
}

interface Candidate {
  step: RolloutStep;
  reason: string;
  message: string | null;
}

/**
 * The next step of one deployment given what the cluster reports now. Never moves backwards, so duplicated
 * or late (older) status updates leave the step alone. "Newer" is judged only by `order` (commits the
 * platform knows, oldest → newest); an unknown commit is never taken as newer.
 */
export function deploymentRollout(input: RolloutInput): RolloutResult {
  const { deployment, source, kustomization: ks, workloads, order } = input;
  const sha = deployment.commitSha;
  const srcSha = source ? parseRevision(source.artifactRevision, { sourceKind: source.kind }).sha : null;
  const sourceKind = ks?.sourceRef?.kind ?? source?.kind;
  const appliedSha = ks ? parseRevision(ks.appliedRevision, { sourceKind }).sha : null;
  const attemptedSha = ks ? parseRevision(ks.attemptedRevision, { sourceKind }).sha : null;
  const unknownApplied = appliedSha && !order.some((s) => sameSha(s, appliedSha)) ? appliedSha : null;

  const candidates: Candidate[] = [];
  const isApplied = appliedSha !== null && sameSha(appliedSha, sha);
  if (isApplied && ks) {
    const readyForIt = ks.state === "ready";
    const unready = (workloads ?? []).filter((w) => w.ready < w.desired).length;
    if (readyForIt && (ks.waitsForHealth || !workloads)) {
      candidates.push({ step: "healthy", reason: "ReconciliationSucceeded", message: ks.message });
    } else if (readyForIt && unready === 0) {
      candidates.push({
        step: "healthy",
        reason: "WorkloadsReady",
        message: `${workloads?.length ?? 0} workload(s) ready`,
      });
    } else {
      candidates.push({
        step: "applied",
        reason: "RevisionApplied",
        message: readyForIt ? `${unready} workload(s) not ready yet` : ks.message,
      });
    }
  }
  if (ks && attemptedSha !== null && sameSha(attemptedSha, sha) && ks.state === "failed") {
    candidates.push({ step: "failed", reason: ks.reason ?? "ReconciliationFailed", message: ks.message });
  }
  if (appliedSha !== null && isNewerIn(order, appliedSha, sha) === true) {
    candidates.push({
      step: "superseded",
      reason: "NewerRevisionApplied",
      message: `a newer commit ${appliedSha.slice(0, 12)} was applied first`,
    });
  }
  const fetchedBy = [srcSha, attemptedSha].find(
    (s): s is string => s !== null && (sameSha(s, sha) || isNewerIn(order, s, sha) === true),
  );
  if (fetchedBy !== undefined || isApplied) {
    candidates.push({ step: "fetched", reason: "SourceFetched", message: source?.artifactRevision ?? null });
  }

  for (const c of candidates) {
    if (canAdvance(deployment.step, c.step)) {
      return { step: c.step, changed: true, reason: c.reason, message: c.message, unknownApplied };
    }
  }
  return { step: deployment.step, changed: false, reason: "NoChange", message: null, unknownApplied };
}
