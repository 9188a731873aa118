import { Octokit } from "@octokit/rest";
import { ProviderError, providerError, reasonForStatus } from "./errors.ts";
import { firstLine, isObject, stringAt } from "./json.ts";
import type {
  BranchInfo,
  CommitInfo,
  CreatedRepository,
  CreateRepositoryOptions,
  ProviderAdapter,
  ProviderConfig,
  RegisterWebhookOptions,
  RepositoryInfo,
} from "./types.ts";
import { gitHubCommitUrl, isNameSegment } from "./urls.ts";

const silentLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** `https://github.com` is taken to mean the public API; anything else is used as given (GHE: `…/api/v3`). */
export function gitHubApiBaseUrl(apiUrl: string): string {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new ProviderError("invalid", "GitHub: the API URL is not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ProviderError("invalid", "GitHub: the API URL must be http(s)");
  }
  const host = url.hostname.toLowerCase();
  if (host === "github.com" || host === "www.github.com") return "https://api.github.com";
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

export function createGitHubAdapter(config: ProviderConfig): ProviderAdapter {
  const timeoutMs = config.timeoutMs ?? 30_000;
  const octokit = new Octokit({
    auth: config.token,
    baseUrl: gitHubApiBaseUrl(config.apiUrl),
    log: silentLog,
    request: {
      fetch: (url: string | URL, init?: RequestInit) =>
        fetch(url, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) }),
    },
  });
  const secrets = [config.token];

  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toProviderError(operation, error, secrets);
    }
  }

  return {
    async getRepository(fullName: string): Promise<RepositoryInfo> {
      const { owner, repo } = splitFullName(fullName);
      const { data } = await call(`get repository ${fullName}`, () => octokit.rest.repos.get({ owner, repo }));
      return {
        fullName: data.full_name,
        defaultBranch: data.default_branch,
        webUrl: data.html_url,
        cloneUrl: data.clone_url,
        sshUrl: data.ssh_url,
        private: data.private,
        description: data.description ?? null,
        canPush: data.permissions?.push ?? false,
      };
    },

    async listBranches(fullName: string): Promise<BranchInfo[]> {
      const { owner, repo } = splitFullName(fullName);
      const branches = await call(`list branches of ${fullName}`, () =>
        octokit.paginate(octokit.rest.repos.listBranches, { owner, repo, per_page: 100 }),
      );
      return branches.map((b) => ({ name: b.name, sha: b.commit.sha, protected: b.protected }));
    },

    async listCommits(fullName: string, branch: string, limit: number): Promise<CommitInfo[]> {
      const { owner, repo } = splitFullName(fullName);
      const wanted = Math.floor(limit);
      if (!(wanted > 0)) return [];
      const out: CommitInfo[] = [];
      try {
        const pages = octokit.paginate.iterator(octokit.rest.repos.listCommits, {
          owner,
          repo,
          sha: branch,
          per_page: Math.min(wanted, 100),
        });
        for await (const page of pages) {
          for (const c of page.data) {
            out.push({
              sha: c.sha,
              subject: firstLine(c.commit.message),
              authorName: c.commit.author?.name ?? "",
              authorEmail: c.commit.author?.email ?? "",
              authoredAt: c.commit.author?.date ?? "",
              webUrl: c.html_url,
            });
            if (out.length >= wanted) return out;
          }
        }
      } catch (error) {
        // 409 "Git Repository is empty."
        if (statusOf(error) === 409) return [];
        throw toProviderError(`list commits of ${fullName}@${branch}`, error, secrets);
      }
      return out;
    },

    async registerWebhook(fullName: string, opts: RegisterWebhookOptions): Promise<{ id: string }> {
      const { owner, repo } = splitFullName(fullName);
      const { data } = await call(`register webhook on ${fullName}`, () =>
        octokit.rest.repos.createWebhook({
          owner,
          repo,
          name: "web",
          active: true,
          events: ["push"],
          config: { url: opts.url, content_type: "json", secret: opts.secret, insecure_ssl: "0" },
        }),
      );
      return { id: String(data.id) };
    },

    async deleteWebhook(fullName: string, id: string): Promise<void> {
      const { owner, repo } = splitFullName(fullName);
      const hookId = webhookId(id);
      await call(`delete webhook ${id} on ${fullName}`, () =>
        octokit.rest.repos.deleteWebhook({ owner, repo, hook_id: hookId }),
      );
    },

    async updateWebhook(fullName: string, id: string, opts: RegisterWebhookOptions): Promise<void> {
      const { owner, repo } = splitFullName(fullName);
      const hookId = webhookId(id);
      await call(`update webhook ${id} on ${fullName}`, () =>
        // The whole hook, config nested: a top-level `url` parameter would be taken for the request's URL.
        octokit.rest.repos.updateWebhook({
          owner,
          repo,
          hook_id: hookId,
          active: true,
          events: ["push"],
          config: { url: opts.url, content_type: "json", secret: opts.secret, insecure_ssl: "0" },
        }),
      );
    },

    async createRepository(opts: CreateRepositoryOptions): Promise<CreatedRepository> {
      if (!isNameSegment(opts.name)) {
        throw new ProviderError("invalid", `GitHub: "${opts.name}" is not a valid repository name`);
      }
      const fields = {
        name: opts.name,
        private: opts.private,
        ...(opts.description !== undefined ? { description: opts.description } : {}),
      };
      const namespace = opts.namespace?.trim();
      if (namespace && !isNameSegment(namespace)) {
        throw new ProviderError("invalid", `GitHub: "${namespace}" is not a valid organization or user name`);
      }
      const operation = `create repository ${namespace ? `${namespace}/` : ""}${opts.name}`;
      const { data } = await call(operation, async () => {
        // The API distinguishes "my account" from "an organization"; the user may name their own login.
        // A GitHub App installation token may not read /user (403): it can only mean an organization then.
        if (namespace) {
          const login = await octokit.rest.users.getAuthenticated().then(
            ({ data }) => data.login,
            (error: unknown) => {
              if (statusOf(error) === 403) return null;
              throw error;
            },
          );
          if (login?.toLowerCase() !== namespace.toLowerCase()) {
            return octokit.rest.repos.createInOrg({ org: namespace, ...fields });
          }
        }
        return octokit.rest.repos.createForAuthenticatedUser(fields);
      });
      return {
        fullName: data.full_name,
        cloneUrl: data.clone_url,
        webUrl: data.html_url,
        defaultBranch: data.default_branch,
      };
    },

    commitUrl: gitHubCommitUrl,
  };
}

