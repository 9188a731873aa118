import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProviderAdapter, type ProviderAdapter, ProviderError } from "./index.ts";
import { type FakeCommit, type FakeGitHub, startFakeGitHub } from "./testing/index.ts";

const adaToken = "ghp_adaTOKEN0123456789abcdefghijklmnop";
const bobToken = "ghp_bobTOKEN0123456789abcdefghijklmnop";
const hookSecret = "hook-secret-9f8e7d6c";

const sha = (n: number) => n.toString(16).padStart(40, "0");
const commits = (count: number, prefix = "Change"): FakeCommit[] =>
  Array.from({ length: count }, (_, i) => ({
    sha: sha(count - i),
    message: `${prefix} ${count - i}\n\nDetails of change ${count - i}.`,
    authorName: "Ada Lovelace",
    authorEmail: "ada@example.com",
    date: `2025-06-01T12:${String((count - i) % 60).padStart(2, "0")}:00Z`,
  }));

let gh: FakeGitHub;
let ada: ProviderAdapter;
let bob: ProviderAdapter;

beforeAll(async () => {
  gh = await startFakeGitHub({
    webHost: "github.com",
    // Served like GitHub Enterprise Server, under /api/v3.
    pathPrefix: "/api/v3",
    users: [
      { token: adaToken, login: "ada" },
      { token: bobToken, login: "bob" },
    ],
    orgs: [{ login: "acme", admins: ["ada"], members: ["bob"] }],
    repos: [
      {
        owner: "acme",
        name: "deploy",
        private: true,
        description: "Deployment configuration",
        access: { bob: "read" },
        branches: [
          { name: "main", protected: true, commits: commits(3) },
          { name: "feature/x", commits: commits(1, "Try") },
        ],
      },
      { owner: "ada", name: "empty" },
      {
        owner: "acme",
        name: "big",
        access: { bob: "write" },
        branches: [
          { name: "main", commits: commits(250) },
          ...Array.from({ length: 129 }, (_, i) => ({ name: `topic-${i}`, commits: commits(1) })),
        ],
      },
    ],
  });
  ada = createProviderAdapter({ kind: "github", apiUrl: gh.apiUrl, token: adaToken });
  bob = createProviderAdapter({ kind: "github", apiUrl: gh.apiUrl, token: bobToken });
});

afterAll(async () => {
  await gh.close();
});

beforeEach(() => {
  gh.requests.length = 0;
});

/** The rejection as a ProviderError, checking on the way that the token is nowhere in it. */
async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  const text = `${String(error)} ${JSON.stringify(error)}`;
  for (const secret of [adaToken, bobToken, hookSecret]) expect(text).not.toContain(secret);
  return error;
}

