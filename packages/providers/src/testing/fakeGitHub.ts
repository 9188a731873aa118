import { type FakeResponse, type FakeServer, paginate, type RecordedRequest, startFakeServer } from "./fakeServer.ts";

// A local stand-in for the GitHub REST API (the endpoints the adapter calls), with GitHub's JSON shapes,
// auth header, pagination and error bodies. A test double, named as such.

export interface FakeCommit {
  sha: string;
  message: string;
  authorName: string;
  authorEmail: string;
  date: string;
}

export interface FakeGitHubRepoSeed {
  owner: string;
  name: string;
  private?: boolean;
  description?: string | null;
  defaultBranch?: string;
  /** Collaborators besides the owner (a user owner, or an org's admins, have admin). */
  access?: Record<string, "admin" | "write" | "read">;
  /** Branches with their commits, newest first. No branches: an empty repository. */
  branches?: { name: string; protected?: boolean; commits: FakeCommit[] }[];
}

export interface FakeGitHubOptions {
  /** Host of html_url/clone_url; default `github.example`. */
  webHost?: string;
  /**
   * clone_url of a repository, when it should point at a real Git server (e.g. a local `git http-backend`)
   * instead of `https://<webHost>/<owner>/<name>.git`.
   */
  cloneUrl?: (fullName: string) => string;
  /** Called when a repository is created through the API, before the answer (to create it on that Git server). */
  onCreateRepository?: (fullName: string) => Promise<void> | void;
  /** Serve the API under a path, as GitHub Enterprise Server does (`/api/v3`). Default: the root. */
  pathPrefix?: string;
  users: { token: string; login: string; id?: number }[];
  orgs?: { login: string; admins?: string[]; members?: string[] }[];
  repos?: FakeGitHubRepoSeed[];
}

export interface FakeGitHubHook {
  id: number;
  name: string;
  active: boolean;
  events: string[];
  config: Record<string, unknown>;
}

interface RepoState extends Required<Omit<FakeGitHubRepoSeed, "branches">> {
  id: number;
  branches: { name: string; protected: boolean; commits: FakeCommit[] }[];
  hooks: FakeGitHubHook[];
}

export interface FakeGitHub extends FakeServer {
  /** The value for `ProviderConfig.apiUrl`. */
  apiUrl: string;
  repo(fullName: string): RepoState | undefined;
}

