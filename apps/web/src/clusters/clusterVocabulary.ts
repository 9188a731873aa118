import type { Cluster, FluxOperation, FluxStatus } from "@juanie/contracts";

type Tone = "neutral" | "info" | "success" | "warning" | "danger";

/** The Flux release the install dialog proposes. */
export const defaultFluxVersion = "2.7.3";

/** Where install/upgrade manifests come from; each has a label under `clusters.flux.sources`. */
export const fluxSources = ["release", "mirror", "upload", "flux-cli", "operator"] as const;
export type FluxSource = (typeof fluxSources)[number];

/** Sources that install a chosen release version (the others bring their own). */
export const versionedSources: readonly FluxSource[] = ["release", "mirror", "flux-cli", "operator"];

/** Each has a label under `clusters.statuses`. */
export const clusterStatuses = ["connected", "error", "unknown"] as const;
export const clusterStatusTones: Record<Cluster["status"], Tone> = {
  connected: "success",
  error: "danger",
  unknown: "neutral",
};

/** Flux operations: labels under `clusters.flux.actions` and `clusters.flux.operationStatuses`. */
export const fluxActions = ["install", "upgrade", "uninstall", "adopt"] as const;
export const fluxOperationStatuses = ["queued", "running", "succeeded", "failed"] as const;
export const operationTones: Record<FluxOperation["status"], Tone> = {
  queued: "neutral",
  running: "info",
  succeeded: "success",
  failed: "danger",
};

/** How Flux got into the cluster, as detected from its labels: labels under `clusters.flux.managedBy`. */
export const fluxManagers = ["juanie", "operator", "other", "unknown"] as const;

/** The live Flux state of an environment's Kustomization: labels under `environments.flux.states`. */
export const fluxStates = ["ready", "reconciling", "failed", "suspended", "unknown"] as const;
export const fluxStateTones: Record<string, Tone> = {
  ready: "success",
  reconciling: "info",
  failed: "danger",
  suspended: "warning",
  unknown: "neutral",
};

/** The platform's Flux objects in the cluster: labels under `environments.flux.gitopsStates`. */
export const gitopsStates = ["off", "applying", "applied", "removing", "error"] as const;
export const gitopsStateTones: Record<string, Tone> = {
  off: "neutral",
  applying: "info",
  applied: "success",
  removing: "warning",
  error: "danger",
};

export function isKnown<T extends string>(values: readonly T[], value: string): value is T {
  return values.some((v) => v === value);
}

export function hasRunningOperation(flux: Pick<FluxStatus, "operations">): boolean {
  return flux.operations.some((op) => op.status === "queued" || op.status === "running");
}

/**
 * Whether the platform looks after this Flux: installed with its labels, or installed/adopted by one
 * of its operations that no uninstall followed. Otherwise the panel offers "Adopt".
 */
export function isManagedByPlatform(flux: Pick<FluxStatus, "installed" | "managedBy" | "operations">): boolean {
  if (!flux.installed) return false;
  if (flux.managedBy === "juanie") return true;
  const last = [...flux.operations]
    .filter((op) => op.status === "succeeded")
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  return last !== undefined && last.action !== "uninstall";
}

/** The sources the install dialog offers for this cluster: the others cannot work here. */
export function availableFluxSources(
  flux: Pick<FluxStatus, "fluxCli" | "operator">,
  cluster: Pick<Cluster, "fluxMirrorUrl">,
): FluxSource[] {
  return fluxSources.filter((source) => {
    if (source === "mirror") return cluster.fluxMirrorUrl !== null;
    if (source === "flux-cli") return flux.fluxCli;
    if (source === "operator") return flux.operator.present;
    return true;
  });
}

export interface OperationProgress {
  phase: string;
  done: number;
  total: number;
  /** 0–100, or null when the phase has no count. */
  percent: number | null;
  message: string;
}

/** Where an operation stands: its latest progress entry. */
export function operationProgress(op: Pick<FluxOperation, "progress">): OperationProgress | null {
  const last = op.progress.at(-1);
  if (!last) return null;
  const percent = last.total > 0 ? Math.min(100, Math.round((last.done / last.total) * 100)) : null;
  return { phase: last.phase, done: last.done, total: last.total, percent, message: last.message };
}

/** The install and upgrade operations the platform can go back to (manifests kept). */
export function restorableOperations(flux: Pick<FluxStatus, "operations">): FluxOperation[] {
  return flux.operations.filter((op) => op.restorable);
}
