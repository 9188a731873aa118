// The Kubernetes API simulator: test tooling and demo aid. Never imported by apps/ or product packages.
export { type KubeSim, type KubeSimOptions, SIMULATOR_MARKER, startKubeSim } from "./cluster.ts";
export { StatusError } from "./errors.ts";
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
