// Flux and workload status for one cluster: pure reducers, a watcher over informers, a Lease leader.
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