const docs = "https://docs.github.com/rest";

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const webHost = options.webHost ?? "github.example";
  const prefix = (options.pathPrefix ?? "").split("/").filter(Boolean);
  let nextId = 1000;
  const users = options.users.map((u, i) => ({ ...u, id: u.id ?? 100 + i }));
  const orgs = (options.orgs ?? []).map((o) => ({ admins: [], members: [], ...o }));
  const repos = new Map<string, RepoState>();
  const addRepo = (seed: FakeGitHubRepoSeed) => {
    const state: RepoState = {
      owner: seed.owner,
      name: seed.name,
      private: seed.private ?? false,
      description: seed.description ?? null,
      defaultBranch: seed.defaultBranch ?? "main",
      access: seed.access ?? {},
      id: nextId++,
      branches: (seed.branches ?? []).map((b) => ({ protected: false, ...b })),
      hooks: [],
    };
    repos.set(`${seed.owner}/${seed.name}`.toLowerCase(), state);
    return state;
  };
  for (const seed of options.repos ?? []) addRepo(seed);

  const error = (status: number, message: string, extra: Record<string, unknown> = {}): FakeResponse => ({
    status,
    body: { message, ...extra, documentation_url: docs, status: String(status) },
  });

  const permissionOf = (repo: RepoState, login: string): "admin" | "write" | "read" | null => {
    if (repo.owner.toLowerCase() === login.toLowerCase()) return "admin";
    const org = orgs.find((o) => o.login.toLowerCase() === repo.owner.toLowerCase());
    if (org?.admins.includes(login)) return "admin";
    return repo.access[login] ?? (repo.private ? null : "read");
  };

  const ownerJson = (login: string) => {
    const org = orgs.find((o) => o.login.toLowerCase() === login.toLowerCase());
    return { login, id: 1, type: org ? "Organization" : "User", html_url: `https://${webHost}/${login}` };
  };

  const repoJson = (repo: RepoState, login: string, apiUrl: string) => {
    const fullName = `${repo.owner}/${repo.name}`;
    const perm = permissionOf(repo, login);
    return {
      id: repo.id,
      node_id: `R_${repo.id}`,
      name: repo.name,
      full_name: fullName,
      private: repo.private,
      visibility: repo.private ? "private" : "public",
      owner: ownerJson(repo.owner),
      html_url: `https://${webHost}/${fullName}`,
      description: repo.description,
      fork: false,
      url: `${apiUrl}/repos/${fullName}`,
      hooks_url: `${apiUrl}/repos/${fullName}/hooks`,
      git_url: `git://${webHost}/${fullName}.git`,
      ssh_url: `git@${webHost}:${fullName}.git`,
      clone_url: options.cloneUrl?.(fullName) ?? `https://${webHost}/${fullName}.git`,
      default_branch: repo.defaultBranch,
      archived: false,
      disabled: false,
      created_at: "2025-01-02T03:04:05Z",
      updated_at: "2025-01-02T03:04:05Z",
      pushed_at: "2025-01-02T03:04:05Z",
      permissions: {
        admin: perm === "admin",
        maintain: perm === "admin",
        push: perm === "admin" || perm === "write",
        triage: perm !== null,
        pull: perm !== null,
      },
    };
  };

  const commitJson = (repo: RepoState, c: FakeCommit, apiUrl: string) => {
    const fullName = `${repo.owner}/${repo.name}`;
    const person = { name: c.authorName, email: c.authorEmail, date: c.date };
    return {
      sha: c.sha,
      node_id: `C_${c.sha.slice(0, 8)}`,
      commit: {
        author: person,
        committer: person,
        message: c.message,
        tree: { sha: "f".repeat(40), url: `${apiUrl}/repos/${fullName}/git/trees/${"f".repeat(40)}` },
        url: `${apiUrl}/repos/${fullName}/git/commits/${c.sha}`,
        comment_count: 0,
        verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
      },
      url: `${apiUrl}/repos/${fullName}/commits/${c.sha}`,
      html_url: `https://${webHost}/${fullName}/commit/${c.sha}`,
      comments_url: `${apiUrl}/repos/${fullName}/commits/${c.sha}/comments`,
      author: null,
      committer: null,
      parents: [],
    };
  };

  const handle = async (req: RecordedRequest, baseUrl: string): Promise<FakeResponse> => {
    const apiUrl = [baseUrl, ...prefix].join("/");
    if (!prefix.every((p, i) => req.segments[i] === p)) return error(404, "Not Found");
    const s = req.segments.slice(prefix.length);
    const auth = /^(?:token|bearer) (\S+)$/i.exec(String(req.headers.authorization ?? ""));
    if (!auth) return error(401, "Requires authentication");
    const user = users.find((u) => u.token === auth[1]);
    if (!user) return error(401, "Bad credentials");
    const m = req.method;

    if (m === "GET" && s.length === 1 && s[0] === "user") {
      return { status: 200, body: { login: user.login, id: user.id, type: "User", name: user.login } };
    }

    if ((m === "POST" && s.length === 2 && s[0] === "user" && s[1] === "repos") || (m === "POST" && s[0] === "orgs")) {
      let owner = user.login;
      if (s[0] === "orgs") {
        const org = orgs.find((o) => o.login.toLowerCase() === (s[1] ?? "").toLowerCase());
        if (!org || s.length !== 3 || s[2] !== "repos") return error(404, "Not Found");
        if (!org.admins.includes(user.login) && !org.members.includes(user.login)) return error(404, "Not Found");
        if (!org.admins.includes(user.login)) {
          return error(403, "You need admin access to the organization before adding a repository to it.");
        }
        owner = org.login;
      }
      const body = isRecord(req.body) ? req.body : {};
      const name = typeof body.name === "string" ? body.name : "";
      if (!name)
        return error(422, "Repository creation failed.", {
          errors: [{ resource: "Repository", code: "missing_field", field: "name" }],
        });
      if (repos.has(`${owner}/${name}`.toLowerCase())) {
        return error(422, "Repository creation failed.", {
          errors: [
            { resource: "Repository", code: "custom", field: "name", message: "name already exists on this account" },
          ],
        });
      }
      const repo = addRepo({
        owner,
        name,
        private: body.private === true,
        description: typeof body.description === "string" ? body.description : null,
      });
      await options.onCreateRepository?.(`${repo.owner}/${repo.name}`);
      return { status: 201, body: repoJson(repo, user.login, apiUrl) };
    }

    if (s[0] === "repos" && s.length >= 3) {
      const repo = repos.get(`${s[1]}/${s[2]}`.toLowerCase());
      const perm = repo ? permissionOf(repo, user.login) : null;
      if (!repo || !perm) return error(404, "Not Found");
      const rest = s.slice(3);

      if (m === "GET" && rest.length === 0) return { status: 200, body: repoJson(repo, user.login, apiUrl) };

      if (m === "GET" && rest.length === 1 && rest[0] === "branches") {
        const all = repo.branches.map((b) => ({
          name: b.name,
          commit: {
            sha: b.commits[0]?.sha ?? "",
            url: `${apiUrl}/repos/${repo.owner}/${repo.name}/commits/${b.commits[0]?.sha}`,
          },
          protected: b.protected,
        }));
        const { page, headers } = paginate(all, req, baseUrl, { defaultPerPage: 30, maxPerPage: 100 });
        return { status: 200, body: page, headers };
      }

      if (m === "GET" && rest.length === 1 && rest[0] === "commits") {
        if (repo.branches.length === 0) return error(409, "Git Repository is empty.");
        const ref = req.query.get("sha") ?? repo.defaultBranch;
        const branch = repo.branches.find((b) => b.name === ref);
        if (!branch) return error(404, `No commit found for SHA: ${ref}`);
        const all = branch.commits.map((c) => commitJson(repo, c, apiUrl));
        const { page, headers } = paginate(all, req, baseUrl, { defaultPerPage: 30, maxPerPage: 100 });
        return { status: 200, body: page, headers };
      }

      if (rest[0] === "hooks") {
        // Fine-grained tokens without the "webhooks" permission get this 403 rather than a 404.
        if (perm !== "admin") return error(403, "Resource not accessible by personal access token");
        if (m === "POST" && rest.length === 1) {
          const body = isRecord(req.body) ? req.body : {};
          const config = isRecord(body.config) ? body.config : {};
          if (typeof config.url !== "string") {
            return error(422, "Validation Failed", {
              errors: [{ resource: "Hook", code: "custom", message: "Config must contain url" }],
            });
          }
          if (repo.hooks.some((h) => h.config.url === config.url)) {
            return error(422, "Validation Failed", {
              errors: [{ resource: "Hook", code: "custom", message: "Hook already exists on this repository" }],
            });
          }
          const hook: FakeGitHubHook = {
            id: nextId++,
            name: typeof body.name === "string" ? body.name : "web",
            active: body.active !== false,
            events: Array.isArray(body.events) ? body.events.map(String) : ["push"],
            config,
          };
          repo.hooks.push(hook);
          const hookUrl = `${apiUrl}/repos/${repo.owner}/${repo.name}/hooks/${hook.id}`;
          return {
            status: 201,
            body: {
              type: "Repository",
              id: hook.id,
              name: hook.name,
              active: hook.active,
              events: hook.events,
              // GitHub never returns the secret.
              config: { ...config, ...(config.secret !== undefined ? { secret: "********" } : {}) },
              updated_at: "2025-01-02T03:04:05Z",
              created_at: "2025-01-02T03:04:05Z",
              url: hookUrl,
              test_url: `${hookUrl}/test`,
              ping_url: `${hookUrl}/pings`,
              deliveries_url: `${hookUrl}/deliveries`,
              last_response: { code: null, status: "unused", message: null },
            },
          };
        }
        if (m === "PATCH" && rest.length === 2) {
          const hook = repo.hooks.find((h) => String(h.id) === rest[1]);
          if (!hook) return error(404, "Not Found");
          const body = isRecord(req.body) ? req.body : {};
          if (isRecord(body.config)) hook.config = { ...hook.config, ...body.config };
          if (Array.isArray(body.events)) hook.events = body.events.map(String);
          if (typeof body.active === "boolean") hook.active = body.active;
          const { secret, ...shown } = hook.config;
          return {
            status: 200,
            body: {
              type: "Repository",
              id: hook.id,
              name: hook.name,
              active: hook.active,
              events: hook.events,
              config: { ...shown, ...(secret !== undefined ? { secret: "********" } : {}) },
            },
          };
        }
        if (m === "DELETE" && rest.length === 2) {
          const index = repo.hooks.findIndex((h) => String(h.id) === rest[1]);
          if (index < 0) return error(404, "Not Found");
          repo.hooks.splice(index, 1);
          return { status: 204 };
        }
      }
    }
    return error(404, "Not Found");
  };

  const server = await startFakeServer(handle);
  return {
    ...server,
    apiUrl: [server.url, ...prefix].join("/"),
    repo: (fullName) => repos.get(fullName.toLowerCase()),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
