import {
  Branches,
  Commits,
  GitbeakerRequestError,
  GitbeakerRetryError,
  GitbeakerTimeoutError,
  Namespaces,
  ProjectHooks,
  type ProjectSchema,
  Projects,
} from "@gitbeaker/rest";
import { ProviderError, providerError, reasonForStatus } from "./errors.ts";
import { firstLine, isObject, numberAt, objectAt } from "./json.ts";
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
import { gitLabCommitUrl, isNameSegment } from "./urls.ts";

/** GitLab's Developer role: may push to unprotected branches. */
const DEVELOPER_ACCESS = 30;
/** GitLab's default for new projects when the API reports none (an empty repository has no default branch yet). */
const FALLBACK_DEFAULT_BRANCH = "main";

/** The instance's base URL as gitbeaker wants it (`host`, to which it appends `/api/v4`). */
export function gitLabHost(apiUrl: string): string {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new ProviderError("invalid", "GitLab: the API URL is not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ProviderError("invalid", "GitLab: the API URL must be http(s)");
  }
  const path = url.pathname.replace(/\/+$/, "").replace(/\/api\/v4$/, "");
  return `${url.origin}${path}`;
}

export function createGitLabAdapter(config: ProviderConfig): ProviderAdapter {
  const host = gitLabHost(config.apiUrl);
  const queryTimeout = config.timeoutMs ?? 30_000;
  const options =
    config.tokenType === "oauth"
      ? { host, oauthToken: config.token, queryTimeout }
      : { host, token: config.token, queryTimeout };
  const projects = new Projects(options);
  const branches = new Branches(options);
  const commits = new Commits(options);
  const hooks = new ProjectHooks(options);
  const namespaces = new Namespaces(options);
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
      const id = projectId(fullName);
      const p = await call(`get project ${fullName}`, () => projects.show(id));
      return {
        fullName: p.path_with_namespace,
        defaultBranch: p.default_branch || FALLBACK_DEFAULT_BRANCH,
        webUrl: p.web_url,
        cloneUrl: p.http_url_to_repo,
        sshUrl: p.ssh_url_to_repo,
        // `internal` projects are visible to any signed-in user, but cloning still needs credentials.
        private: p.visibility !== "public",
        description: p.description || null,
        canPush: accessLevel(p) >= DEVELOPER_ACCESS,
      };
    },

    async listBranches(fullName: string): Promise<BranchInfo[]> {
      const id = projectId(fullName);
      const list = await call(`list branches of ${fullName}`, () => branches.all(id, { perPage: 100 }));
      return list.map((b) => ({ name: b.name, sha: b.commit.id, protected: b.protected }));
    },

    async listCommits(fullName: string, branch: string, limit: number): Promise<CommitInfo[]> {
      const id = projectId(fullName);
      const wanted = Math.floor(limit);
      if (!(wanted > 0)) return [];
      const perPage = Math.min(wanted, 100);
      const list = await call(`list commits of ${fullName}@${branch}`, () =>
        commits.all(id, { refName: branch, perPage, maxPages: Math.ceil(wanted / perPage) }),
      );
      return list.slice(0, wanted).map((c) => ({
        sha: c.id,
        subject: c.title || firstLine(c.message),
        authorName: c.author_name,
        authorEmail: c.author_email,
        authoredAt: c.authored_date ?? c.created_at,
        webUrl: c.web_url,
      }));
    },

    async registerWebhook(fullName: string, opts: RegisterWebhookOptions): Promise<{ id: string }> {
      const id = projectId(fullName);
      const hook = await call(`register webhook on ${fullName}`, () =>
        hooks.add(id, opts.url, {
          pushEvents: true,
          tagPushEvents: false,
          mergeRequestsEvents: false,
          enableSslVerification: true,
          token: opts.secret,
        }),
      );
      return { id: String(hook.id) };
    },

    async deleteWebhook(fullName: string, id: string): Promise<void> {
      const project = projectId(fullName);
      if (!/^\d{1,15}$/.test(id)) throw new ProviderError("invalid", `GitLab: "${id}" is not a webhook id`);
      await call(`delete webhook ${id} on ${fullName}`, () => hooks.remove(project, Number(id)));
    },

    async updateWebhook(fullName: string, id: string, opts: RegisterWebhookOptions): Promise<void> {
      const project = projectId(fullName);
      if (!/^\d{1,15}$/.test(id)) throw new ProviderError("invalid", `GitLab: "${id}" is not a webhook id`);
      await call(`update webhook ${id} on ${fullName}`, () =>
        hooks.edit(project, Number(id), opts.url, {
          pushEvents: true,
          tagPushEvents: false,
          mergeRequestsEvents: false,
          enableSslVerification: true,
          token: opts.secret,
        }),
      );
    },

    async createRepository(opts: CreateRepositoryOptions): Promise<CreatedRepository> {
      if (!isNameSegment(opts.name)) {
        throw new ProviderError("invalid", `GitLab: "${opts.name}" is not a valid project path`);
      }
      const namespace = opts.namespace?.trim().replace(/^\/+|\/+$/g, "");
      if (namespace && !namespace.split("/").every(isNameSegment)) {
        throw new ProviderError("invalid", `GitLab: "${namespace}" is not a valid group or user path`);
      }
      const operation = `create project ${namespace ? `${namespace}/` : ""}${opts.name}`;
      const p = await call(operation, async () => {
        // Projects are created in a namespace by numeric id; a user's own namespace is also looked up this way.
        const namespaceId = namespace ? (await namespaces.show(namespace)).id : undefined;
        return projects.create({
          name: opts.name,
          path: opts.name,
          visibility: opts.private ? "private" : "public",
          ...(namespaceId !== undefined ? { namespaceId } : {}),
          ...(opts.description !== undefined ? { description: opts.description } : {}),
        });
      });
      return {
        fullName: p.path_with_namespace,
        cloneUrl: p.http_url_to_repo,
        webUrl: p.web_url,
        defaultBranch: p.default_branch || FALLBACK_DEFAULT_BRANCH,
      };
    },

    commitUrl: gitLabCommitUrl,
  };
}

