export {
  type Branch,
  type CommitInfo,
  type FileAccess,
  type FileChanges,
  GitEngine,
  type GitEngineOptions,
} from "./git-engine.ts";
export { type GitCredentials, GitError, type GitErrorReason, type GitRemote } from "./run-git.ts";
export { isValidBranchName, type RemoteTransport, type RemoteUrlCheck, validateRemoteUrl } from "./validation.ts";