describe("GitHub adapter", () => {
  it("reads a repository with the token in the Authorization header", async () => {
    const repo = await ada.getRepository("acme/deploy");
    expect(repo).toEqual({
      fullName: "acme/deploy",
      defaultBranch: "main",
      webUrl: "https://github.com/acme/deploy",
      cloneUrl: "https://github.com/acme/deploy.git",
      sshUrl: "git@github.com:acme/deploy.git",
      private: true,
      description: "Deployment configuration",
      canPush: true,
    });
    const [req] = gh.requests;
    expect(req?.method).toBe("GET");
    expect(req?.rawPath).toBe("/api/v3/repos/acme/deploy");
    expect(req?.headers.authorization).toBe(`token ${adaToken}`);
  });

  it("says whether the token may push", async () => {
    expect((await bob.getRepository("acme/deploy")).canPush).toBe(false);
    expect((await bob.getRepository("acme/big")).canPush).toBe(true);
  });

  it("names what failed: bad token, unknown repository, malformed name", async () => {
    const badToken = createProviderAdapter({ kind: "github", apiUrl: gh.apiUrl, token: "ghp_wrong_0123456789" });
    const auth = await failure(badToken.getRepository("acme/deploy"));
    expect(auth.reason).toBe("auth_failed");
    expect(auth.status).toBe(401);
    expect(auth.message).toContain("get repository acme/deploy");
    expect(auth.message).toContain("Bad credentials");
    expect(auth.message).not.toContain("ghp_wrong_0123456789");

    const missing = await failure(ada.getRepository("acme/nope"));
    expect(missing).toMatchObject({ reason: "not_found", status: 404 });

    const before = gh.requests.length;
    const invalid = await failure(ada.getRepository("acme/deploy/extra"));
    expect(invalid.reason).toBe("invalid");
    expect((await failure(ada.getRepository("acme/.."))).reason).toBe("invalid");
    expect(gh.requests.length).toBe(before);
  });

  it("hides private repositories from users without access (GitHub answers 404)", async () => {
    const carol = await startFakeGitHub({
      users: [{ token: "ghp_carol_000000000000", login: "carol" }],
      repos: [{ owner: "acme", name: "secret", private: true }],
    });
    try {
      const adapter = createProviderAdapter({ kind: "github", apiUrl: carol.apiUrl, token: "ghp_carol_000000000000" });
      expect((await failure(adapter.getRepository("acme/secret"))).reason).toBe("not_found");
    } finally {
      await carol.close();
    }
  });

  it("lists every branch across pages", async () => {
    const branches = await ada.listBranches("acme/big");
    expect(branches).toHaveLength(130);
    expect(branches[0]).toEqual({ name: "main", sha: sha(250), protected: false });
    expect(gh.requests.map((r) => `${r.rawPath}?${r.query}`)).toEqual([
      "/api/v3/repos/acme/big/branches?per_page=100",
      "/api/v3/repos/acme/big/branches?per_page=100&page=2",
    ]);
    expect(await ada.listBranches("acme/deploy")).toEqual([
      { name: "main", sha: sha(3), protected: true },
      { name: "feature/x", sha: sha(1), protected: false },
    ]);
  });

  it("lists the newest commits of a branch, up to the limit", async () => {
    const list = await ada.listCommits("acme/deploy", "main", 2);
    expect(list).toEqual([
      {
        sha: sha(3),
        subject: "Change 3",
        authorName: "Ada Lovelace",
        authorEmail: "ada@example.com",
        authoredAt: "2025-06-01T12:03:00Z",
        webUrl: `https://github.com/acme/deploy/commit/${sha(3)}`,
      },
      expect.objectContaining({ sha: sha(2), subject: "Change 2" }),
    ]);
    expect(gh.requests[0]?.query.get("sha")).toBe("main");
    expect(gh.requests[0]?.query.get("per_page")).toBe("2");

    gh.requests.length = 0;
    const many = await ada.listCommits("acme/big", "main", 120);
    expect(many).toHaveLength(120);
    expect(many[119]?.sha).toBe(sha(131));
    expect(gh.requests).toHaveLength(2);

    expect(await ada.listCommits("acme/deploy", "feature/x", 10)).toHaveLength(1);
    expect(await ada.listCommits("acme/deploy", "main", 0)).toEqual([]);
  });

  it("treats an empty repository as having no commits, and an unknown branch as not found", async () => {
    expect(await ada.listCommits("ada/empty", "main", 10)).toEqual([]);
    expect((await failure(ada.listCommits("acme/deploy", "nope", 10))).reason).toBe("not_found");
  });

  it("registers a push webhook with a JSON body and the secret, and deletes it", async () => {
    const { id } = await ada.registerWebhook("acme/deploy", {
      url: "https://juanie.example.com/api/webhooks/github",
      secret: hookSecret,
    });
    expect(id).toMatch(/^\d+$/);
    const sent = gh.requests.find((r) => r.method === "POST");
    expect(sent?.rawPath).toBe("/api/v3/repos/acme/deploy/hooks");
    expect(sent?.body).toEqual({
      name: "web",
      active: true,
      events: ["push"],
      config: {
        url: "https://juanie.example.com/api/webhooks/github",
        content_type: "json",
        secret: hookSecret,
        insecure_ssl: "0",
      },
    });
    expect(gh.repo("acme/deploy")?.hooks.map((h) => String(h.id))).toEqual([id]);

    const again = await failure(
      ada.registerWebhook("acme/deploy", { url: "https://juanie.example.com/api/webhooks/github", secret: hookSecret }),
    );
    expect(again.reason).toBe("conflict");
    expect(again.message).toContain("Hook already exists");

    await ada.deleteWebhook("acme/deploy", id);
    expect(gh.requests.at(-1)).toMatchObject({ method: "DELETE", rawPath: `/api/v3/repos/acme/deploy/hooks/${id}` });
    expect(gh.repo("acme/deploy")?.hooks).toEqual([]);
    expect((await failure(ada.deleteWebhook("acme/deploy", id))).reason).toBe("not_found");
    expect((await failure(ada.deleteWebhook("acme/deploy", "12; rm -rf"))).reason).toBe("invalid");
  });

  it("reports a token that may not manage hooks as forbidden", async () => {
    const error = await failure(bob.registerWebhook("acme/deploy", { url: "https://x.example/h", secret: hookSecret }));
    expect(error).toMatchObject({ reason: "forbidden", status: 403 });
    expect(error.message).toContain("register webhook on acme/deploy");
  });

  it("creates a repository for the token's user or in an organization", async () => {
    const mine = await ada.createRepository({ name: "gitops", private: true, description: "Cluster config" });
    expect(mine).toEqual({
      fullName: "ada/gitops",
      cloneUrl: "https://github.com/ada/gitops.git",
      webUrl: "https://github.com/ada/gitops",
      defaultBranch: "main",
    });
    expect(gh.requests.map((r) => `${r.method} ${r.rawPath}`)).toEqual(["POST /api/v3/user/repos"]);
    expect(gh.requests[0]?.body).toEqual({ name: "gitops", private: true, description: "Cluster config" });

    gh.requests.length = 0;
    const org = await ada.createRepository({ namespace: "acme", name: "platform", private: false });
    expect(org.fullName).toBe("acme/platform");
    expect(gh.requests.map((r) => `${r.method} ${r.rawPath}`)).toEqual([
      "GET /api/v3/user",
      "POST /api/v3/orgs/acme/repos",
    ]);
    expect(gh.requests[1]?.body).toEqual({ name: "platform", private: false });
    expect(gh.repo("acme/platform")?.private).toBe(false);

    // Naming one's own login means the user's account, which the org endpoint would not accept.
    gh.requests.length = 0;
    expect((await ada.createRepository({ namespace: "ada", name: "more", private: true })).fullName).toBe("ada/more");
    expect(gh.requests.at(-1)?.rawPath).toBe("/api/v3/user/repos");
  });

  it("creates in an organization with a token that may not read /user (GitHub App installation)", async () => {
    gh.failNext({ status: 403, body: { message: "Resource not accessible by integration" } });
    expect((await ada.createRepository({ namespace: "acme", name: "from-app", private: true })).fullName).toBe(
      "acme/from-app",
    );
    expect(gh.requests.map((r) => `${r.method} ${r.rawPath}`)).toEqual([
      "GET /api/v3/user",
      "POST /api/v3/orgs/acme/repos",
    ]);
  });

  it("reports creation conflicts and missing permission", async () => {
    const dup = await failure(ada.createRepository({ name: "empty", private: true }));
    expect(dup.reason).toBe("conflict");
    expect(dup.message).toContain("name already exists on this account");
    expect((await failure(bob.createRepository({ namespace: "acme", name: "nope", private: true }))).reason).toBe(
      "forbidden",
    );
    expect((await failure(ada.createRepository({ namespace: "no-such-org", name: "x", private: true }))).reason).toBe(
      "not_found",
    );
    expect((await failure(ada.createRepository({ name: "bad name", private: true }))).reason).toBe("invalid");
  });

  it("recognises rate limiting", async () => {
    gh.failNext({
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1750000000" },
      body: { message: "API rate limit exceeded for user ID 1.", documentation_url: "https://docs.github.com/rest" },
    });
    expect((await failure(ada.getRepository("acme/deploy"))).reason).toBe("rate_limited");
    gh.failNext({ status: 403, body: { message: "You have exceeded a secondary rate limit." } });
    expect((await failure(ada.getRepository("acme/deploy"))).reason).toBe("rate_limited");
    gh.failNext({ status: 429, body: { message: "Too many requests" } });
    expect((await failure(ada.getRepository("acme/deploy"))).reason).toBe("rate_limited");
  });

  it("reports an unreachable or slow host as a network error", async () => {
    const closed = await startFakeGitHub({ users: [] });
    const url = closed.apiUrl;
    await closed.close();
    const down = createProviderAdapter({ kind: "github", apiUrl: url, token: adaToken });
    expect((await failure(down.getRepository("acme/deploy"))).reason).toBe("network");

    const slow = createProviderAdapter({ kind: "github", apiUrl: gh.apiUrl, token: adaToken, timeoutMs: 100 });
    gh.failNext({ status: 200, body: {}, delayMs: 2000 });
    const timeout = await failure(slow.getRepository("acme/deploy"));
    expect(timeout.reason).toBe("network");
  });

  it("maps https://github.com to the public API", async () => {
    const { gitHubApiBaseUrl } = await import("./index.ts");
    expect(gitHubApiBaseUrl("https://github.com")).toBe("https://api.github.com");
    expect(gitHubApiBaseUrl("https://api.github.com/")).toBe("https://api.github.com");
    expect(gitHubApiBaseUrl("https://ghe.corp.example/api/v3/")).toBe("https://ghe.corp.example/api/v3");
  });
});