function splitFullName(fullName: string): { owner: string; repo: string } {
  const parts = fullName.split("/");
  const [owner, repo] = parts;
  if (parts.length !== 2 || !owner || !repo || !isNameSegment(owner) || !isNameSegment(repo)) {
    throw new ProviderError("invalid", `GitHub: "${fullName}" is not a repository name of the form owner/repo`);
  }
  return { owner, repo };
}

function webhookId(id: string): number {
  if (!/^\d{1,15}$/.test(id)) throw new ProviderError("invalid", `GitHub: "${id}" is not a webhook id`);
  return Number(id);
}

interface OctokitLikeError {
  status: number;
  message: string;
  response?: { headers?: unknown; data?: unknown };
}

/** `RequestError` from @octokit/request-error, recognised by shape (the class is not a direct dependency). */
function isOctokitError(error: unknown): error is Error & OctokitLikeError {
  return error instanceof Error && "status" in error && typeof error.status === "number";
}

function statusOf(error: unknown): number | undefined {
  return isOctokitError(error) ? error.status : undefined;
}

function toProviderError(operation: string, error: unknown, secrets: readonly string[]): ProviderError {
  if (error instanceof ProviderError) return error;
  if (isOctokitError(error)) {
    const response = isObject(error.response) ? error.response : undefined;
    // No response: the request never got an answer (connection refused, DNS, timeout).
    if (!response) return providerError("github", operation, "network", { detail: error.message, secrets });
    const data = isObject(response.data) ? response.data : undefined;
    const headers = isObject(response.headers) ? response.headers : undefined;
    const detail = hostMessage(data) ?? error.message;
    let reason = reasonForStatus(error.status, detail);
    if (error.status === 403 && stringAt(headers, "x-ratelimit-remaining") === "0") reason = "rate_limited";
    return providerError("github", operation, reason, { status: error.status, detail, secrets });
  }
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return providerError("github", operation, "network", { detail: "timed out", secrets });
  }
  const detail = error instanceof Error ? error.message : undefined;
  return providerError("github", operation, "unknown", detail === undefined ? { secrets } : { detail, secrets });
}

/** GitHub's `{ message, errors: [{ message | code }] }`, flattened to one line. */
function hostMessage(data: Record<string, unknown> | undefined): string | undefined {
  const message = stringAt(data, "message");
  if (!message) return undefined;
  const errors = data?.errors;
  const details = Array.isArray(errors)
    ? errors
        .map((e) =>
          isObject(e) ? (stringAt(e, "message") ?? stringAt(e, "code")) : typeof e === "string" ? e : undefined,
        )
        .filter((m): m is string => Boolean(m))
    : [];
  return details.length > 0 ? `${message.replace(/\.$/, "")}: ${details.join("; ")}` : message;
}
