// Which controller releases each Flux release installs — copied from fluxcd/flux2's
// manifests/bases/<controller>/kustomization.yaml at each release tag (nothing invented).

export const FLUX_CONTROLLERS = [
  "source-controller",
  "kustomize-controller",
  "helm-controller",
  "notification-controller",
] as const;
export type FluxController = (typeof FLUX_CONTROLLERS)[number];

type ControllerVersions = Record<FluxController, string>;

const row = (source: string, kustomize: string, helm: string, notification: string): ControllerVersions => ({
  "source-controller": source,
  "kustomize-controller": kustomize,
  "helm-controller": helm,
  "notification-controller": notification,
});

/** Flux release (without "v") → controller image tags. */
export const FLUX_RELEASES: Readonly<Record<string, ControllerVersions>> = {
  "2.6.0": row("v1.6.0", "v1.6.0", "v1.3.0", "v1.6.0"),
  "2.6.1": row("v1.6.0", "v1.6.0", "v1.3.0", "v1.6.0"),
  "2.6.2": row("v1.6.1", "v1.6.0", "v1.3.0", "v1.6.0"),
  "2.6.3": row("v1.6.2", "v1.6.0", "v1.3.0", "v1.6.0"),
  "2.6.4": row("v1.6.2", "v1.6.1", "v1.3.0", "v1.6.0"),
  "2.7.0": row("v1.7.0", "v1.7.0", "v1.4.0", "v1.7.1"),
  "2.7.1": row("v1.7.1", "v1.7.0", "v1.4.1", "v1.7.2"),
  "2.7.2": row("v1.7.2", "v1.7.1", "v1.4.2", "v1.7.3"),
  "2.7.3": row("v1.7.3", "v1.7.2", "v1.4.3", "v1.7.4"),
  "2.7.4": row("v1.7.4", "v1.7.3", "v1.4.4", "v1.7.5"),
  "2.7.5": row("v1.7.4", "v1.7.3", "v1.4.5", "v1.7.5"),
  "2.8.0": row("v1.8.0", "v1.8.0", "v1.5.0", "v1.8.0"),
  "2.8.1": row("v1.8.0", "v1.8.1", "v1.5.1", "v1.8.1"),
  "2.8.2": row("v1.8.1", "v1.8.2", "v1.5.2", "v1.8.2"),
  "2.8.3": row("v1.8.1", "v1.8.2", "v1.5.3", "v1.8.2"),
  "2.8.4": row("v1.8.1", "v1.8.2", "v1.5.3", "v1.8.2"),
  "2.8.5": row("v1.8.2", "v1.8.3", "v1.5.3", "v1.8.3"),
  "2.8.6": row("v1.8.3", "v1.8.4", "v1.5.4", "v1.8.4"),
  "2.8.7": row("v1.8.4", "v1.8.5", "v1.5.4", "v1.8.4"),
  "2.8.8": row("v1.8.5", "v1.8.5", "v1.5.5", "v1.8.4"),
  "2.9.0": row("v1.9.1", "v1.9.1", "v1.6.1", "v1.9.1"),
  "2.9.1": row("v1.9.2", "v1.9.2", "v1.6.2", "v1.9.2"),
  "2.9.2": row("v1.9.3", "v1.9.3", "v1.6.2", "v1.9.2"),
  "2.9.3": row("v1.9.3", "v1.9.4", "v1.6.3", "v1.9.2"),
  "2.9.4": row("v1.9.4", "v1.9.4", "v1.6.3", "v1.9.3"),
};

export const DEFAULT_FLUX_VERSION = "2.7.3";

/** The controller tags of a Flux release ("2.7.3" or "v2.7.3"); throws for a release not in the table. */
export function controllerVersions(version: string): ControllerVersions {
  const v = version.replace(/^v/, "");
  const found = FLUX_RELEASES[v];
  if (!found) {
    throw new Error(
      `flux version "${version}" is not known to the simulator (known: ${Object.keys(FLUX_RELEASES).join(", ")})`,
    );
  }
  return found;
}
