import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProviderAdapter, gitLabHost, type ProviderAdapter, ProviderError } from "./index.ts";
import { type FakeCommit, type FakeGitLab, startFakeGitLab } from "./testing/index.ts";

const adaToken = "glpat-adaTOKEN0123456789abcd";
const bobToken = "glpat-bobTOKEN0123456789abcd";
const carolOAuth = "oauth-carol-0123456789abcdef0123456789";
const hookSecret = "hook-secret-1a2b3c4d";

const sha = (n: number) => n.toString(16).padStart(40, "0");
const commits = (count: number, prefix = "Change"): FakeCommit[] =>
  Array.from({ length: count }, (_, i) => ({
    sha: sha(count - i),
    message: `${prefix} ${count - i}\n\nDetails of change ${count - i}.`,
    authorName: "Ada Lovelace",
    authorEmail: "ada@example.com",
    date: "2025-06-01T12:00:00.000+02:00",
  }));

let gl: FakeGitLab;
let ada: ProviderAdapter;
let bob: ProviderAdapter;

beforeAll(async () => {
  gl = await startFakeGitLab({
    users: [
      { token: adaToken, username: "ada" },
      { token: bobToken, username: "bob" },
      { token: carolOAuth, username: "carol", oauth: true },
    ],
    groups: [
      { path: "platform", members: { ada: 50 } },
      { path: "platform/team-a", members: { bob: 30, carol: 20 } },
    ],
    projects: [
      {
        path: "platform/team-a/deploy",
        visibility: "private",
        description: "Deployment configuration",
        branches: [
          { name: "main", protected: true, commits: commits(3) },
          { name: "feature/x", commits: commits(1, "Try") },
        ],
      },
      { path: "ada/empty", defaultBranch: null },
      {
        path: "platform/internal-docs",
        visibility: "internal",
        description: "",
        branches: [{ name: "main", commits: commits(1) }],
      },
      {
        path: "platform/team-a/big",
        branches: [
          { name: "main", commits: commits(250) },
          ...Array.from({ length: 129 }, (_, i) => ({ name: `topic-${i}`, commits: commits(1) })),
        ],
      },
    ],
  });
  ada = createProviderAdapter({ kind: "gitlab", apiUrl: gl.apiUrl, token: adaToken });
  bob = createProviderAdapter({ kind: "gitlab", apiUrl: gl.apiUrl, token: bobToken });
});

afterAll(async () => {
  await gl.close();
});

beforeEach(() => {
  gl.requests.length = 0;
});

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  const text = `${String(error)} ${JSON.stringify(error)}`;
  for (const secret of [adaToken, bobToken, carolOAuth, hookSecret]) expect(text).not.toContain(secret);
  return error;
}

