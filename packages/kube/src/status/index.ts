// Flux and workload status for one cluster: pure reducers, a watcher over informers, a Lease leader.

export { DeadlineError, withDeadline } from "./deadline.ts";
export { LeaseElector, type LeaseElectorOptions, LeaseSetupError } from "./lease.ts";
export * from "./pure.ts";
export {
  type BackoffPolicy,
  type ClusterEvent,
  ClusterWatcher,
  type ClusterWatcherOptions,
  type ConnectionChange,
  compareResourceVersions,
  DEFAULT_WATCHED_KINDS,
  describeKubeError,
  FLUX_DEPLOYMENT,
  GIT_REPOSITORY,
  HELM_RELEASE,
  HELM_REPOSITORY,
  KUSTOMIZATION,
  nextRestart,
  OCI_REPOSITORY,
  type WatchedKind,
  type WatchedObject,
} from "./watcher.ts";
