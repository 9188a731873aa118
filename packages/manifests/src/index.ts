// @juanie/manifests — the deploy form's changes as edits of an environment's Kubernetes YAML.
// It receives file contents and returns new contents; the git engine does the Git I/O. The one
// outside process it runs is the real kustomize, which judges every plan (verified-plan.ts).

export { defaultCommitMessage } from "./commit-message.ts";
export {
  type DeploySpec,
  deploySpecSchema,
  describeIssue,
  type EnvVar,
  hasTagOrDigest,
  type ImagePullPolicy,
  isDnsLabel,
  isDnsSubdomain,
  isEnvVarName,
  isPort,
  type Probe,
  parseDeploySpec,
  type ResourceAmounts,
  type ResourceRequirements,
  rules as deploySpecRules,
  type WorkloadKind,
  workloadKinds,
} from "./deploy-spec.ts";
export { PATCH_FILE_NAME } from "./deployment-editor.ts";
export { ManifestError } from "./errors.ts";
export {
  formatImageReference,
  type ImageReference,
  isImageReference,
  parseImageReference,
} from "./image-reference.ts";
export {
  type KustomizeTool,
  kustomizeBuild,
  locateKustomize,
  probeKustomize,
  type RenderedObject,
} from "./kustomize-build.ts";
export {
  holdsKubernetesObject,
  isKustomizationFile,
  isYamlFile,
  kustomizationFileNames,
} from "./manifest-probe.ts";
export { isSafeRepoPath, normalizeRepoPath } from "./paths.ts";
export {
  type Conflict,
  type CurrentDeployValues,
  currentDeployValues,
  type DeployPlan,
  detectConflicts,
  type FieldChange,
  planDeploy,
  type WorkloadSummary,
} from "./plan-deploy.ts";
export { compareQuantities, isQuantity, parseQuantity, type Quantity } from "./quantity.ts";
export { diffRendered, objectLabel, type RenderedChange } from "./render-diff.ts";
export { filesFromRecord, filesWithChanges, type RepoFiles, snapshotRepoFiles } from "./repo-files.ts";
export { newRepositoryLayout, type RepositoryLayoutOptions } from "./repository-layout.ts";
export { unifiedDiff } from "./unified-diff.ts";
export {
  displayYaml,
  planVerifiedDeploy,
  type RenderCheck,
  renderedDeployValues,
  type VerifiedPlan,
  type VerifiedValues,
} from "./verified-plan.ts";
