// Flux and workload status for one cluster: pure reducers, a watcher over informers, a Lease leader.

export { DeadlineError, withDeadline } from "./deadline.ts";
export { LeaseElector, type LeaseElectorOptions, LeaseSetupError } from "./lease.ts";
export {
  canAdvance,
  deploymentReadiness,
  deploymentRollout,
  type FluxKind,
  type FluxResourceState,
  type FluxState,
  fluxResourceState,
  type HistoryEntry,
  isNewerIn,
  KUSTOMIZE_NAME_LABEL,
  KUSTOMIZE_NAMESPACE_LABEL,
  type KubeObjectLike,
  REQUESTED_AT_ANNOTATION,
  type RolloutInput,
  type RolloutResult,
  type RolloutStep,
  type SourceRef,
  type WorkloadReadiness,
} from "./reducers.ts";
export { type ParsedRevision, type ParseRevisionOptions, parseRevision, revisionHasSha, sameSha } from "./revision.ts";
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
