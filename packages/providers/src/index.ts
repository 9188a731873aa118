// Git hosts (GitHub, GitLab, including self-hosted) behind one adapter, plus webhook verification and parsing.
import { ProviderError } from "./errors.ts";
import { createGitHubAdapter } from "./github.ts";
import { createGitLabAdapter } from "./gitlab.ts";
import type { ProviderAdapter, ProviderConfig, ProviderKind } from "./types.ts";
import { gitHubCommitUrl, gitLabCommitUrl } from "./urls.ts";

export { ProviderError, type ProviderErrorReason } from "./errors.ts";
export { gitHubApiBaseUrl } from "./github.ts";
export { gitLabHost } from "./gitlab.ts";
export type {
  BranchInfo,
  CommitInfo,
  CreatedRepository,
  CreateRepositoryOptions,
  ProviderAdapter,
  ProviderConfig,
  ProviderKind,
  RegisterWebhookOptions,
  RepositoryInfo,
} from "./types.ts";
export { guessProvider, repositoryFullName } from "./urls.ts";
export {
  type PushCommit,
  type PushEvent,
  parseWebhook,
  verifyGitHubSignature,
  verifyGitLabToken,
  type WebhookParse,
} from "./webhooks.ts";

/**
 * Makes no request and never throws: with an unusable configuration (no token, a malformed API URL, an unknown
 * kind) every call rejects with `ProviderError("invalid")`, so callers handle it where they handle the rest.
 */
export function createProviderAdapter(config: ProviderConfig): ProviderAdapter {
  try {
    if (!config.token) throw new ProviderError("invalid", "no access token configured");
    switch (config.kind) {
      case "github":
        return createGitHubAdapter(config);
      case "gitlab":
        return createGitLabAdapter(config);
      default:
        throw new ProviderError("invalid", "unknown provider kind");
    }
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return failingAdapter(config.kind, error);
  }
}

function failingAdapter(kind: ProviderKind, error: ProviderError): ProviderAdapter {
  const fail = () => Promise.reject(error);
  return {
    getRepository: fail,
    listBranches: fail,
    listCommits: fail,
    registerWebhook: fail,
    deleteWebhook: fail,
    updateWebhook: fail,
    createRepository: fail,
    commitUrl: kind === "gitlab" ? gitLabCommitUrl : gitHubCommitUrl,
  };
}
