export { type KubeSim, type KubeSimOptions, SIMULATOR_MARKER, startKubeSim } from "./cluster.ts";
export { StatusError } from "./errors.ts";
export type { Json, JsonObject, KubeObject } from "./json.ts";
export { SIMULATOR_GIT_VERSION, type TokenUser } from "./server.ts";
export { ClusterStore } from "./store.ts";
export { FAILURE_ANNOTATION, LOG_ANNOTATION, type PodFailure, type WorkloadOptions } from "./workloads.ts";
