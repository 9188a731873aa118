import type { FakeCommit } from "./fakeGitHub.ts";
import { type FakeResponse, type FakeServer, paginate, type RecordedRequest, startFakeServer } from "./fakeServer.ts";

// A local stand-in for the GitLab v4 REST API (the endpoints the adapter calls), with GitLab's JSON shapes,
// auth headers (PRIVATE-TOKEN or OAuth Bearer), URL-encoded project paths, pagination headers and error
// bodies. The instance is served at the fake's root, the way a self-hosted GitLab is. A test double.

/** GitLab roles: 10 guest, 20 reporter, 30 developer, 40 maintainer, 50 owner. */
export type AccessLevel = 10 | 20 | 30 | 40 | 50;

export interface FakeGitLabProjectSeed {
  /** Full path, e.g. `acme/platform/app`; its namespace is a seeded group or a user's username. */
  path: string;
  visibility?: "private" | "internal" | "public";
  description?: string | null;
  /** null: GitLab reports none for an empty repository. Default: the first branch's name, else null. */
  defaultBranch?: string | null;
  members?: Record<string, AccessLevel>;
  branches?: { name: string; protected?: boolean; commits: FakeCommit[] }[];
}

export interface FakeGitLabOptions {
  /** `oauth: true` marks an OAuth access token: it is only accepted as `Authorization: Bearer`. */
  users: { token: string; username: string; id?: number; oauth?: boolean }[];
  groups?: { path: string; members?: Record<string, AccessLevel> }[];
  projects?: FakeGitLabProjectSeed[];
}

export interface FakeGitLabHook {
  id: number;
  url: string;
  token: string | undefined;
  push_events: boolean;
  tag_push_events: boolean;
  merge_requests_events: boolean;
  enable_ssl_verification: boolean;
}

interface ProjectState {
  id: number;
  path: string;
  namespace: NamespaceState;
  visibility: "private" | "internal" | "public";
  description: string | null;
  defaultBranch: string | null;
  members: Record<string, AccessLevel>;
  branches: { name: string; protected: boolean; commits: FakeCommit[] }[];
  hooks: FakeGitLabHook[];
}

interface NamespaceState {
  id: number;
  kind: "user" | "group";
  fullPath: string;
  parentId: number | null;
  members: Record<string, AccessLevel>;
}

export interface FakeGitLab extends FakeServer {
  /** The value for `ProviderConfig.apiUrl` (the instance base URL). */
  apiUrl: string;
  project(fullPath: string): ProjectState | undefined;
}

