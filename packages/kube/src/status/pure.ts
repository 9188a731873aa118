// The pure half of kube/status: reducers over Flux objects, no Kubernetes client, no I/O.
// Safe for the domain package (and the browser); `@juanie/kube/status` re-exports it with the watchers.
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
