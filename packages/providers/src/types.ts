export type ProviderKind = "github" | "gitlab";

export interface ProviderConfig {
  kind: ProviderKind;
  /**
   * github: `https://api.github.com` or GitHub Enterprise `https://ghe.example.com/api/v3`.
   * gitlab: `https://gitlab.com` or the self-hosted base URL (a trailing `/api/v4` is tolerated).
   */
  apiUrl: string;
  /** Never logged, never part of an error message. */
  token: string;
  /**
   * GitLab only: a personal/project/group access token goes in `PRIVATE-TOKEN` (default); an OAuth access
   * token (from the GitLab sign-in) goes in `Authorization: Bearer`. GitHub accepts both kinds the same way.
   */
  tokenType?: "personal" | "oauth";
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
}

export interface RepositoryInfo {
  fullName: string;
  defaultBranch: string;
  webUrl: string;
  cloneUrl: string;
  sshUrl: string;
  /** Cloning needs credentials (GitLab `internal` counts as private). */
  private: boolean;
  description: string | null;
  /** The token's user may push to (unprotected) branches. */
  canPush: boolean;
}

export interface BranchInfo {
  name: string;
  sha: string;
  protected: boolean;
}

export interface CommitInfo {
  sha: string;
  /** First line of the message. */
  subject: string;
  authorName: string;
  authorEmail: string;
  authoredAt: string;
  webUrl: string;
}

export interface RegisterWebhookOptions {
  url: string;
  secret: string;
}

export interface CreateRepositoryOptions {
  /** Organization (GitHub) or group path (GitLab, may be nested: `acme/platform`); default: the token's user. */
  namespace?: string;
  name: string;
  private: boolean;
  description?: string;
}

export interface CreatedRepository {
  fullName: string;
  cloneUrl: string;
  webUrl: string;
  defaultBranch: string;
}

export interface ProviderAdapter {
  getRepository(fullName: string): Promise<RepositoryInfo>;
  /** All branches (every page). */
  listBranches(fullName: string): Promise<BranchInfo[]>;
  /** Newest first, at most `limit`. An empty repository has no commits: `[]`. */
  listCommits(fullName: string, branch: string, limit: number): Promise<CommitInfo[]>;
  /** A push-events hook with a JSON body, signed with `secret` (GitHub) / sending it as the token (GitLab). */
  registerWebhook(fullName: string, opts: RegisterWebhookOptions): Promise<{ id: string }>;
  /** A hook that no longer exists is `not_found`; callers that clean up may treat that as done. */
  deleteWebhook(fullName: string, id: string): Promise<void>;
  /** Points a hook registered with `registerWebhook` at `url` with a new `secret` (same events and format). */
  updateWebhook(fullName: string, id: string, opts: RegisterWebhookOptions): Promise<void>;
  /** An empty repository (no initial commit): the platform pushes the first content itself. */
  createRepository(opts: CreateRepositoryOptions): Promise<CreatedRepository>;
  commitUrl(webUrl: string, sha: string): string;
}