/** A numeric project id or a full path (`group/sub/project`), which gitbeaker URL-encodes into one segment. */
function projectId(fullName: string): string {
  const parts = fullName.split("/");
  const ok = /^\d+$/.test(fullName) || (parts.length >= 2 && parts.every(isNameSegment));
  if (!ok) throw new ProviderError("invalid", `GitLab: "${fullName}" is not a project path like group/project`);
  return fullName;
}

/**
 * The token user's role on the project: direct membership (`project_access`) or the highest membership in the
 * project's group and its ancestors (`group_access`). Access through a group the project is shared with, or as
 * an instance administrator, is not reported there: such users read as unable to push (a push will tell).
 */
function accessLevel(p: ProjectSchema): number {
  const permissions: unknown = p.permissions;
  if (!isObject(permissions)) return 0;
  const project = numberAt(objectAt(permissions, "project_access"), "access_level") ?? 0;
  const group = numberAt(objectAt(permissions, "group_access"), "access_level") ?? 0;
  return Math.max(project, group);
}

function toProviderError(operation: string, error: unknown, secrets: readonly string[]): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof GitbeakerRequestError) {
    const status = error.cause?.response.status;
    const detail = error.cause?.description || error.message;
    if (status === undefined) return providerError("gitlab", operation, "unknown", { detail, secrets });
    return providerError("gitlab", operation, reasonForStatus(status, detail), { status, detail, secrets });
  }
  if (error instanceof GitbeakerRetryError) {
    // gitbeaker retries 429 and 502 itself and gives up with this error.
    const status = Number(/last status code: (\d+)/.exec(error.message)?.[1] ?? Number.NaN);
    const reason = status === 429 ? "rate_limited" : "network";
    return providerError("gitlab", operation, reason, Number.isNaN(status) ? { secrets } : { status, secrets });
  }
  if (error instanceof GitbeakerTimeoutError) {
    return providerError("gitlab", operation, "network", { detail: "timed out", secrets });
  }
  if (error instanceof TypeError && error.message === "fetch failed") {
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return providerError(
      "gitlab",
      operation,
      "network",
      cause === undefined ? { secrets } : { detail: cause, secrets },
    );
  }
  const detail = error instanceof Error ? error.message : undefined;
  return providerError("gitlab", operation, "unknown", detail === undefined ? { secrets } : { detail, secrets });
}
