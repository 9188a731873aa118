import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitopsWorld, settled, startGitopsWorld } from "./gitops-world.ts";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import { failure, password } from "./support.ts";

/**
 * Part 7 and 8 of issue 8: environment paths stay inside the repository's working tree in every spelling;
 * bad requests get their own status and code, never a 500; failed connections leave no clone behind; and a
 * local `file://` repository connects without a credential when (and only when) the server allows it.
 */

const run = promisify(execFile);
let w: GitopsWorld;
let scratch: string;

beforeAll(async () => {
  w = await startGitopsWorld();
  scratch = await mkdtemp(path.join(os.tmpdir(), "juanie-local-repos-"));
});

afterAll(async () => {
  await w?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** A bare repository on this machine with one commit on main; its file:// URL. */
async function localRepo(name: string): Promise<string> {
  const bare = path.join(scratch, `${name}.git`);
  const work = path.join(scratch, `${name}-work`);
  await run("git", ["init", "--quiet", "--bare", "--initial-branch=main", bare]);
  await run("git", ["init", "--quiet", "--initial-branch=main", work]);
  await writeFile(path.join(work, "README.md"), "# local\n");
  const g = (args: string[]) =>
    run("git", ["-c", "user.name=Local", "-c", "user.email=local@example.com", ...args], { cwd: work });
  await g(["add", "-A"]);
  await g(["commit", "--quiet", "-m", "init"]);
  await g(["push", "--quiet", bare, "main"]);
  return pathToFileURL(bare).href;
}

describe("environment paths", () => {
  it.each([
    [".git", /\.git directory/],
    ["k8s/.git/hooks", /\.git directory/],
    ["k8s/.GIT", /\.git directory/],
    [".git./config", /\.git directory/],
    ["k8s/../../etc", /stay inside the repository/],
    ["..", /stay inside the repository/],
    ["k8s/%2e%2e/%2e%2e/etc", /URL-encoded/],
    ["%2egit/hooks", /URL-encoded/],
    ["k8s\\..\\..\\etc", /'\/' between directories/],
    ["/etc/kubernetes", /no leading '\/'/],
    ["k8s//overlays", /empty segments/],
  ])("refuses %s with a field error, storing nothing", async (bad, rule) => {
    const envs = () => w.back.count(sql`select 1 from environments`);
    const before = await envs();
    const gitops = {
      enabled: true,
      repositoryId: w.repoId,
      branch: "qa",
      path: bad,
      syncInterval: "1m",
      autoSync: true,
    };
    const err = await failure(
      w.s.alice.api.environments.create.mutate({ projectId: w.project.id, name: "qa", type: "testing", gitops }),
    );
    expect(err.httpStatus).toBe(400);
    expect(err.juanie.code).toBe("INVALID_INPUT");
    expect(err.juanie.fieldErrors?.["gitops.path"]?.join(" ")).toMatch(rule);
    expect(await envs()).toBe(before);
    // Nor can an existing environment be moved there.
    const [dev] = (await w.s.alice.api.environments.list.query({ projectId: w.project.id })).filter(
      (e) => e.id === w.env.development,
    );
    const upd = await failure(
      w.s.alice.api.environments.update.mutate({
        environmentId: dev!.id,
        name: dev!.name,
        type: dev!.type,
        cloudProvider: null,
        region: null,
        approvalRequired: dev!.approvalRequired,
        minApprovals: dev!.minApprovals,
        gitops: { ...dev!.gitops, path: bad },
      }),
    );
    expect(upd.juanie.fieldErrors?.["gitops.path"]?.join(" ")).toMatch(rule);
  });
});

describe("bad requests get their own status and code, never a 500", () => {
  const raw = (p: string, init: RequestInit = {}) => w.s.alice.fetch(p, init);

  it("404 for an address nobody serves, with a code", async () => {
    for (const p of ["/api/nothing-here", "/auth/nowhere", "/api/webhooks/github"]) {
      const res = await raw(p);
      expect(res.status, p).toBe(404);
      expect(await res.json()).toMatchObject({ code: "NOT_FOUND" });
    }
    for (const p of [`/api/webhooks/bitbucket/${w.repoId}`, `/api/webhooks/github/${crypto.randomUUID()}`]) {
      const res = await raw(p, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(res.status, p).toBe(404);
      expect(await res.json()).toMatchObject({ code: "NOT_FOUND" });
    }
    const proc = await raw("/trpc/nothing.here");
    expect(proc.status).toBe(404);
    expect(await proc.json()).toMatchObject({ error: { data: { juanie: { code: "NOT_FOUND" } } } });
  });

  it("405 for a known address asked with another method, naming the allowed one", async () => {
    const hook = await raw(`/api/webhooks/github/${w.repoId}`);
    expect(hook.status).toBe(405);
    expect(hook.headers.get("allow")).toBe("POST");
    expect(await hook.json()).toEqual({
      code: "METHOD_NOT_ALLOWED",
      message: `GET is not allowed on /api/webhooks/github/${w.repoId}: use POST`,
    });
    const health = await raw("/healthz", { method: "DELETE" });
    expect(health.status).toBe(405);
    expect(await health.json()).toMatchObject({ code: "METHOD_NOT_ALLOWED" });
    // A mutation asked with GET: tRPC's own 405, with our code rather than "Internal error".
    const mutation = await raw("/trpc/orgs.create?input=%7B%7D");
    expect(mutation.status).toBe(405);
    const body = (await mutation.json()) as { error: { message: string; data: { juanie: { code: string } } } };
    expect(body.error.data.juanie.code).toBe("METHOD_NOT_ALLOWED");
    expect(body.error.message).not.toBe("Internal error");
  });

  it("415 for a body of a type nobody reads, with a code", async () => {
    for (const contentType of ["application/xml", "image/png"]) {
      const res = await raw("/trpc/orgs.create", {
        method: "POST",
        headers: { "content-type": contentType, origin: w.server.url },
        body: "<org/>",
      });
      expect(res.status, contentType).toBe(415);
      const text = await res.text();
      expect(text).toContain("UNSUPPORTED_MEDIA_TYPE");
      expect(text).not.toContain("Internal error");
    }
  });

  it("400 for malformed JSON", async () => {
    const res = await raw("/trpc/orgs.create", {
      method: "POST",
      headers: { "content-type": "application/json", origin: w.server.url },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain("Internal error");
  });
});

describe("a connection that fails", () => {
  it("leaves no empty clone directory in the Git cache", async () => {
    const cache = path.join(w.server.dataDir, "git");
    const clones = async () => (await readdir(cache)).filter((n) => !n.startsWith(".")).sort();
    const before = await clones();
    // A wrong token for a repository that exists, and a repository that does not.
    for (const url of [await w.git.createRepo("other", { withInitialCommit: true }), `${w.git.url}/missing.git`]) {
      const err = await failure(
        w.admin.api.repositories.connect.mutate({
          projectId: w.project.id,
          provider: "git",
          url,
          credential: { type: "token", token: "wrong-token-123" },
          registerWebhook: false,
        }),
      );
      expect(err.juanie.code).toBe("INVALID_INPUT");
    }
    expect(await clones()).toEqual(before);
  });
});

describe("local repositories (JUANIE_ALLOW_LOCAL_REPOSITORIES=true)", () => {
  it("a file:// repository connects without a credential, and deploys like any other", async () => {
    const url = await localRepo("demo");
    const repo = await w.admin.api.repositories.connect.mutate({
      projectId: w.project.id,
      provider: "git",
      url,
      credential: { type: "none" },
      registerWebhook: false,
    });
    expect(repo).toMatchObject({ url, authType: "none", defaultBranch: "main" });
    await w.admin.api.repositories.initializeLayout.mutate({
      repositoryId: repo.id,
      image: "ghcr.io/acme/demo:1.0.0",
      port: 8080,
    });
    const env = await w.admin.api.environments.create.mutate({
      projectId: w.project.id,
      name: "demo",
      type: "development",
      gitops: {
        enabled: true,
        repositoryId: repo.id,
        branch: "main",
        path: "k8s/overlays/development",
        syncInterval: "1m",
        autoSync: true,
      },
    });
    const d = await w.s.bob.api.deployments.request.mutate({ environmentId: env.id, spec: { replicas: 3 } });
    const done = await settled(w.s.bob, d.id);
    expect(done.status).toBe("committed");
    const bare = new URL(url).pathname;
    expect((await run("git", ["--git-dir", bare, "rev-parse", "main"])).stdout.trim()).toBe(done.commitSha);
    // There is no credential to replace.
    const replace = await failure(
      w.admin.api.repositories.updateCredential.mutate({
        repositoryId: repo.id,
        credential: { type: "token", token: "tok" },
      }),
    );
    expect(replace.juanie.fieldErrors?.credential?.[0]).toMatch(/connected without one/);
  });

  it("a repository on a Git host still needs its credential", async () => {
    for (const [url, words] of [
      [`${w.git.url}/shop.git`, /a token for an HTTPS URL/],
      ["ssh://git@git.example.com/acme/shop.git", /a deploy key for an SSH URL/],
    ] as const) {
      const err = await failure(
        w.admin.api.repositories.connect.mutate({
          projectId: w.project.id,
          provider: "git",
          url,
          credential: { type: "none" },
          registerWebhook: false,
        }),
      );
      expect(err.juanie.fieldErrors?.credential?.[0]).toMatch(words);
    }
  });
});

describe("local repositories on a server that does not allow them (the default)", () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer();
  });
  afterAll(async () => {
    await strict?.close();
  });

  it("a file:// repository is refused, credential or not", async () => {
    const admin = new Session(strict.url);
    await admin.api.auth.setup.mutate({ email: "root@example.com", username: "root", displayName: "R", password });
    const org = await admin.api.orgs.create.mutate({ name: "Strict", slug: "strict" });
    const project = await admin.api.projects.create.mutate({
      organizationId: org.id,
      name: "Strict",
      slug: "strict",
      visibility: "private",
    });
    const url = await localRepo("refused");
    const err = await failure(
      admin.api.repositories.connect.mutate({
        projectId: project.id,
        provider: "git",
        url,
        credential: { type: "none" },
        registerWebhook: false,
      }),
    );
    expect(err.juanie.fieldErrors?.url?.[0]).toMatch(/Local file:\/\/ repositories are not allowed/);
    expect(await admin.api.repositories.list.query({ projectId: project.id })).toEqual([]);
  });
});
