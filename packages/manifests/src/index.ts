// @juanie/manifests — the deploy form's changes as edits of an environment's Kubernetes YAML.
// Pure: it receives file contents and returns new contents; the git engine does the I/O.

export { defaultCommitMessage } from "./commit-message.ts";
export {
  type DeploySpec,
  deploySpecSchema,
  describeIssue,
  type EnvVar,
  type ImagePullPolicy,
  isEnvVarName,
  isPort,
  type Probe,
  parseDeploySpec,
  type ResourceAmounts,
  type ResourceRequirements,
  rules as deploySpecRules,
} from "./deploy-spec.ts";
export { PATCH_FILE_NAME } from "./deployment-editor.ts";
export { ManifestError } from "./errors.ts";
export {
  formatImageReference,
  type ImageReference,
  isImageReference,
  parseImageReference,
} from "./image-reference.ts";
export { isSafeRepoPath, normalizeRepoPath } from "./paths.ts";
export {
  type Conflict,
  type CurrentDeployValues,
  currentDeployValues,
  type DeployPlan,
  detectConflicts,
  type FieldChange,
  listDeployments,
  planDeploy,
} from "./plan-deploy.ts";
export { compareQuantities, isQuantity, parseQuantity, type Quantity } from "./quantity.ts";
export { filesFromRecord, filesWithChanges, type RepoFiles, snapshotRepoFiles } from "./repo-files.ts";
export { newRepositoryLayout, type RepositoryLayoutOptions } from "./repository-layout.ts";
export { unifiedDiff } from "./unified-diff.ts";
