// The Kubernetes API simulator: test tooling and demo aid. Never imported by apps/ or product packages.
export {
  type KubeSim,
  type KubeSimFluxOptions,
  type KubeSimOptions,
  SIMULATOR_MARKER,
  startKubeSim,
} from "./cluster.ts";
export { StatusError } from "./errors.ts";
export {
  defaultKustomizeBinary,
  FLUX_FINALIZER,
  FluxSimulator,
  type FluxSimulatorOptions,
  type GitCredentials,
  REQUESTED_AT_ANNOTATION,
} from "./flux/controllers.ts";
export {
  NAME_LABEL as KUSTOMIZE_NAME_LABEL,
  NAMESPACE_LABEL as KUSTOMIZE_NAMESPACE_LABEL,
} from "./flux/kustomize-controller.ts";
export {
  FLUX_CRDS,
  FLUX_NAMESPACE,
  type FluxReleasesMirror,
  SIMULATED_MANIFEST_ANNOTATION,
  serveFluxReleases,
  simulatedFluxInstallManifest,
  simulatedFluxInstallObjects,
} from "./flux/manifest.ts";
export type { FluxEventPayload } from "./flux/notification-controller.ts";
export { DEFAULT_FLUX_VERSION, FLUX_CONTROLLERS, FLUX_RELEASES, type FluxController } from "./flux/versions.ts";
export type { Json, JsonObject, KubeObject } from "./json.ts";
export type { ResourceType } from "./resources.ts";
export { KubeApiServer, SIMULATOR_GIT_VERSION, type TokenUser } from "./server.ts";
export { ClusterStore, type PatchType, type StoredEvent, timestamp, type WriteOptions } from "./store.ts";
export {
  FAILURE_ANNOTATION,
  LOG_ANNOTATION,
  type PodFailure,
  WorkloadController,
  type WorkloadOptions,
} from "./workloads.ts";