describe("GitLab adapter", () => {
  it("reads a project by its URL-encoded path with PRIVATE-TOKEN", async () => {
    const repo = await bob.getRepository("platform/team-a/deploy");
    expect(repo).toEqual({
      fullName: "platform/team-a/deploy",
      defaultBranch: "main",
      webUrl: `${gl.url}/platform/team-a/deploy`,
      cloneUrl: `${gl.url}/platform/team-a/deploy.git`,
      sshUrl: "git@127.0.0.1:platform/team-a/deploy.git",
      private: true,
      description: "Deployment configuration",
      canPush: true,
    });
    const [req] = gl.requests;
    expect(req?.rawPath).toBe("/api/v4/projects/platform%2Fteam-a%2Fdeploy");
    expect(req?.headers["private-token"]).toBe(bobToken);
    expect(req?.headers.authorization).toBeUndefined();
  });

  it("takes a role inherited from an ancestor group into account for canPush", async () => {
    // ada owns the top-level group `platform`; GitLab reports that as group_access on the sub-group's project.
    expect((await ada.getRepository("platform/team-a/deploy")).canPush).toBe(true);
    const carol = createProviderAdapter({ kind: "gitlab", apiUrl: gl.apiUrl, token: carolOAuth, tokenType: "oauth" });
    // Reporter: may read, not push.
    expect((await carol.getRepository("platform/team-a/deploy")).canPush).toBe(false);
  });

  it("sends an OAuth token as Bearer", async () => {
    const carol = createProviderAdapter({ kind: "gitlab", apiUrl: gl.apiUrl, token: carolOAuth, tokenType: "oauth" });
    await carol.getRepository("platform/team-a/deploy");
    expect(gl.requests[0]?.headers.authorization).toBe(`Bearer ${carolOAuth}`);
    expect(gl.requests[0]?.headers["private-token"]).toBeUndefined();
    // The same token as PRIVATE-TOKEN is refused, as GitLab does.
    const wrongKind = createProviderAdapter({ kind: "gitlab", apiUrl: gl.apiUrl, token: carolOAuth });
    expect((await failure(wrongKind.getRepository("platform/team-a/deploy"))).reason).toBe("auth_failed");
  });

  it("counts internal projects as private and tolerates a missing default branch", async () => {
    expect(await ada.getRepository("platform/internal-docs")).toMatchObject({ private: true, description: null });
    expect(await ada.getRepository("ada/empty")).toMatchObject({ defaultBranch: "main", canPush: true });
  });

  it("names what failed: bad token, unknown or invisible project, malformed path", async () => {
    const bad = createProviderAdapter({ kind: "gitlab", apiUrl: gl.apiUrl, token: "glpat-wrong-000000" });
    const auth = await failure(bad.getRepository("platform/team-a/deploy"));
    expect(auth).toMatchObject({ reason: "auth_failed", status: 401 });
    expect(auth.message).toContain("get project platform/team-a/deploy");
    expect(auth.message).not.toContain("glpat-wrong-000000");

    expect(await failure(ada.getRepository("platform/nope"))).toMatchObject({ reason: "not_found", status: 404 });
    // bob is not a member of ada's personal namespace: a private project there is invisible.
    expect((await failure(bob.getRepository("ada/empty"))).reason).toBe("not_found");

    const before = gl.requests.length;
    expect((await failure(ada.getRepository("no-namespace"))).reason).toBe("invalid");
    expect((await failure(ada.getRepository("a/../b"))).reason).toBe("invalid");
    expect(gl.requests.length).toBe(before);
  });

  it("lists every branch across pages", async () => {
    const branches = await ada.listBranches("platform/team-a/big");
    expect(branches).toHaveLength(130);
    expect(branches[0]).toEqual({ name: "main", sha: sha(250), protected: false });
    expect(gl.requests.map((r) => r.query.get("page") ?? "1")).toEqual(["1", "2"]);
    expect(gl.requests[0]?.query.get("per_page")).toBe("100");
    expect(await ada.listBranches("platform/team-a/deploy")).toEqual([
      { name: "main", sha: sha(3), protected: true },
      { name: "feature/x", sha: sha(1), protected: false },
    ]);
  });

  it("lists the newest commits of a branch, up to the limit", async () => {
    const list = await ada.listCommits("platform/team-a/deploy", "main", 2);
    expect(list).toEqual([
      {
        sha: sha(3),
        subject: "Change 3",
        authorName: "Ada Lovelace",
        authorEmail: "ada@example.com",
        authoredAt: "2025-06-01T12:00:00.000+02:00",
        webUrl: `${gl.url}/platform/team-a/deploy/-/commit/${sha(3)}`,
      },
      expect.objectContaining({ sha: sha(2), subject: "Change 2" }),
    ]);
    expect(gl.requests).toHaveLength(1);
    expect(gl.requests[0]?.rawPath).toBe("/api/v4/projects/platform%2Fteam-a%2Fdeploy/repository/commits");
    expect(gl.requests[0]?.query.get("ref_name")).toBe("main");
    expect(gl.requests[0]?.query.get("per_page")).toBe("2");

    gl.requests.length = 0;
    const many = await ada.listCommits("platform/team-a/big", "main", 120);
    expect(many).toHaveLength(120);
    expect(many[119]?.sha).toBe(sha(131));
    expect(gl.requests).toHaveLength(2);

    expect(await ada.listCommits("ada/empty", "main", 5)).toEqual([]);
  });

  it("registers a push-events hook with the secret as its token, and deletes it", async () => {
    const { id } = await ada.registerWebhook("platform/team-a/deploy", {
      url: "https://juanie.example.com/api/webhooks/gitlab",
      secret: hookSecret,
    });
    expect(id).toMatch(/^\d+$/);
    const sent = gl.requests.find((r) => r.method === "POST");
    expect(sent?.rawPath).toBe("/api/v4/projects/platform%2Fteam-a%2Fdeploy/hooks");
    expect(sent?.headers["content-type"]).toBe("application/json");
    expect(sent?.body).toEqual({
      url: "https://juanie.example.com/api/webhooks/gitlab",
      push_events: true,
      tag_push_events: false,
      merge_requests_events: false,
      enable_ssl_verification: true,
      token: hookSecret,
    });
    expect(gl.project("platform/team-a/deploy")?.hooks).toEqual([
      expect.objectContaining({ id: Number(id), push_events: true, token: hookSecret }),
    ]);

    // A new secret for the same hook (the platform regenerated it): same URL and events, new token.
    await ada.updateWebhook("platform/team-a/deploy", id, {
      url: "https://juanie.example.com/api/webhooks/gitlab",
      secret: "a-new-secret-of-24-chars",
    });
    expect(gl.requests.at(-1)).toMatchObject({
      method: "PUT",
      rawPath: `/api/v4/projects/platform%2Fteam-a%2Fdeploy/hooks/${id}`,
      body: expect.objectContaining({ url: "https://juanie.example.com/api/webhooks/gitlab", push_events: true }),
    });
    expect(gl.project("platform/team-a/deploy")?.hooks).toEqual([
      expect.objectContaining({ id: Number(id), token: "a-new-secret-of-24-chars" }),
    ]);
    expect(
      (await failure(ada.updateWebhook("platform/team-a/deploy", "999", { url: "https://x", secret: "s" }))).reason,
    ).toBe("not_found");

    await ada.deleteWebhook("platform/team-a/deploy", id);
    expect(gl.requests.at(-1)).toMatchObject({
      method: "DELETE",
      rawPath: `/api/v4/projects/platform%2Fteam-a%2Fdeploy/hooks/${id}`,
    });
    expect(gl.project("platform/team-a/deploy")?.hooks).toEqual([]);
    expect((await failure(ada.deleteWebhook("platform/team-a/deploy", id))).reason).toBe("not_found");
    expect((await failure(ada.deleteWebhook("platform/team-a/deploy", "abc"))).reason).toBe("invalid");
  });

  it("reports a Developer registering hooks as forbidden", async () => {
    const error = await failure(
      bob.registerWebhook("platform/team-a/deploy", { url: "https://x.example/h", secret: hookSecret }),
    );
    expect(error).toMatchObject({ reason: "forbidden", status: 403 });
    expect(error.message).toContain("register webhook on platform/team-a/deploy");
  });

  it("creates a project in the user's namespace or in a (nested) group", async () => {
    const mine = await ada.createRepository({ name: "gitops", private: true, description: "Cluster config" });
    expect(mine).toEqual({
      fullName: "ada/gitops",
      cloneUrl: `${gl.url}/ada/gitops.git`,
      webUrl: `${gl.url}/ada/gitops`,
      defaultBranch: "main",
    });
    expect(gl.requests.map((r) => `${r.method} ${r.rawPath}`)).toEqual(["POST /api/v4/projects"]);
    expect(gl.requests[0]?.body).toEqual({
      name: "gitops",
      path: "gitops",
      visibility: "private",
      description: "Cluster config",
    });

    gl.requests.length = 0;
    const grouped = await bob.createRepository({ namespace: "platform/team-a", name: "svc-config", private: false });
    expect(grouped.fullName).toBe("platform/team-a/svc-config");
    expect(gl.requests.map((r) => `${r.method} ${r.rawPath}`)).toEqual([
      "GET /api/v4/namespaces/platform%2Fteam-a",
      "POST /api/v4/projects",
    ]);
    expect(gl.requests[1]?.body).toMatchObject({
      name: "svc-config",
      visibility: "public",
      namespace_id: expect.any(Number),
    });
    expect(gl.project("platform/team-a/svc-config")?.visibility).toBe("public");
  });

  it("reports creation conflicts, unknown namespaces and missing permission", async () => {
    const dup = await failure(ada.createRepository({ name: "empty", private: true }));
    expect(dup).toMatchObject({ reason: "conflict", status: 400 });
    expect(dup.message).toContain("has already been taken");
    expect((await failure(ada.createRepository({ namespace: "nowhere", name: "x", private: true }))).reason).toBe(
      "not_found",
    );
    // bob (Developer of team-a) can see `platform` only through team-a; GitLab hides the parent from him here.
    expect((await failure(bob.createRepository({ namespace: "platform", name: "x", private: true }))).reason).toBe(
      "not_found",
    );
    const carol = createProviderAdapter({ kind: "gitlab", apiUrl: gl.apiUrl, token: carolOAuth, tokenType: "oauth" });
    expect(
      (await failure(carol.createRepository({ namespace: "platform/team-a", name: "x", private: true }))).reason,
    ).toBe("forbidden");
  });

  it("recognises rate limiting and unreachable hosts", async () => {
    // gitbeaker retries 429 by itself, then gives up.
    for (let i = 0; i < 10; i++) gl.failNext({ status: 429, body: { message: "Retry later" } });
    expect((await failure(ada.getRepository("platform/team-a/deploy"))).reason).toBe("rate_limited");

    const closed = await startFakeGitLab({ users: [] });
    const url = closed.apiUrl;
    await closed.close();
    const down = createProviderAdapter({ kind: "gitlab", apiUrl: url, token: adaToken });
    expect((await failure(down.getRepository("platform/team-a/deploy"))).reason).toBe("network");

    const slow = createProviderAdapter({ kind: "gitlab", apiUrl: gl.apiUrl, token: adaToken, timeoutMs: 100 });
    gl.failNext({ status: 200, body: {}, delayMs: 2000 });
    expect((await failure(slow.getRepository("platform/team-a/deploy"))).reason).toBe("network");
  });

  it("accepts the instance URL with or without /api/v4", () => {
    expect(gitLabHost("https://gitlab.example.com/")).toBe("https://gitlab.example.com");
    expect(gitLabHost("https://gitlab.example.com/api/v4")).toBe("https://gitlab.example.com");
    expect(gitLabHost("https://example.com/gitlab/")).toBe("https://example.com/gitlab");
  });
});