export async function startFakeGitLab(options: FakeGitLabOptions): Promise<FakeGitLab> {
  let nextId = 500;
  const users = options.users.map((u, i) => ({ ...u, id: u.id ?? 10 + i }));
  const namespaces: NamespaceState[] = [];
  for (const u of users) {
    namespaces.push({
      id: 1000 + u.id,
      kind: "user",
      fullPath: u.username,
      parentId: null,
      members: { [u.username]: 50 },
    });
  }
  for (const g of options.groups ?? []) {
    const parentPath = g.path.split("/").slice(0, -1).join("/");
    const parent = namespaces.find((n) => n.kind === "group" && n.fullPath === parentPath);
    namespaces.push({
      id: nextId++,
      kind: "group",
      fullPath: g.path,
      parentId: parent?.id ?? null,
      members: g.members ?? {},
    });
  }
  const projects: ProjectState[] = [];
  const addProject = (seed: FakeGitLabProjectSeed & { namespace: NamespaceState }) => {
    const branches = (seed.branches ?? []).map((b) => ({ protected: false, ...b }));
    const state: ProjectState = {
      id: nextId++,
      path: seed.path.split("/").at(-1) ?? seed.path,
      namespace: seed.namespace,
      visibility: seed.visibility ?? "private",
      description: seed.description ?? null,
      defaultBranch: seed.defaultBranch !== undefined ? seed.defaultBranch : (branches[0]?.name ?? null),
      members: seed.members ?? {},
      branches,
      hooks: [],
    };
    projects.push(state);
    return state;
  };
  for (const seed of options.projects ?? []) {
    const nsPath = seed.path.split("/").slice(0, -1).join("/");
    const namespace = namespaces.find((n) => n.fullPath === nsPath);
    if (!namespace) throw new Error(`fake GitLab: no namespace ${nsPath}`);
    addProject({ ...seed, namespace });
  }

  const fullPath = (p: ProjectState) => `${p.namespace.fullPath}/${p.path}`;
  const message = (status: number, text: string): FakeResponse => ({ status, body: { message: text } });

  const ancestors = (ns: NamespaceState): NamespaceState[] => {
    const out = [ns];
    let cur = ns;
    while (cur.parentId !== null) {
      const parent = namespaces.find((n) => n.id === cur.parentId);
      if (!parent) break;
      out.push(parent);
      cur = parent;
    }
    return out;
  };
  const groupAccess = (ns: NamespaceState, username: string): number =>
    Math.max(0, ...ancestors(ns).map((n) => n.members[username] ?? 0));
  const projectAccess = (p: ProjectState, username: string): number =>
    Math.max(p.members[username] ?? 0, groupAccess(p.namespace, username));

  const projectJson = (p: ProjectState, username: string, base: string) => {
    const path = fullPath(p);
    const direct = p.members[username] ?? (p.namespace.kind === "user" ? p.namespace.members[username] : undefined);
    // Like GitLab: the highest membership in the project's group or any ancestor group.
    const viaGroup = p.namespace.kind === "group" ? groupAccess(p.namespace, username) : 0;
    return {
      id: p.id,
      description: p.description,
      name: p.path,
      name_with_namespace: path.split("/").join(" / "),
      path: p.path,
      path_with_namespace: path,
      created_at: "2025-01-02T03:04:05.000Z",
      default_branch: p.defaultBranch,
      topics: [],
      ssh_url_to_repo: `git@${new URL(base).hostname}:${path}.git`,
      http_url_to_repo: `${base}/${path}.git`,
      web_url: `${base}/${path}`,
      readme_url: null,
      forks_count: 0,
      avatar_url: null,
      star_count: 0,
      last_activity_at: "2025-01-02T03:04:05.000Z",
      namespace: namespaceJson(p.namespace, base),
      visibility: p.visibility,
      empty_repo: p.branches.length === 0,
      archived: false,
      _links: { self: `${base}/api/v4/projects/${p.id}` },
      permissions: {
        project_access: direct ? { access_level: direct, notification_level: 3 } : null,
        group_access: viaGroup ? { access_level: viaGroup, notification_level: 3 } : null,
      },
    };
  };

  const namespaceJson = (ns: NamespaceState, base: string) => ({
    id: ns.id,
    name: ns.fullPath.split("/").at(-1),
    path: ns.fullPath.split("/").at(-1),
    kind: ns.kind,
    full_path: ns.fullPath,
    parent_id: ns.parentId,
    avatar_url: null,
    web_url: ns.kind === "user" ? `${base}/${ns.fullPath}` : `${base}/groups/${ns.fullPath}`,
  });

  const commitJson = (p: ProjectState, c: FakeCommit, base: string) => ({
    id: c.sha,
    short_id: c.sha.slice(0, 8),
    created_at: c.date,
    parent_ids: [],
    title: c.message.split("\n")[0],
    message: c.message,
    author_name: c.authorName,
    author_email: c.authorEmail,
    authored_date: c.date,
    committer_name: c.authorName,
    committer_email: c.authorEmail,
    committed_date: c.date,
    trailers: {},
    extended_trailers: {},
    web_url: `${base}/${fullPath(p)}/-/commit/${c.sha}`,
  });

  const hookJson = (p: ProjectState, h: FakeGitLabHook) => ({
    id: h.id,
    url: h.url,
    project_id: p.id,
    push_events: h.push_events,
    push_events_branch_filter: "",
    tag_push_events: h.tag_push_events,
    merge_requests_events: h.merge_requests_events,
    issues_events: false,
    repository_update_events: false,
    enable_ssl_verification: h.enable_ssl_verification,
    alert_status: "executable",
    created_at: "2025-01-02T03:04:05.000Z",
  });

  const handle = (req: RecordedRequest, base: string): FakeResponse => {
    const s = req.segments;
    if (s[0] !== "api" || s[1] !== "v4") return { status: 404, body: { error: "404 Not Found" } };
    const privateToken = req.headers["private-token"];
    const bearer = /^Bearer (\S+)$/i.exec(String(req.headers.authorization ?? ""))?.[1];
    const user =
      typeof privateToken === "string"
        ? users.find((u) => u.token === privateToken && !u.oauth)
        : bearer
          ? users.find((u) => u.token === bearer)
          : undefined;
    if (!user) return message(401, "401 Unauthorized");
    const r = s.slice(2);
    const m = req.method;

    if (m === "GET" && r.length === 1 && r[0] === "user") {
      return { status: 200, body: { id: user.id, username: user.username, name: user.username, state: "active" } };
    }

    if ((r[0] === "namespaces" || r[0] === "groups") && r.length === 2 && m === "GET") {
      const key = r[1] ?? "";
      const ns = namespaces.find(
        (n) => (String(n.id) === key || n.fullPath === key) && (r[0] === "namespaces" || n.kind === "group"),
      );
      if (!ns || groupAccess(ns, user.username) === 0) {
        return message(404, r[0] === "groups" ? "404 Group Not Found" : "404 Namespace Not Found");
      }
      return { status: 200, body: namespaceJson(ns, base) };
    }

    if (m === "POST" && r.length === 1 && r[0] === "projects") {
      const body = isRecord(req.body) ? req.body : {};
      const path = typeof body.path === "string" ? body.path : typeof body.name === "string" ? body.name : "";
      if (!path)
        return { status: 400, body: { error: "name, path are missing, at least one parameter must be provided" } };
      let namespace = namespaces.find((n) => n.kind === "user" && n.fullPath === user.username);
      if (body.namespace_id !== undefined) {
        namespace = namespaces.find((n) => n.id === Number(body.namespace_id));
        if (!namespace) return message(404, "404 Namespace Not Found");
        if (groupAccess(namespace, user.username) < 30) return message(403, "403 Forbidden");
      }
      if (!namespace) return message(404, "404 Namespace Not Found");
      const ns = namespace;
      if (projects.some((p) => p.namespace === ns && p.path === path)) {
        return {
          status: 400,
          body: {
            message: {
              project_namespace: ["has already been taken"],
              name: ["has already been taken"],
              path: ["has already been taken"],
            },
          },
        };
      }
      const visibility = body.visibility === "public" || body.visibility === "internal" ? body.visibility : "private";
      const project = addProject({
        path: `${ns.fullPath}/${path}`,
        namespace: ns,
        visibility,
        description: typeof body.description === "string" ? body.description : null,
        defaultBranch: null,
      });
      return { status: 201, body: projectJson(project, user.username, base) };
    }

    if (r[0] === "projects" && r.length >= 2) {
      const key = r[1] ?? "";
      const project = projects.find((p) => String(p.id) === key || fullPath(p) === key);
      const access = project ? projectAccess(project, user.username) : 0;
      if (!project || (access === 0 && project.visibility === "private")) return message(404, "404 Project Not Found");
      const rest = r.slice(2);

      if (m === "GET" && rest.length === 0) return { status: 200, body: projectJson(project, user.username, base) };

      if (m === "GET" && rest.length === 2 && rest[0] === "repository" && rest[1] === "branches") {
        const all = project.branches.map((b) => {
          const head = b.commits[0];
          return {
            name: b.name,
            commit: head ? commitJson(project, head, base) : null,
            merged: false,
            protected: b.protected,
            developers_can_push: !b.protected,
            developers_can_merge: !b.protected,
            can_push: access >= (b.protected ? 40 : 30),
            default: b.name === project.defaultBranch,
            web_url: `${base}/${fullPath(project)}/-/tree/${b.name}`,
          };
        });
        const { page, headers } = paginate(all, req, base, {
          defaultPerPage: 20,
          maxPerPage: 100,
          gitlabHeaders: true,
        });
        return { status: 200, body: page, headers };
      }

      if (m === "GET" && rest.length === 2 && rest[0] === "repository" && rest[1] === "commits") {
        const ref = req.query.get("ref_name") ?? project.defaultBranch;
        const branch = project.branches.find((b) => b.name === ref);
        const all = (branch?.commits ?? []).map((c) => commitJson(project, c, base));
        const { page, headers } = paginate(all, req, base, {
          defaultPerPage: 20,
          maxPerPage: 100,
          gitlabHeaders: true,
        });
        return { status: 200, body: page, headers };
      }

      if (rest[0] === "hooks") {
        if (access < 40) return message(403, "403 Forbidden");
        if (m === "POST" && rest.length === 1) {
          const body = isRecord(req.body) ? req.body : {};
          if (typeof body.url !== "string" || !body.url) return { status: 400, body: { error: "url is missing" } };
          const hook: FakeGitLabHook = {
            id: nextId++,
            url: body.url,
            token: typeof body.token === "string" ? body.token : undefined,
            push_events: body.push_events !== false,
            tag_push_events: body.tag_push_events === true,
            merge_requests_events: body.merge_requests_events === true,
            enable_ssl_verification: body.enable_ssl_verification !== false,
          };
          project.hooks.push(hook);
          // GitLab never returns the token.
          return { status: 201, body: hookJson(project, hook) };
        }
        if (m === "PUT" && rest.length === 2) {
          const hook = project.hooks.find((h) => String(h.id) === rest[1]);
          if (!hook) return message(404, "404 Not found");
          const body = isRecord(req.body) ? req.body : {};
          if (typeof body.url !== "string" || !body.url) return { status: 400, body: { error: "url is missing" } };
          hook.url = body.url;
          if (typeof body.token === "string") hook.token = body.token;
          return { status: 200, body: hookJson(project, hook) };
        }
        if (m === "DELETE" && rest.length === 2) {
          const index = project.hooks.findIndex((h) => String(h.id) === rest[1]);
          if (index < 0) return message(404, "404 Not found");
          project.hooks.splice(index, 1);
          return { status: 204 };
        }
      }
    }
    return message(404, "404 Not Found");
  };

  const server = await startFakeServer(handle);
  return {
    ...server,
    apiUrl: server.url,
    project: (path) => projects.find((p) => fullPath(p) === path),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
