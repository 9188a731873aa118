import type { Environment } from "@juanie/contracts";

export type EnvironmentFlux = NonNullable<Environment["flux"]>;

/** What the environment's card offers on its Flux objects; each has labels under `environments.flux.actions`. */
export const fluxActions = ["sync", "sync_with_source", "suspend", "resume"] as const;
export type FluxAction = (typeof fluxActions)[number];

/** Sync now / with source while running, resume while suspended. */
export function availableFluxActions(flux: Pick<EnvironmentFlux, "suspended">): FluxAction[] {
  return flux.suspended ? ["resume"] : ["sync", "sync_with_source", "suspend"];
}

/**
 * A Flux revision, short: `main@sha1:0a1b2c3d…` → `main@0a1b2c3`, a bare SHA → its first 7
 * characters, anything else as it is.
 */
export function shortRevision(revision: string | null): string {
  if (!revision) return "";
  const match = /^(?:(.+)@)?(?:sha1|sha256):([0-9a-f]+)$/.exec(revision);
  if (match) {
    const sha = (match[2] ?? "").slice(0, 7);
    return match[1] ? `${match[1]}@${sha}` : sha;
  }
  if (/^[0-9a-f]{40,64}$/.test(revision)) return revision.slice(0, 7);
  return revision;
}

/** Pods ready over desired, summed over the environment's workloads (null when there are none). */
export function workloadTotals(workloads: EnvironmentFlux["workloads"]): { ready: number; desired: number } | null {
  if (!workloads.length) return null;
  return workloads.reduce((sum, w) => ({ ready: sum.ready + w.ready, desired: sum.desired + w.desired }), {
    ready: 0,
    desired: 0,
  });
}
