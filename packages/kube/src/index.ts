// The cluster side of Juanie (product code). Status reducers/watchers live in ./status (re-exported by the lead).
export { RECONCILE_ANNOTATION, reconcileToken, requestReconcile, setSuspended, sourceRefOf } from "./actions.ts";
export {
  type ApplyOptions,
  applyObjects,
  assertObjectIdentity,
  deleteObject,
  ensureNamespace,
  getObject,
} from "./apply.ts";
export { type ClusterCheck, checkCluster, SIMULATOR_MARKER, SIMULATOR_VERSION_SUFFIX } from "./check.ts";
export {
  ClusterError,
  type ClusterErrorReason,
  DEFAULT_REQUEST_TIMEOUT_MS,
  isClusterError,
  KubeCluster,
  type KubeClusterOptions,
  type KubeClusterSource,
  normaliseClusterError,
} from "./client.ts";
export {
  detectFlux,
  FLUX_NAMESPACE,
  FLUX_OPERATOR_GROUP,
  FLUX_OPTIONAL_COMPONENTS,
  FLUX_REQUIRED_COMPONENTS,
  type FluxComponent,
  type FluxCrd,
  type FluxDetection,
  type FluxOperatorInstance,
} from "./flux-detect.ts";
export {
  applyFluxInstance,
  type FetchManifestOptions,
  FluxInstallError,
  type FluxInstanceInput,
  type FluxManifestSource,
  type FluxUninstallPlan,
  fetchFluxManifest,
  findFluxCli,
  fluxManifestUrl,
  type InstallOptions,
  type InstallPhase,
  installFlux,
  type Progress,
  parseManifest,
  planFluxUninstall,
  type UninstallOptions,
  type UninstallPhase,
  uninstallFlux,
} from "./flux-install.ts";
export {
  buildGitOpsObjects,
  GIT_REPOSITORY_API,
  type GitCredential,
  type GitOpsInput,
  GitOpsInputError,
  type GitOpsObjects,
  type GitOpsRefs,
  gitOpsObjectRefs,
  KUSTOMIZATION_API,
  secretName,
} from "./flux-objects.ts";
export {
  KUBECONFIG_MAX_BYTES,
  type KubeAuthType,
  KubeconfigError,
  type KubeconfigSummary,
  type ParseKubeconfigOptions,
  parseKubeconfig,
} from "./kubeconfig.ts";
export { assertKubeName, isDns1123Label, isDns1123Subdomain, KubeNameError } from "./names.ts";
export { describeRef, type KubeObject, MANAGED_BY_JUANIE, MANAGED_BY_LABEL, type ObjectRef, refOf } from "./objects.ts";
