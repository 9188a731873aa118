import { execFile } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { organizationMembers, projectMembers } from "@juanie/db";
import { SecretBox } from "@juanie/domain";
import { type FakeGitHub, startFakeGitHub } from "@juanie/providers/testing";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitServer, startGitServer } from "../../../test/git-server.ts";
import { freePort } from "../../../test/helpers.ts";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import {
  auditSince,
  type Backdoor,
  createUser,
  failure,
  lastAuditId,
  openBackdoor,
  password,
  signIn,
  type TestUser,
  waitFor,
} from "./support.ts";

/**
 * The Git side of deployments, end to end: the real server on a real database, talking smart HTTP to a
 * real `git http-backend`. Every assertion about Git reads the SERVED repository, never the platform's cache.
 */

const run = promisify(execFile);
const TOKEN = `tok-${randomBytes(12).toString("hex")}`;
const READ_ONLY_TOKEN = `ro-${randomBytes(12).toString("hex")}`;
const IMAGE = "ghcr.io/acme/shop";
const DEV = "k8s/overlays/development/kustomization.yaml";
const PROD = "k8s/overlays/production/kustomization.yaml";
const STAGING = "k8s/overlays/staging/kustomization.yaml";

let git: GitServer;
let server: TestServer;
let back: Backdoor;
let box: SecretBox;
let ada: Session; // platform admin, organization admin (created the organization)
let users: Record<"alice" | "bob" | "carol" | "dave" | "vic" | "zed", TestUser>;
let s: Record<keyof typeof users, Session>;
let org: { id: string };
let project: { id: string };
let repoUrl: string;
let repoId: string;
const env: Record<"development" | "staging" | "production", string> = { development: "", staging: "", production: "" };

beforeAll(async () => {
  git = await startGitServer({ token: TOKEN, readOnlyToken: READ_ONLY_TOKEN });
  server = await startTestServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true", JUANIE_SCHEDULER_INTERVAL_MS: "300" });
  back = openBackdoor(server);
  box = new SecretBox(Buffer.from((await readFile(path.join(server.dataDir, "secret.key"), "utf8")).trim(), "base64"));
  ada = new Session(server.url);
  await ada.api.auth.setup.mutate({ email: "ada@example.com", username: "ada", displayName: "Ada", password });
  org = await ada.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
  project = await ada.api.projects.create.mutate({
    organizationId: org.id,
    name: "Shop",
    slug: "shop",
    visibility: "private",
  });
  users = {
    alice: await createUser(back, "alice"),
    bob: await createUser(back, "bob"),
    carol: await createUser(back, "carol"),
    dave: await createUser(back, "dave"),
    vic: await createUser(back, "vic"),
    zed: await createUser(back, "zed"),
  };
  const roles = {
    alice: "maintainer",
    bob: "developer",
    carol: "developer",
    dave: "developer",
    vic: "viewer",
  } as const;
  await back.handle.db.insert(organizationMembers).values(
    Object.keys(roles).map((u) => ({
      organizationId: org.id,
      userId: users[u as keyof typeof roles].id,
      role: "member" as const,
    })),
  );
  await back.handle.db.insert(projectMembers).values(
    Object.entries(roles).map(([u, role]) => ({
      projectId: project.id,
      userId: users[u as keyof typeof roles].id,
      role,
    })),
  );
  s = {
    alice: await signIn(server, users.alice),
    bob: await signIn(server, users.bob),
    carol: await signIn(server, users.carol),
    dave: await signIn(server, users.dave),
    vic: await signIn(server, users.vic),
    zed: await signIn(server, users.zed),
  };
});

afterAll(async () => {
  await back?.close();
  await server?.close();
  await git?.close();
});

// ---------------------------------------------------------------------------------------------
// Helpers: the served repository, helper clones, webhooks, waiting
// ---------------------------------------------------------------------------------------------

async function head(repo: string, branch: string): Promise<string | null> {
  return git.git(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]).then(
    (out) => out.trim(),
    () => null,
  );
}

const show = (repo: string, rev: string, file: string) => git.git(repo, ["show", `${rev}:${file}`]);

/** `git ls-tree -r` of a directory at a revision: mode, blob id and path of every file. */
const tree = (repo: string, rev: string, dir: string) => git.git(repo, ["ls-tree", "-r", rev, "--", dir]);

/** Trailers of a commit, as git itself parses them. */
async function trailers(repo: string, rev: string): Promise<Record<string, string>> {
  const out = await git.git(repo, ["log", "-1", "--format=%(trailers:only,unfold)", rev]);
  return Object.fromEntries(
    out
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
  );
}

/** Ids in the Juanie-Deployment trailers on `branch`, newest first. */
async function platformCommits(repo: string, branch: string): Promise<string[]> {
  const out = await git.git(repo, ["log", "--format=%(trailers:key=Juanie-Deployment,valueonly)", branch]);
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * A developer's plain `git push` over the served smart-HTTP endpoint, from a throwaway clone: `edit`
 * gets the working tree's directory. Returns the pushed commit.
 */
async function pushByHand(
  repo: string,
  branch: string,
  edit: (dir: string) => Promise<void>,
  who: { name: string; email: string; message: string; pushTo?: string; date?: Date },
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "juanie-helper-clone-"));
  const header = `Authorization: Basic ${Buffer.from(`dev:${TOKEN}`).toString("base64")}`;
  const date = who.date ? { GIT_AUTHOR_DATE: who.date.toISOString(), GIT_COMMITTER_DATE: who.date.toISOString() } : {};
  const g = async (args: string[]) =>
    (
      await run(
        "git",
        ["-c", `http.extraHeader=${header}`, "-c", `user.name=${who.name}`, "-c", `user.email=${who.email}`, ...args],
        { cwd: dir, env: { ...process.env, ...date } },
      )
    ).stdout.trim();
  try {
    await g(["clone", "--quiet", "--branch", branch, `${git.url}/${repo}.git`, "."]);
    await edit(dir);
    await g(["add", "-A"]);
    await g(["commit", "--quiet", "-m", who.message]);
    await g(["push", "--quiet", "origin", `HEAD:${who.pushTo ?? branch}`]);
    return await g(["rev-parse", "HEAD"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function editFile(dir: string, file: string, fn: (text: string) => string) {
  const p = path.join(dir, file);
  await writeFile(p, fn(await readFile(p, "utf8")));
}

const tester = { name: "Tess Tester", email: "tess@example.com" };

async function webhookSecret(repositoryId: string): Promise<string> {
  const r = await back.handle.db.execute<{ s: string }>(
    sql`select webhook_secret as s from repositories where id = ${repositoryId}`,
  );
  return box.decrypt(r.rows[0]!.s);
}

const sign = (body: string | Buffer, secret: string) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/** A GitHub push payload (also what the generic endpoint takes) for commits already on the served branch. */
async function githubPush(repo: string, branch: string, before: string, shas: string[]) {
  const commits = [];
  for (const sha of shas) {
    const [name, email, date, ...msg] = (await git.git(repo, ["log", "-1", "--format=%an%n%ae%n%cI%n%B", sha])).split(
      "\n",
    );
    const files = (await git.git(repo, ["diff-tree", "--no-commit-id", "--name-only", "-r", sha]))
      .split("\n")
      .filter(Boolean);
    commits.push({
      id: sha,
      message: msg.join("\n").trim(),
      timestamp: date,
      author: { name, email },
      added: [],
      modified: files,
      removed: [],
    });
  }
  return {
    ref: `refs/heads/${branch}`,
    before,
    after: shas.at(-1),
    repository: { full_name: `acme/${repo}`, clone_url: `${git.url}/${repo}.git`, html_url: null },
    pusher: { name: "tess" },
    commits,
    head_commit: commits.at(-1) ?? null,
  };
}

async function postWebhook(
  kind: string,
  repositoryId: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: { result?: string; environments?: number } }> {
  const res = await fetch(`${server.url}/api/webhooks/${kind}/${repositoryId}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await res.text();
  let parsed: { result?: string } = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { result: text };
  }
  return { status: res.status, body: parsed };
}

/** Sends a correctly signed GitHub-style push delivery. */
async function signedPush(kind: "github" | "generic", repositoryId: string, payload: object, delivery = randomUUID()) {
  const body = JSON.stringify(payload);
  return postWebhook(kind, repositoryId, body, {
    "x-github-event": "push",
    "x-github-delivery": delivery,
    "x-hub-signature-256": sign(body, await webhookSecret(repositoryId)),
  });
}

type DeploymentDetail = Awaited<ReturnType<Session["api"]["deployments"]["get"]["query"]>>;
const busy = ["pending", "queued", "committing"];

/** Waits until the deployment is past the commit job (committed, failed …). */
async function settled(session: Session, id: string): Promise<DeploymentDetail> {
  return waitFor(
    () => session.api.deployments.get.query({ deploymentId: id }),
    (d) => !busy.includes(d.status),
    20_000,
  );
}

async function auditActions(afterId: number) {
  return (await auditSince(back, afterId)).map((e) => `${e.action}:${e.result}`);
}

async function countRows(query: ReturnType<typeof sql>) {
  return back.count(query);
}

// ---------------------------------------------------------------------------------------------

describe("connecting a repository", () => {
  it("checks read and write access with real Git and stores the token encrypted", async () => {
    repoUrl = await git.createRepo("shop");
    const before = await lastAuditId(back);
    const repo = await ada.api.repositories.connect.mutate({
      projectId: project.id,
      provider: "git",
      url: repoUrl,
      credential: { type: "token", token: TOKEN },
      registerWebhook: false,
    });
    repoId = repo.id;
    expect(repo).toMatchObject({
      url: repoUrl,
      provider: "git",
      authType: "token",
      defaultBranch: "main",
      webUrl: null,
    });
    expect(repo.webhookUrl).toBe(`${server.url}/api/webhooks/generic/${repo.id}`);
    expect(JSON.stringify(repo)).not.toContain(TOKEN);
    // The server really talked Git: ls-remote and a dry-run push, both authenticated.
    const seen = git.requests.filter((r) => r.path === "/shop.git/info/refs" && r.authorized).map((r) => r.service);
    expect(seen).toEqual(expect.arrayContaining(["git-upload-pack", "git-receive-pack"]));
    expect(await head("shop", "main")).toBeNull(); // the access check wrote nothing

    const stored = await back.handle.db.execute<{ credential: string; webhook_secret: string }>(
      sql`select credential, webhook_secret from repositories where id = ${repo.id}`,
    );
    const { credential, webhook_secret } = stored.rows[0]!;
    expect(credential).not.toContain(TOKEN);
    expect(credential).toMatch(/^v1\./);
    expect(box.decrypt(credential)).toBe(TOKEN);
    expect(() => new SecretBox(randomBytes(32)).decrypt(credential)).toThrow();
    expect(box.decrypt(webhook_secret).length).toBeGreaterThanOrEqual(24);

    expect(await auditActions(before)).toEqual(["repository.connect:success"]);
    const listed = await ada.api.repositories.list.query({ projectId: project.id });
    const details = await ada.api.repositories.details.query({ repositoryId: repo.id });
    expect(JSON.stringify([listed, details])).not.toContain(TOKEN);
  });

  const refused = async (
    input: { url: string; token?: string },
    field: "credential" | "url",
    words: string | RegExp,
    on: TestServer = server,
  ) => {
    const session = on === server ? ada : await adminOn(on);
    const projectId = on === server ? project.id : strictProject;
    const listed = () => session.api.repositories.list.query({ projectId });
    const stored = await listed();
    const rows = on === server ? await countRows(sql`select 1 from repositories`) : null;
    const err = await failure(
      session.api.repositories.connect.mutate({
        projectId,
        provider: "git",
        url: input.url,
        credential: { type: "token", token: input.token ?? TOKEN },
        registerWebhook: false,
      }),
    );
    expect(err.juanie.code).toBe("INVALID_INPUT");
    expect(err.juanie.fieldErrors?.[field]?.join(" ")).toMatch(words);
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).not.toContain(input.token ?? TOKEN);
    // Nothing stored: no repository, on this project or (on the main server's database) anywhere.
    expect(await listed()).toEqual(stored);
    if (rows !== null) expect(await countRows(sql`select 1 from repositories`)).toBe(rows);
    return err;
  };

  it("names the credential when the token is wrong, and stores nothing", async () => {
    const url = await git.createRepo("wrong-token");
    const before = await lastAuditId(back);
    await refused({ url, token: "not-the-token-123" }, "credential", /authentication failed/);
    expect(await auditActions(before)).toEqual(["repository.connect:failed"]);
  });

  it("refuses a read-only token: no write access", async () => {
    const url = await git.createRepo("read-only", { withInitialCommit: true });
    await refused({ url, token: READ_ONLY_TOKEN }, "credential", /no write access/);
    expect(await head("read-only", "main")).not.toBeNull();
    expect((await git.git("read-only", ["for-each-ref", "--format=%(refname)"])).trim()).toBe("refs/heads/main");
  });

  it("names the URL when the repository does not exist or the host cannot be reached", async () => {
    await refused({ url: `${git.url}/missing.git` }, "url", /not found/);
    await refused({ url: `http://127.0.0.1:${await freePort()}/x.git` }, "url", /network/);
  });

  it.each([
    ["ext::sh -c touch% /tmp/juanie-pwned", /ext::/],
    ["--upload-pack=touch /tmp/juanie-x", /must not start with '-'/],
    ["https://user:pass@git.example.com/x.git", /must not contain a password/],
    ["https://user@git.example.com/x.git", /must not contain credentials/],
    ["ftp://git.example.com/x.git", /not supported/],
  ])("refuses the URL %s before running git", async (url, why) => {
    const requests = git.requests.length;
    const before = await lastAuditId(back);
    await refused({ url }, "url", why);
    expect(await auditActions(before)).toEqual(["repository.connect:failed"]);
    expect(git.requests.length).toBe(requests);
    expect(existsSync("/tmp/juanie-pwned")).toBe(false);
    expect(existsSync("/tmp/juanie-x")).toBe(false);
  });

  it("with local repositories allowed, a file:// URL still cannot be used with a token", async () => {
    await refused({ url: "file:///etc/passwd" }, "url", /https/);
  });

  describe("on a server that does not allow local repositories (the default)", () => {
    let strict: TestServer;
    beforeAll(async () => {
      strict = await startTestServer();
      const a = await adminOn(strict);
      const o = await a.api.orgs.create.mutate({ name: "Strict", slug: "strict" });
      strictProject = (
        await a.api.projects.create.mutate({
          organizationId: o.id,
          name: "Strict",
          slug: "strict",
          visibility: "private",
        })
      ).id;
    });
    afterAll(async () => {
      await strict?.close();
    });

    it.each([
      ["file:///etc/passwd", /Local file:\/\/ repositories are not allowed/],
      ["/etc/passwd", /Local repository paths are not allowed/],
      ["http://127.0.0.1:1/x.git", /Unencrypted http:\/\/ is not allowed/],
    ])("refuses %s", async (url, why) => {
      await refused({ url }, "url", why, strict);
      expect(await (await adminOn(strict)).api.repositories.list.query({ projectId: strictProject })).toEqual([]);
    });
  });

  it("replaces the credential only after checking it", async () => {
    const before = await lastAuditId(back);
    const err = await failure(
      ada.api.repositories.updateCredential.mutate({
        repositoryId: repoId,
        credential: { type: "token", token: READ_ONLY_TOKEN },
      }),
    );
    expect(err.juanie.fieldErrors?.credential?.[0]).toMatch(/no write access/);
    const row = async () =>
      (await back.handle.db.execute<{ c: string }>(sql`select credential as c from repositories where id = ${repoId}`))
        .rows[0]!.c;
    expect(box.decrypt(await row())).toBe(TOKEN);
    const old = await row();
    await ada.api.repositories.updateCredential.mutate({
      repositoryId: repoId,
      credential: { type: "token", token: TOKEN },
    });
    expect(await row()).not.toBe(old); // re-encrypted with a fresh IV
    expect(box.decrypt(await row())).toBe(TOKEN);
    expect(await auditActions(before)).toEqual([
      "repository.update_credential:failed",
      "repository.update_credential:success",
    ]);
  });

  it("refuses to connect the same repository twice", async () => {
    const err = await failure(
      ada.api.repositories.connect.mutate({
        projectId: project.id,
        provider: "git",
        url: repoUrl,
        credential: { type: "token", token: TOKEN },
        registerWebhook: false,
      }),
    );
    expect(err.juanie).toMatchObject({ code: "CONFLICT", fieldErrors: { url: ["is already connected"] } });
  });

  it("disconnects a repository no environment uses", async () => {
    const url = await git.createRepo("spare");
    const spare = await ada.api.repositories.connect.mutate({
      projectId: project.id,
      provider: "git",
      url,
      credential: { type: "token", token: TOKEN },
      registerWebhook: false,
    });
    await ada.api.repositories.disconnect.mutate({ repositoryId: spare.id });
    expect((await ada.api.repositories.list.query({ projectId: project.id })).map((r) => r.id)).toEqual([repoId]);
  });
});

let strictProject = "";
const adminSessions = new Map<TestServer, Session>();
/** The first account (platform admin) of another server. */
async function adminOn(other: TestServer): Promise<Session> {
  const known = adminSessions.get(other);
  if (known) return known;
  const a = new Session(other.url);
  await a.api.auth.setup.mutate({ email: "root@example.com", username: "root", displayName: "Root", password });
  adminSessions.set(other, a);
  return a;
}

describe("layout and environments", () => {
  it("writes k8s/base and one overlay per environment into an empty repository", async () => {
    const before = await lastAuditId(back);
    const { commitSha } = await ada.api.repositories.initializeLayout.mutate({
      repositoryId: repoId,
      image: `${IMAGE}:1.0.0`,
      port: 8080,
    });
    expect(commitSha).toBe(await head("shop", "main"));
    const files = (await git.git("shop", ["ls-tree", "-r", "--name-only", "main"])).split("\n").filter(Boolean);
    expect(files.sort()).toEqual(
      ["k8s/base/deployment.yaml", "k8s/base/kustomization.yaml", "k8s/base/service.yaml", DEV, PROD, STAGING].sort(),
    );
    expect(await show("shop", "main", "k8s/base/deployment.yaml")).toContain(`image: ${IMAGE}:1.0.0`);
    expect(await show("shop", "main", PROD)).toMatch(/count: 3/);
    expect(await git.git("shop", ["log", "-1", "--format=%an <%ae>", "main"])).toBe("Juanie <juanie@localhost>\n");
    expect(await auditActions(before)).toEqual(["repository.initialize:success"]);

    // A second time: the layout is there, nothing is changed.
    const again = await failure(
      ada.api.repositories.initializeLayout.mutate({ repositoryId: repoId, image: `${IMAGE}:1.0.0`, port: 8080 }),
    );
    expect(again.juanie.fieldErrors?.repositoryId?.[0]).toMatch(/already has a k8s\/ directory/);
    expect(await head("shop", "main")).toBe(commitSha);
  });

  it("creates the suggested environments wired to the repository", async () => {
    const before = await lastAuditId(back);
    const envs = await s.alice.api.environments.createSuggested.mutate({ projectId: project.id, repositoryId: repoId });
    expect(envs.map((e) => [e.name, e.gitops.branch, e.gitops.path, e.approvalRequired, e.minApprovals])).toEqual([
      ["development", "develop", "k8s/overlays/development", false, 1],
      ["staging", "staging", "k8s/overlays/staging", false, 1],
      ["production", "main", "k8s/overlays/production", true, 2],
    ]);
    for (const e of envs) env[e.name as keyof typeof env] = e.id;
    expect(await auditActions(before)).toEqual([
      "environment.create:success",
      "environment.create:success",
      "environment.create:success",
    ]);
  });

  it.each([
    [{ syncInterval: "5 minutes" }, "gitops.syncInterval", /duration like 30s/],
    [{ syncInterval: "1s" }, "gitops.syncInterval", /between 10s and 24h/],
    [{ branch: "foo..bar" }, "gitops.branch", /not a valid Git branch name/],
    [{ path: "../etc" }, "gitops.path", /stay inside the repository \(no '\.\.'\)/],
    [{ path: "/abs" }, "gitops.path", /relative path inside the repository/],
  ])("refuses GitOps settings %o, naming %s", async (bad, field, rule) => {
    const n = await countRows(sql`select 1 from environments`);
    const gitops = {
      enabled: true,
      repositoryId: repoId,
      branch: "qa",
      path: "k8s/overlays/qa",
      syncInterval: "1m",
      autoSync: true,
      ...bad,
    };
    const err = await failure(
      s.alice.api.environments.create.mutate({ projectId: project.id, name: "qa", type: "testing", gitops }),
    );
    expect(err.juanie.code).toBe("INVALID_INPUT");
    expect(err.juanie.fieldErrors?.[field]?.join(" ")).toMatch(rule);
    // The same rules on update.
    const upd = await failure(
      s.alice.api.environments.update.mutate({
        environmentId: env.staging,
        name: "staging",
        type: "staging",
        gitops,
      }),
    );
    expect(upd.juanie.fieldErrors?.[field]?.join(" ")).toMatch(rule);
    expect(await countRows(sql`select 1 from environments`)).toBe(n);
  });

  it("a repository in use by an environment cannot be disconnected", async () => {
    const err = await failure(ada.api.repositories.disconnect.mutate({ repositoryId: repoId }));
    expect(err.juanie.fieldErrors?.repositoryId?.[0]).toMatch(/is used by environment/);
    expect((await ada.api.repositories.list.query({ projectId: project.id })).map((r) => r.id)).toContain(repoId);
  });

  it("updates, restricts and deletes an environment, each audited", async () => {
    const before = await lastAuditId(back);
    const qa = await s.alice.api.environments.create.mutate({
      projectId: project.id,
      name: "qa",
      type: "testing",
      gitops: { enabled: false, repositoryId: null, branch: null, path: null, syncInterval: "5m", autoSync: false },
    });
    const updated = await s.alice.api.environments.update.mutate({
      environmentId: qa.id,
      name: "qa",
      type: "testing",
      approvalRequired: true,
      gitops: {
        enabled: true,
        repositoryId: repoId,
        branch: "qa",
        path: "k8s/overlays/staging",
        syncInterval: "10m",
        autoSync: false,
      },
    });
    expect(updated.gitops).toMatchObject({ enabled: true, branch: "qa", syncInterval: "10m" });
    const locked = await s.alice.api.environments.setGrants.mutate({
      environmentId: qa.id,
      grants: [{ subjectType: "user", subjectId: users.carol.id, permission: "deploy" }],
    });
    expect(locked.grants).toEqual([
      { subjectType: "user", subjectId: users.carol.id, label: "carol", permission: "deploy" },
    ]);
    // With explicit grants, a developer without one only reads.
    const bobView = (await s.bob.api.environments.list.query({ projectId: project.id })).find((e) => e.id === qa.id);
    expect(bobView?.myPermission).toBe("read");
    const denied = await failure(s.bob.api.deployments.request.mutate({ environmentId: qa.id, spec: { replicas: 9 } }));
    expect(denied.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "environment deploy permission" });
    const viewerDenied = await failure(s.vic.api.environments.delete.mutate({ environmentId: qa.id }));
    expect(viewerDenied.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "project maintainer" });
    await s.alice.api.environments.delete.mutate({ environmentId: qa.id });
    expect(await auditActions(before)).toEqual([
      "environment.create:success",
      "environment.update:success",
      "environment.set_permissions:success",
      "deployment.request:denied",
      "environment.delete:denied",
      "environment.delete:success",
    ]);
  });
});

describe("deploying from the UI", () => {
  let previewed: Awaited<ReturnType<typeof ada.api.deployments.preview.mutate>>;

  it("the preview is a dry run that shows the exact change", async () => {
    // Someone documented the overlay by hand: the platform must keep these comments.
    await pushByHand(
      "shop",
      "main",
      (dir) =>
        editFile(dir, DEV, (t) =>
          t
            .replace(/^images:/m, "# pinned by the platform team, ask #ops before changing\nimages:")
            .replace(/^replicas:/m, "replicas: # scaled by the deploy form"),
        ),
      { ...tester, message: "docs: explain the development overlay" },
    );
    const mainHead = await head("shop", "main");
    // The form is prefilled from the branch; develop does not exist yet, so from main it will branch off.
    const values = await s.bob.api.deployments.deployableValues.query({ environmentId: env.development });
    expect(values).toMatchObject({ branch: "develop", branchExists: false, head: mainHead });
    expect(values.values).toMatchObject({ image: `${IMAGE}:1.0.0`, replicas: 1 });
    const requests = git.requests.filter((r) => r.path.endsWith("git-receive-pack")).length;
    const before = await lastAuditId(back);
    previewed = await s.bob.api.deployments.preview.mutate({
      environmentId: env.development,
      spec: { image: `${IMAGE}:1.1.0`, replicas: 2 },
      message: "Ship the new checkout",
    });
    expect(previewed).toMatchObject({
      baseSha: mainHead, // develop does not exist yet: it will branch off main
      branch: "develop",
      path: "k8s/overlays/development",
      changedFiles: [DEV],
      approvalRequired: false,
      commitMessage: `chore(deploy): update image to ${IMAGE}:1.1.0, scale to 2 replicas\n\nShip the new checkout`,
    });
    expect(previewed.fields).toEqual([
      { field: "image", before: `${IMAGE}:1.0.0`, after: `${IMAGE}:1.1.0` },
      { field: "replicas", before: 1, after: 2 },
    ]);
    expect(previewed.diff).toContain(`-    newTag: "1.0.0"\n+    newTag: "1.1.0"`);
    expect(previewed.diff).toContain("-    count: 1\n+    count: 2");
    expect(previewed.files[DEV]).toContain("# pinned by the platform team, ask #ops before changing");
    // Nothing pushed, nothing recorded, nothing audited.
    expect(await head("shop", "develop")).toBeNull();
    expect(git.requests.filter((r) => r.path.endsWith("git-receive-pack")).length).toBe(requests);
    expect(await countRows(sql`select 1 from deployments`)).toBe(0);
    expect(await auditActions(before)).toEqual([]);
  });

  it("commits exactly the previewed change to the environment branch, as the platform, with trailers", async () => {
    const before = await lastAuditId(back);
    const requested = await s.bob.api.deployments.request.mutate({
      environmentId: env.development,
      spec: { image: `${IMAGE}:1.1.0`, replicas: 2 },
      message: "Ship the new checkout",
    });
    expect(requested).toMatchObject({ method: "gitops-ui", status: "queued", baseSha: previewed.baseSha });
    const d = await settled(s.bob, requested.id);
    expect(d.error).toBeNull();
    expect(d.status).toBe("committed");
    const sha = await head("shop", "develop");
    expect(d.commitSha).toBe(sha);
    expect(d.commitUrl).toBeNull(); // a plain Git host has no web pages to link to
    expect(d.diff).toBe(previewed.diff);
    // Created from main: the parent is main's head.
    expect((await git.git("shop", ["rev-parse", `${sha}^`])).trim()).toBe(previewed.baseSha);
    // The commit holds exactly the previewed change: same files, same bytes, same diff.
    expect((await git.git("shop", ["diff", "--name-only", `${sha}^`, sha!])).trim()).toBe(DEV);
    expect(await show("shop", sha!, DEV)).toBe(previewed.files[DEV]);
    // The same hunks as git's own diff (which adds `index` lines and function context to hunk headers).
    const gitDiff = await git.git("shop", ["diff", "--no-color", "--no-renames", `${sha}^`, sha!]);
    expect(gitDiff.replace(/^index .*\n/gm, "").replace(/^(@@ [^@]+ @@).*$/gm, "$1")).toBe(previewed.diff);
    const overlay = await show("shop", "develop", DEV);
    expect(overlay).toContain("# pinned by the platform team, ask #ops before changing\nimages:");
    expect(overlay).toContain("replicas: # scaled by the deploy form");
    expect(await git.git("shop", ["log", "-1", "--format=%an <%ae>|%cn <%ce>", sha!])).toBe(
      "Juanie <juanie@localhost>|Juanie <juanie@localhost>\n",
    );
    const message = await git.git("shop", ["log", "-1", "--format=%B", sha!]);
    expect(message).toMatch(/^chore\(deploy\): update image to ghcr\.io\/acme\/shop:1\.1\.0, scale to 2 replicas\n\n/);
    expect(message).toContain("Ship the new checkout");
    // The commit and the record name the workload and container the change was rendered for.
    expect(await trailers("shop", sha!)).toEqual({
      "Requested-by": "bob <bob@example.com>",
      "Juanie-Workload": "Deployment/shop",
      "Juanie-Container": "shop",
      "Juanie-Deployment": d.id,
    });
    expect(d.request.target).toEqual({ kind: "Deployment", workload: "shop", container: "shop" });
    expect(d.request.renderVerified).toMatch(/^kustomize v\d+\.\d+\.\d+$/);
    expect(d.events.map((e) => `${e.from}→${e.to}`)).toEqual([
      "null→pending",
      "pending→queued",
      "queued→committing",
      "committing→committed",
    ]);
    const entries = (await auditSince(back, before)).map((e) => [e.action, e.result, e.actorLabel, e.resourceId]);
    expect(entries).toEqual([
      ["deployment.request", "success", "bob", d.id],
      ["deployment.commit", "success", "system", d.id],
    ]);
    // main is untouched.
    expect(await head("shop", "main")).toBe(previewed.baseSha);
    const values = await s.bob.api.deployments.deployableValues.query({ environmentId: env.development });
    expect(values).toMatchObject({ branchExists: true, head: sha });
    expect(values.values).toMatchObject({ image: `${IMAGE}:1.1.0`, replicas: 2 });
  });

  it("refuses a request that changes nothing", async () => {
    const err = await failure(
      s.bob.api.deployments.request.mutate({ environmentId: env.development, spec: { replicas: 2 } }),
    );
    expect(err.juanie.fieldErrors?.spec?.[0]).toMatch(/changes nothing/);
  });

  it.each([
    [{ image: "UPPER/Case::bad" }, "spec.image", /valid image reference/],
    [{ replicas: -1 }, "spec.replicas", /integer from 0 to 1000/],
    [{ env: [{ name: "1BAD", value: "x" }] }, "spec.env.0.name", /must not start with a digit/],
    [{ resources: { requests: { cpu: "abc" } } }, "spec.resources.requests.cpu", /quantity like 500m/],
    [{ resources: { limits: { memory: "12XB" } } }, "spec.resources.limits.memory", /quantity like 128Mi/],
  ])("refuses %o naming %s, and commits nothing", async (spec, field, rule) => {
    const develop = await head("shop", "develop");
    const rows = await countRows(sql`select 1 from deployments`);
    for (const call of [s.bob.api.deployments.preview, s.bob.api.deployments.request]) {
      const err = await failure(call.mutate({ environmentId: env.development, spec }));
      expect(err.juanie.code).toBe("INVALID_INPUT");
      expect(err.juanie.fieldErrors?.[field]?.join(" ")).toMatch(rule);
    }
    expect(await head("shop", "develop")).toBe(develop);
    expect(await countRows(sql`select 1 from deployments`)).toBe(rows);
  });
  it("streams status changes live (SSE) to those who may see the project, and to nobody else", async () => {
    type Change = { deploymentId: string; environmentId: string; status: string };
    const projectStream: Change[] = [];
    const errors: unknown[] = [];
    let started = false;
    const projectSub = s.vic.api.deployments.onChange.subscribe(
      { projectId: project.id },
      {
        onStarted: () => {
          started = true;
        },
        onData: (e) => projectStream.push(e),
        onError: (e) => errors.push(e),
      },
    );
    const outsiderErrors: unknown[] = [];
    const outsiderData: unknown[] = [];
    const outsiderSub = s.zed.api.deployments.onChange.subscribe(
      { projectId: project.id },
      { onData: (e) => outsiderData.push(e), onError: (e) => outsiderErrors.push(e) },
    );
    try {
      await waitFor(
        async () => started,
        (ok) => ok,
      );
      const requested = await s.bob.api.deployments.request.mutate({
        environmentId: env.development,
        spec: { replicas: 3 },
      });
      // One deployment's stream starts with its current status, then follows it.
      const own: string[] = [];
      const ownSub = s.bob.api.deployments.onChange.subscribe(
        { deploymentId: requested.id },
        { onData: (e) => own.push(e.status), onError: (e) => errors.push(e) },
      );
      try {
        await waitFor(
          async () => own.at(-1),
          (last) => last === "committed" || last === "failed" || errors.length > 0,
          15_000,
        );
      } finally {
        ownSub.unsubscribe();
      }
      expect(errors).toEqual([]);
      expect(own.at(-1)).toBe("committed");
      expect(["pending", "queued", "committing", "committed"]).toEqual(expect.arrayContaining(own));
      const mine = await waitFor(
        async () => projectStream.filter((e) => e.deploymentId === requested.id).map((e) => e.status),
        (statuses) => statuses.includes("committed"),
      );
      expect(mine).toEqual(["queued", "committing", "committed"]);
      expect(projectStream.every((e) => e.environmentId === env.development)).toBe(true);
      // An outsider is told the project does not exist, and hears nothing.
      await waitFor(
        async () => outsiderErrors.length,
        (n) => n > 0,
      );
      expect(outsiderErrors[0]).toMatchObject({ data: { httpStatus: 404 } });
      expect(outsiderData).toEqual([]);
      const hidden = await failure(
        new Promise((resolve, reject) => {
          const sub = s.zed.api.deployments.onChange.subscribe(
            { deploymentId: requested.id },
            {
              onData: resolve,
              onError: (e) => {
                sub.unsubscribe();
                reject(e);
              },
            },
          );
        }),
      );
      expect(hidden.juanie.code).toBe("NOT_FOUND");
    } finally {
      projectSub.unsubscribe();
      outsiderSub.unsubscribe();
    }
  });
});

describe("approvals on production (two approvers)", () => {
  let first: DeploymentDetail;

  it("waits for approval and pushes nothing until then", async () => {
    const main = await head("shop", "main");
    const before = await lastAuditId(back);
    first = await s.bob.api.deployments.request.mutate({
      environmentId: env.production,
      spec: { image: `${IMAGE}:1.5.0` },
      message: "Release 1.5",
    });
    expect(first).toMatchObject({ status: "awaiting_approval", minApprovals: 2, approvals: [], canApprove: false });
    expect(first.approvalExpiresAt).not.toBeNull();
    expect(await head("shop", "main")).toBe(main);

    const own = await failure(s.bob.api.deployments.approve.mutate({ deploymentId: first.id }));
    expect(own.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "another eligible approver" });
    const viewer = await failure(s.vic.api.deployments.approve.mutate({ deploymentId: first.id }));
    expect(viewer.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "environment deploy permission" });
    const outsider = await failure(s.zed.api.deployments.approve.mutate({ deploymentId: first.id }));
    expect(outsider.juanie.code).toBe("NOT_FOUND");

    expect((await s.carol.api.deployments.get.query({ deploymentId: first.id })).canApprove).toBe(true);
    const once = await s.carol.api.deployments.approve.mutate({ deploymentId: first.id, comment: "LGTM" });
    expect(once.status).toBe("awaiting_approval");
    expect(once.approvals.map((a) => [a.user.username, a.decision, a.comment])).toEqual([
      ["carol", "approved", "LGTM"],
    ]);
    expect(once.canApprove).toBe(false);
    const twice = await failure(s.carol.api.deployments.approve.mutate({ deploymentId: first.id }));
    expect(twice.juanie.code).toBe("CONFLICT");
    expect(await head("shop", "main")).toBe(main);
    const audited = await auditActions(before);
    expect(audited).toEqual([
      "deployment.request:success",
      "deployment.approve:denied",
      "deployment.approve:denied",
      "deployment.approve:denied",
      "deployment.approve:success",
      "deployment.approve:failed",
    ]);
  });

  it("told every eligible approver, and nobody else", async () => {
    for (const [who, expected] of [
      ["carol", true],
      ["dave", true],
      ["alice", true],
      ["bob", false], // the requester
      ["vic", false], // a viewer cannot approve
    ] as const) {
      const list = await s[who].api.notifications.list.query({});
      const mine = list.items.filter(
        (n) => n.kind === "deployment.approval_requested" && n.data.deploymentId === first.id,
      );
      expect(mine.length, who).toBe(expected ? 1 : 0);
      if (expected) expect(mine[0]).toMatchObject({ link: `/deployments/${first.id}`, data: { requestedBy: "bob" } });
    }
    const adaNotes = await ada.api.notifications.list.query({});
    expect(adaNotes.items.some((n) => n.data.deploymentId === first.id)).toBe(true); // organization admin
  });

  it("the second distinct approval commits and pushes", async () => {
    const main = await head("shop", "main");
    const approved = await s.dave.api.deployments.approve.mutate({ deploymentId: first.id });
    expect(["queued", "committing", "committed"]).toContain(approved.status);
    const d = await settled(s.bob, first.id);
    expect(d.status).toBe("committed");
    expect(d.commitSha).toBe(await head("shop", "main"));
    expect((await git.git("shop", ["rev-parse", `${d.commitSha}^`])).trim()).toBe(main);
    expect(await show("shop", "main", PROD)).toContain('newTag: "1.5.0"');
    expect(await trailers("shop", d.commitSha!)).toMatchObject({
      "Requested-by": "bob <bob@example.com>",
      "Juanie-Deployment": first.id,
    });
    expect(d.events.map((e) => e.to)).toEqual(["pending", "awaiting_approval", "queued", "committing", "committed"]);
  });

  it("a rejection with a comment ends it, and nothing is pushed", async () => {
    const main = await head("shop", "main");
    const d = await s.bob.api.deployments.request.mutate({
      environmentId: env.production,
      spec: { replicas: 10 },
    });
    const noComment = await failure(s.carol.api.deployments.reject.mutate({ deploymentId: d.id, comment: " " }));
    expect(noComment.juanie.fieldErrors?.comment?.[0]).toMatch(/say why/);
    const ownReject = await failure(s.bob.api.deployments.reject.mutate({ deploymentId: d.id, comment: "no" }));
    expect(ownReject.juanie.code).toBe("FORBIDDEN");
    const before = await lastAuditId(back);
    const rejected = await s.carol.api.deployments.reject.mutate({
      deploymentId: d.id,
      comment: "Ten replicas will not fit the cluster",
    });
    expect(rejected.status).toBe("rejected");
    expect(rejected.approvals).toMatchObject([
      { user: { username: "carol" }, decision: "rejected", comment: "Ten replicas will not fit the cluster" },
    ]);
    expect(rejected.events.at(-1)).toMatchObject({ to: "rejected", message: "Ten replicas will not fit the cluster" });
    const late = await failure(s.dave.api.deployments.approve.mutate({ deploymentId: d.id }));
    expect(late.message).toBe("This deployment was already rejected");
    expect(late.juanie.fieldErrors?.deploymentId?.[0]).toBe("was already rejected");
    expect(await auditActions(before)).toEqual(["deployment.reject:success", "deployment.approve:failed"]);
    const bobNotes = await s.bob.api.notifications.list.query({});
    expect(bobNotes.items.some((n) => n.kind === "deployment.rejected" && n.data.deploymentId === d.id)).toBe(true);
    await drainCommits();
    expect(await head("shop", "main")).toBe(main);
    expect((await s.bob.api.deployments.get.query({ deploymentId: d.id })).commitSha).toBeNull();
  });

  it("an approval that waited too long expires: approving fails, and the scheduler expires the rest", async () => {
    const main = await head("shop", "main");
    const a = await s.bob.api.deployments.request.mutate({ environmentId: env.production, spec: { replicas: 5 } });
    const b = await s.bob.api.deployments.request.mutate({ environmentId: env.production, spec: { replicas: 6 } });
    await back.handle.db.execute(
      sql`update deployments set approval_expires_at = now() - interval '1 minute' where id in (${a.id}, ${b.id})`,
    );
    const err = await failure(s.carol.api.deployments.approve.mutate({ deploymentId: a.id }));
    expect(err.juanie.code).toBe("INVALID_INPUT");
    expect(err.message).toMatch(/expired/);
    expect((await s.bob.api.deployments.get.query({ deploymentId: a.id })).status).toBe("expired");
    const expired = await waitFor(
      () => s.bob.api.deployments.get.query({ deploymentId: b.id }),
      (d) => d.status === "expired",
    );
    expect(expired.status).toBe("expired");
    expect(expired.events.at(-1)).toMatchObject({ from: "awaiting_approval", to: "expired" });
    expect(await head("shop", "main")).toBe(main);
  });

  it("the requester may cancel while it waits", async () => {
    const before = await lastAuditId(back);
    const d = await s.bob.api.deployments.request.mutate({ environmentId: env.production, spec: { replicas: 4 } });
    const other = await failure(s.carol.api.deployments.cancel.mutate({ deploymentId: d.id }));
    expect(other.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "environment admin permission" });
    const cancelled = await s.bob.api.deployments.cancel.mutate({ deploymentId: d.id });
    expect(cancelled.status).toBe("cancelled");
    const again = await failure(s.bob.api.deployments.cancel.mutate({ deploymentId: d.id }));
    expect(again.juanie.code).toBe("INVALID_INPUT");
    expect(await auditActions(before)).toEqual([
      "deployment.request:success",
      "deployment.cancel:denied",
      "deployment.cancel:success",
      "deployment.cancel:failed",
    ]);
  });
});

/** Waits until no commit job is queued or running. */
async function drainCommits() {
  const left = await waitFor(
    () => countRows(sql`select 1 from graphile_worker.jobs where task_identifier = 'deployment.commit'`),
    (n) => n === 0,
    20_000,
  );
  expect(left).toBe(0);
}

describe("conflicts with changes pushed meanwhile", () => {
  it("fails with the conflicting values when someone changed the same field, and pushes nothing", async () => {
    const d = await s.bob.api.deployments.request.mutate({
      environmentId: env.production,
      spec: { image: `${IMAGE}:2.0.0` },
    });
    const theirs = await pushByHand("shop", "main", (dir) => editFile(dir, PROD, (t) => t.replace("1.5.0", "9.9.9")), {
      ...tester,
      message: "hotfix: pin 9.9.9",
    });
    await s.carol.api.deployments.approve.mutate({ deploymentId: d.id });
    await s.dave.api.deployments.approve.mutate({ deploymentId: d.id });
    const done = await settled(s.bob, d.id);
    expect(done.status).toBe("failed");
    expect(done.conflict).toEqual([
      { field: "image", base: `${IMAGE}:1.5.0`, theirs: `${IMAGE}:9.9.9`, ours: `${IMAGE}:2.0.0` },
    ]);
    expect(done.error).toContain(`${IMAGE}:9.9.9`);
    expect(done.error).toContain(`${IMAGE}:2.0.0`);
    expect(done.commitSha).toBeNull();
    expect(await head("shop", "main")).toBe(theirs);
    expect(await show("shop", "main", PROD)).toContain('newTag: "9.9.9"');
    const notes = await s.bob.api.notifications.list.query({});
    expect(notes.items.some((n) => n.kind === "deployment.failed" && n.data.deploymentId === d.id)).toBe(true);
  });

  it("re-applies the change on the new head when the remote changed another field", async () => {
    const d = await s.bob.api.deployments.request.mutate({ environmentId: env.production, spec: { replicas: 7 } });
    const theirs = await pushByHand("shop", "main", (dir) => editFile(dir, PROD, (t) => t.replace("9.9.9", "3.0.0")), {
      ...tester,
      message: "release 3.0.0 by hand",
    });
    await s.carol.api.deployments.approve.mutate({ deploymentId: d.id });
    await s.dave.api.deployments.approve.mutate({ deploymentId: d.id });
    const done = await settled(s.bob, d.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe("committed");
    expect((await git.git("shop", ["rev-parse", `${done.commitSha}^`])).trim()).toBe(theirs);
    const overlay = await show("shop", "main", PROD);
    expect(overlay).toContain('newTag: "3.0.0"');
    expect(overlay).toContain("count: 7");
  });
});

describe("concurrent deployments to one environment", () => {
  it("ten requests at once: ten commits, none lost or duplicated", async () => {
    const replicas = Array.from({ length: 10 }, (_, i) => 11 + i);
    const requested = await Promise.all(
      replicas.map((n) =>
        s.alice.api.deployments.request.mutate({
          environmentId: env.staging,
          spec: { replicas: n },
          message: `n=${n}`,
        }),
      ),
    );
    const done = await Promise.all(requested.map((d) => settled(s.alice, d.id)));
    expect(done.map((d) => [d.status, d.error])).toEqual(done.map(() => ["committed", null]));
    const ids = await platformCommits("shop", "main..staging");
    expect(ids.length).toBe(10);
    expect(new Set(ids)).toEqual(new Set(requested.map((d) => d.id)));
    expect(new Set(done.map((d) => d.commitSha)).size).toBe(10);
    // The last commit wins: the branch says what its deployment asked for.
    const headSha = await head("shop", "staging");
    const winner = done.find((d) => d.commitSha === headSha)!;
    const count = Number(/count: (\d+)/.exec(await show("shop", "staging", STAGING))?.[1]);
    expect(count).toBe((winner.request.spec as { replicas: number }).replicas);
    expect(replicas).toContain(count);
  }, 90_000); // ten kustomize-verified commits in a row: slow on a loaded machine
});

describe("rollback", () => {
  it("restores the environment's directory as it was at an earlier deployment, in a new commit", async () => {
    const v1 = await settled(
      s.bob,
      (
        await s.bob.api.deployments.request.mutate({
          environmentId: env.development,
          spec: { image: `${IMAGE}:1.2.0`, replicas: 1 },
        })
      ).id,
    );
    const v2 = await settled(
      s.bob,
      (
        await s.bob.api.deployments.request.mutate({
          environmentId: env.development,
          spec: { image: `${IMAGE}:1.3.0`, replicas: 4, env: [{ name: "FEATURE_X", value: "on" }] },
        })
      ).id,
    );
    expect([v1.status, v2.status]).toEqual(["committed", "committed"]);
    // v2 added a patch file next to the overlay.
    expect(await tree("shop", v2.commitSha!, "k8s/overlays/development")).not.toBe(
      await tree("shop", v1.commitSha!, "k8s/overlays/development"),
    );
    const before = await lastAuditId(back);
    const rb = await s.bob.api.deployments.rollback.mutate({ deploymentId: v1.id, message: "1.3.0 leaks memory" });
    expect(rb).toMatchObject({ method: "rollback", rollbackOfId: v1.id, version: "1.2.0" });
    const done = await settled(s.bob, rb.id);
    expect(done.status).toBe("committed");
    const sha = await head("shop", "develop");
    expect(done.commitSha).toBe(sha);
    expect((await git.git("shop", ["rev-parse", `${sha}^`])).trim()).toBe(v2.commitSha);
    expect(await tree("shop", sha!, "k8s/overlays/development")).toBe(
      await tree("shop", v1.commitSha!, "k8s/overlays/development"),
    );
    expect(await git.git("shop", ["log", "-1", "--format=%s", sha!])).toBe(
      `revert(deploy): roll development back to ${v1.commitSha!.slice(0, 12)}\n`,
    );
    expect(await trailers("shop", sha!)).toMatchObject({ "Juanie-Deployment": rb.id });
    expect((await s.bob.api.deployments.get.query({ deploymentId: v2.id })).status).toBe("rolled_back");
    expect((await s.bob.api.deployments.get.query({ deploymentId: v1.id })).status).toBe("committed");
    expect(await auditActions(before)).toEqual(["deployment.rollback:success", "deployment.commit:success"]);

    const nothing = await failure(s.bob.api.deployments.rollback.mutate({ deploymentId: v1.id }));
    expect(nothing.juanie.fieldErrors?.deploymentId?.[0]).toMatch(/nothing to roll back/);
    const viewer = await failure(s.vic.api.deployments.rollback.mutate({ deploymentId: v2.id }));
    expect(viewer.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "environment deploy permission" });
  });

  it("on production a rollback needs the same approvals", async () => {
    const main = await head("shop", "main");
    const [target] = (
      await ada.api.deployments.list.query({ environmentId: env.production, status: "committed", limit: 50 })
    ).items.slice(-1);
    const rb = await s.bob.api.deployments.rollback.mutate({ deploymentId: target!.id });
    expect(rb.status).toBe("awaiting_approval");
    expect(await head("shop", "main")).toBe(main);
    await s.carol.api.deployments.approve.mutate({ deploymentId: rb.id });
    await s.dave.api.deployments.approve.mutate({ deploymentId: rb.id });
    const done = await settled(s.bob, rb.id);
    expect(done.status).toBe("committed");
    expect(await tree("shop", "main", "k8s/overlays/production")).toBe(
      await tree("shop", target!.commitSha!, "k8s/overlays/production"),
    );
  });
});

describe("push detection (the Git road)", () => {
  /** Lets push detection look at the branch now, as if its sync interval had passed. */
  const pollNow = (environmentId: string) =>
    back.handle.db.execute(
      sql`update environments set last_polled_at = now() - interval '1 day' where id = ${environmentId}`,
    );
  const seen = async (environmentId: string) =>
    (
      await back.handle.db.execute<{ sha: string | null }>(
        sql`select last_seen_sha as sha from environments where id = ${environmentId}`,
      )
    ).rows[0]?.sha ?? null;
  const syncsDone = () =>
    waitFor(
      () => countRows(sql`select 1 from graphile_worker.jobs where task_identifier = 'environment.sync'`),
      (n) => n === 0,
    );
  const byCommit = async (sha: string) =>
    (await ada.api.deployments.list.query({ projectId: project.id, limit: 200 })).items.filter(
      (d) => d.commitSha === sha,
    );

  it("records a developer's push to the environment's path, after a signed webhook", async () => {
    const before = (await head("shop", "develop"))!;
    const sha = await pushByHand(
      "shop",
      "develop",
      (dir) => editFile(dir, DEV, (t) => t.replace(/count: \d+/, "count: 2")),
      { ...tester, message: "ops: two replicas for the load test\n\nAsked for by QA." },
    );
    const res = await signedPush("generic", repoId, await githubPush("shop", "develop", before, [sha]));
    expect(res).toEqual({ status: 202, body: { result: "accepted", environments: 1 } });
    const found = await waitFor(
      () => byCommit(sha),
      (l) => l.length > 0,
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      method: "gitops-git",
      status: "committed",
      author: "Tess Tester",
      branch: "develop",
      commitMessage: "ops: two replicas for the load test\n\nAsked for by QA.",
      environment: { id: env.development },
      requestedBy: null,
    });
    const detail = await ada.api.deployments.get.query({ deploymentId: found[0]!.id });
    expect(detail.events).toMatchObject([{ from: "pending", to: "committed", message: "pushed by Tess Tester" }]);
    expect(detail.request).toEqual({ files: [DEV] });
  });

  it("ignores commits outside the path, and never records the platform's own commits twice", async () => {
    const before = (await head("shop", "develop"))!;
    const outside = await pushByHand("shop", "develop", (dir) => writeFile(path.join(dir, "README.md"), "# shop\n"), {
      ...tester,
      message: "docs: readme",
    });
    await signedPush("github", repoId, await githubPush("shop", "develop", before, [outside]));
    expect(
      await waitFor(
        () => seen(env.development),
        (v) => v === outside,
      ),
    ).toBe(outside);
    expect(await byCommit(outside)).toEqual([]);

    const ui = await settled(
      s.bob,
      (await s.bob.api.deployments.request.mutate({ environmentId: env.development, spec: { replicas: 3 } })).id,
    );
    await signedPush("generic", repoId, await githubPush("shop", "develop", outside, [ui.commitSha!]));
    expect(
      await waitFor(
        () => seen(env.development),
        (v) => v === ui.commitSha,
      ),
    ).toBe(ui.commitSha);
    expect((await byCommit(ui.commitSha!)).map((d) => d.method)).toEqual(["gitops-ui"]);
  });

  it("records the first push to a branch that did not exist yet when push detection first looked", async () => {
    const e = await s.alice.api.environments.create.mutate({
      projectId: project.id,
      name: "hotfix",
      type: "staging",
      gitops: {
        enabled: true,
        repositoryId: repoId,
        branch: "hotfix",
        path: "k8s/overlays/staging",
        syncInterval: "24h",
        autoSync: false,
      },
    });
    const polledAt = async () =>
      (
        await back.handle.db.execute<{ t: string | null }>(
          sql`select last_polled_at::text as t from environments where id = ${e.id}`,
        )
      ).rows[0]?.t ?? null;
    expect(await waitFor(polledAt, (t) => t !== null)).not.toBeNull(); // looked: no such branch yet
    // The branch will be created from main: push detection starts at main's head.
    expect(await seen(e.id)).toBe(await head("shop", "main"));
    // Seconds later, a developer creates the branch with a change to the environment's path.
    const sha = await pushByHand("shop", "main", (dir) => editFile(dir, STAGING, (t) => `${t}# hotfix\n`), {
      ...tester,
      message: "hotfix: annotate staging",
      pushTo: "hotfix",
      date: new Date(Date.parse(e.createdAt) + 2000),
    });
    const zero = "0".repeat(40);
    expect((await signedPush("generic", repoId, await githubPush("shop", "hotfix", zero, [sha]))).status).toBe(202);
    const found = await waitFor(
      () => byCommit(sha),
      (l) => l.length > 0,
    );
    expect(found.map((d) => [d.method, d.environment.name, d.author])).toEqual([
      ["gitops-git", "hotfix", "Tess Tester"],
    ]);
    // Older history of the branch (main's commits it started from) is not a deployment of this environment.
    const hotfix = await ada.api.deployments.list.query({ environmentId: e.id, limit: 50 });
    expect(hotfix.items.map((d) => d.commitSha)).toEqual([sha]);
    await s.alice.api.environments.delete.mutate({ environmentId: e.id });
  });

  it("polls when no webhook comes, and records each commit once whichever way it is seen", async () => {
    const before = (await head("shop", "develop"))!;
    const polled = await pushByHand(
      "shop",
      "develop",
      (dir) => editFile(dir, DEV, (t) => t.replace(/count: \d+/, "count: 5")),
      { ...tester, message: "ops: five replicas" },
    );
    await syncsDone();
    await pollNow(env.development);
    const found = await waitFor(
      () => byCommit(polled),
      (l) => l.length > 0,
    );
    expect(found.map((d) => [d.method, d.author])).toEqual([["gitops-git", "Tess Tester"]]);

    // The same push announced afterwards by its webhook, twice (a redelivery), and polled again.
    const payload = await githubPush("shop", "develop", before, [polled]);
    const delivery = randomUUID();
    expect((await signedPush("generic", repoId, payload, delivery)).status).toBe(202);
    expect(await signedPush("generic", repoId, payload, delivery)).toEqual({
      status: 200,
      body: { result: "duplicate delivery" },
    });
    // Once the webhook's sync is done, rewind push detection so that the next poll sees the commit again.
    await syncsDone();
    await back.handle.db.execute(
      sql`update environments set last_seen_sha = ${before}, last_polled_at = now() - interval '1 day' where id = ${env.development}`,
    );
    expect(
      await waitFor(
        () => seen(env.development),
        (v) => v === polled,
      ),
    ).toBe(polled);
    await syncsDone();
    expect(await byCommit(polled)).toHaveLength(1);
    expect(await countRows(sql`select 1 from webhook_deliveries where delivery_id = ${delivery}`)).toBe(1);
  });
});

describe("the webhook endpoint", () => {
  const payload = async () => {
    const sha = (await head("shop", "develop"))!;
    return JSON.stringify(await githubPush("shop", "develop", sha, [sha]));
  };

  it("answers 202 to a valid signature, 401 to a wrong or missing one", async () => {
    const body = await payload();
    const secret = await webhookSecret(repoId);
    const headers = { "x-github-event": "push" };
    expect(
      (await postWebhook("generic", repoId, body, { ...headers, "x-hub-signature-256": sign(body, secret) })).status,
    ).toBe(202);
    expect(
      await postWebhook("generic", repoId, body, { ...headers, "x-hub-signature-256": sign(body, "not-the-secret") }),
    ).toEqual({ status: 401, body: { result: "signature mismatch" } });
    // The signature covers the exact bytes: one changed byte is a different body.
    expect(
      (
        await postWebhook("github", repoId, `${body} `, {
          ...headers,
          "x-hub-signature-256": sign(body, secret),
        })
      ).status,
    ).toBe(401);
    expect((await postWebhook("github", repoId, body, headers)).status).toBe(401);
    expect(
      (
        await postWebhook("github", repoId, body, {
          "x-github-event": "ping",
          "x-hub-signature-256": sign(body, secret),
        })
      ).body,
    ).toEqual({ result: "pong" });
  });

  it("verifies before it parses, and takes bodies above the server's usual 1 MiB", async () => {
    const secret = await webhookSecret(repoId);
    expect((await postWebhook("github", repoId, "{not json", { "x-github-event": "push" })).status).toBe(401);
    const sha = (await head("shop", "develop"))!;
    const big = JSON.stringify({
      ...(await githubPush("shop", "develop", sha, [sha])),
      padding: "x".repeat(2 * 1024 * 1024),
    });
    const res = await postWebhook("github", repoId, big, {
      "x-github-event": "push",
      "x-hub-signature-256": sign(big, secret),
    });
    expect(res.status).toBe(202);
  });

  it("400 for malformed JSON, 413 above 5 MiB, 404 for an unknown repository or kind", async () => {
    const secret = await webhookSecret(repoId);
    const bad = "{not json";
    expect(
      await postWebhook("github", repoId, bad, { "x-github-event": "push", "x-hub-signature-256": sign(bad, secret) }),
    ).toEqual({ status: 400, body: { result: "body is not valid JSON" } });
    const huge = Buffer.alloc(5 * 1024 * 1024 + 1, 0x20);
    expect(
      (
        await postWebhook("github", repoId, huge, {
          "x-github-event": "push",
          "x-hub-signature-256": sign(huge, secret),
        })
      ).status,
    ).toBe(413);
    const body = await payload();
    expect((await postWebhook("github", randomUUID(), body, { "x-github-event": "push" })).status).toBe(404);
    expect((await postWebhook("bitbucket", repoId, body, { "x-github-event": "push" })).status).toBe(404);
    expect((await postWebhook("github", "not-a-uuid", body, { "x-github-event": "push" })).status).toBe(404);
  });

  it("GitLab: the X-Gitlab-Token must equal the secret", async () => {
    const sha = (await head("shop", "develop"))!;
    const body = JSON.stringify({
      object_kind: "push",
      ref: "refs/heads/develop",
      before: sha,
      after: sha,
      checkout_sha: sha,
      project: { path_with_namespace: "acme/shop", web_url: "https://gitlab.example/acme/shop" },
      commits: [],
      total_commits_count: 0,
    });
    const secret = await webhookSecret(repoId);
    const headers = { "x-gitlab-event": "Push Hook", "x-gitlab-event-uuid": randomUUID() };
    expect(await postWebhook("gitlab", repoId, body, { ...headers, "x-gitlab-token": secret })).toEqual({
      status: 202,
      body: { result: "accepted", environments: 1 },
    });
    expect((await postWebhook("gitlab", repoId, body, { ...headers, "x-gitlab-token": `${secret}x` })).status).toBe(
      401,
    );
    expect((await postWebhook("gitlab", repoId, body, headers)).status).toBe(401);
  });
});

describe("manual deployments", () => {
  it("pending → running → succeeded, with a timeline; an impossible step is refused", async () => {
    const before = await lastAuditId(back);
    const d = await s.bob.api.deployments.createManual.mutate({
      environmentId: env.staging,
      version: "2024.06.1",
      commitSha: "abcdef1",
      strategy: "canary",
    });
    expect(d).toMatchObject({ method: "manual", status: "pending", version: "2024.06.1", strategy: "canary" });
    const wrong = await failure(s.bob.api.deployments.reportManual.mutate({ deploymentId: d.id, event: "succeed" }));
    expect(wrong.juanie.code).toBe("INVALID_INPUT");
    expect(wrong.message).toBe("This deployment is pending and cannot be marked succeeded now");
    expect(wrong.juanie.fieldErrors?.deploymentId?.[0]).toBe("is pending and cannot be marked succeeded now");
    const running = await s.bob.api.deployments.reportManual.mutate({ deploymentId: d.id, event: "start" });
    expect(running.status).toBe("running");
    const ok = await s.bob.api.deployments.reportManual.mutate({
      deploymentId: d.id,
      event: "succeed",
      message: "all pods healthy",
    });
    expect(ok.status).toBe("succeeded");
    expect(ok.finishedAt).not.toBeNull();
    expect(ok.canRollBack).toBe(false);
    expect(ok.events.map((e) => [e.from, e.to, e.message])).toEqual([
      [null, "pending", "recorded by bob"],
      ["pending", "running", null],
      ["running", "succeeded", "all pods healthy"],
    ]);
    const viewer = await failure(s.vic.api.deployments.reportManual.mutate({ deploymentId: d.id, event: "fail" }));
    expect(viewer.juanie.requiredRole).toBe("environment deploy permission");
    const [gitDeployment] = (await ada.api.deployments.list.query({ method: "gitops-ui", limit: 1 })).items;
    const notManual = await failure(
      s.bob.api.deployments.reportManual.mutate({ deploymentId: gitDeployment!.id, event: "start" }),
    );
    expect(notManual.juanie.fieldErrors?.deploymentId?.[0]).toMatch(/not a manual deployment/);
    expect(await auditActions(before)).toEqual([
      "deployment.manual:success",
      "deployment.manual_status:failed",
      "deployment.manual_status:success",
      "deployment.manual_status:success",
      "deployment.manual_status:denied",
      "deployment.manual_status:failed",
    ]);
  });
});

describe("history", () => {
  const all = async (session: Session, filter: Record<string, string | undefined>, limit = 4) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const page: Awaited<ReturnType<typeof session.api.deployments.list.query>> =
        await session.api.deployments.list.query({ ...filter, cursor, limit });
      ids.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return ids;
  };
  const dbIds = async (where: ReturnType<typeof sql>) =>
    (
      await back.handle.db.execute<{ id: string }>(
        sql`select id from deployments where ${where} order by created_at desc, id desc`,
      )
    ).rows.map((r) => r.id);

  it("pages through every deployment exactly once, per project and globally, with filters", async () => {
    await drainCommits();
    const other = await ada.api.projects.create.mutate({ organizationId: org.id, name: "Blog", slug: "blog" });
    const blogEnv = await ada.api.environments.create.mutate({
      projectId: other.id,
      name: "live",
      type: "production",
      gitops: { enabled: false, repositoryId: null, branch: null, path: null, syncInterval: "5m", autoSync: false },
    });
    const blog = await ada.api.deployments.createManual.mutate({ environmentId: blogEnv.id, version: "1" });

    const mine = await all(ada, { projectId: project.id });
    expect(mine).toEqual(await dbIds(sql`project_id = ${project.id}`));
    expect(mine.length).toBeGreaterThan(25);
    expect(new Set(mine).size).toBe(mine.length);
    const global = await all(ada, {}, 7);
    expect(global).toEqual(await dbIds(sql`true`));
    expect(global).toContain(blog.id);
    // Members see their project's history; an outsider sees none of it.
    expect(await all(s.vic, { projectId: project.id }, 50)).toEqual(mine);
    expect(await all(s.zed, {}, 50)).toEqual([]);
    expect((await failure(s.zed.api.deployments.list.query({ projectId: project.id, limit: 5 }))).juanie.code).toBe(
      "NOT_FOUND",
    );

    for (const [filter, where] of [
      [{ environmentId: env.production }, sql`environment_id = ${env.production}`],
      [{ status: "committed" }, sql`status = 'committed'`],
      [{ method: "gitops-git" }, sql`method = 'gitops-git'`],
      [{ method: "rollback" }, sql`method = 'rollback'`],
      [{ projectId: project.id, status: "failed" }, sql`project_id = ${project.id} and status = 'failed'`],
    ] as const) {
      const got = await all(ada, filter, 3);
      expect(got.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(got, JSON.stringify(filter)).toEqual(await dbIds(where));
    }
    const times = (
      await back.handle.db.execute<{ t: string }>(
        sql`select created_at::text as t from deployments where project_id = ${project.id} order by created_at`,
      )
    ).rows.map((r) => new Date(r.t).toISOString());
    const from = times[5]!;
    const to = times[20]!;
    const ranged = await all(ada, { projectId: project.id, from, to }, 5);
    expect(ranged).toEqual(
      await dbIds(
        sql`project_id = ${project.id} and created_at >= ${from}::timestamptz and created_at < ${to}::timestamptz + interval '1 millisecond'`,
      ),
    );
    // Both ends are inclusive, at the millisecond the API shows.
    const shown = (await ada.api.deployments.list.query({ projectId: project.id, limit: 200 })).items;
    expect(ranged).toContain(shown.find((d) => d.createdAt === to)?.id);
    expect(ranged).toContain(shown.find((d) => d.createdAt === from)?.id);
    expect(ranged.length).toBeGreaterThanOrEqual(16);
  });

  it("a deployment's detail has its diff, approvals and events", async () => {
    const [approved] = (
      await ada.api.deployments.list.query({
        environmentId: env.production,
        method: "gitops-ui",
        status: "committed",
        limit: 50,
      })
    ).items.slice(-1);
    const d = await ada.api.deployments.get.query({ deploymentId: approved!.id });
    expect(d.diff).toContain('+    newTag: "1.5.0"');
    expect(d.approvals.map((a) => a.user.username)).toEqual(["carol", "dave"]);
    expect(d.events.map((e) => e.to)).toEqual(["pending", "awaiting_approval", "queued", "committing", "committed"]);
    expect(d.commitUrl).toBeNull();
    expect(d.requestedBy?.username).toBe("bob");
    expect(d.durationMs).toBeGreaterThan(0);
  });
});

describe("GitHub provider wiring (local API fake, local Git server)", () => {
  let gh: FakeGitHub;
  beforeAll(async () => {
    gh = await startFakeGitHub({
      users: [{ token: TOKEN, login: "acme-bot" }],
      orgs: [{ login: "acme", admins: ["acme-bot"] }],
      repos: [{ owner: "acme", name: "shop-gh", defaultBranch: "main" }],
      cloneUrl: (fullName) => `${git.url}/${fullName}.git`,
      onCreateRepository: async (fullName) => {
        await git.createRepo(fullName);
      },
    });
  });
  afterAll(async () => {
    await gh?.close();
  });

  it("takes the web URL from the API, registers the webhook, and links commits", async () => {
    await git.createRepo("acme/shop-gh", { withInitialCommit: true });
    const repo = await ada.api.repositories.connect.mutate({
      projectId: project.id,
      provider: "github",
      url: `${git.url}/acme/shop-gh.git`,
      apiUrl: gh.apiUrl,
      credential: { type: "token", token: TOKEN },
      registerWebhook: true,
    });
    expect(repo).toMatchObject({
      fullName: "acme/shop-gh",
      webUrl: "https://github.example/acme/shop-gh",
      webhookRegistered: true,
      webhookUrl: `${server.url}/api/webhooks/github/${repo.id}`,
    });
    const hooks = gh.repo("acme/shop-gh")!.hooks;
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.events).toEqual(["push"]);
    expect(hooks[0]!.config.url).toBe(`${server.url}/api/webhooks/github/${repo.id}`);
    expect(hooks[0]!.config.secret).toBe(await webhookSecret(repo.id));
    expect(String(hooks[0]!.config.secret).length).toBeGreaterThanOrEqual(24);
    expect(gh.requests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);

    await ada.api.repositories.initializeLayout.mutate({ repositoryId: repo.id, image: `${IMAGE}:1.0.0`, port: 8080 });
    const details = await ada.api.repositories.details.query({ repositoryId: repo.id });
    const top = details.commits[0]!;
    expect(top.url).toBe(`https://github.example/acme/shop-gh/commit/${top.sha}`);
    const e = await ada.api.environments.create.mutate({
      projectId: project.id,
      name: "gh-dev",
      type: "development",
      gitops: {
        enabled: true,
        repositoryId: repo.id,
        branch: "main",
        path: "k8s/overlays/development",
        syncInterval: "10m",
        autoSync: true,
      },
    });
    const d = await settled(
      ada,
      (await ada.api.deployments.request.mutate({ environmentId: e.id, spec: { replicas: 2 } })).id,
    );
    expect(d.status).toBe("committed");
    expect(d.commitUrl).toBe(`https://github.example/acme/shop-gh/commit/${d.commitSha}`);
    expect(d.commitSha).toBe(await head("acme/shop-gh", "main"));
    // The hook the fake holds is the one GitHub would sign deliveries with.
    const body = JSON.stringify({
      ...(await githubPush("acme/shop-gh", "main", d.commitSha!, [d.commitSha!])),
      repository: { full_name: "acme/shop-gh" },
    });
    expect(
      (
        await postWebhook("github", repo.id, body, {
          "x-github-event": "push",
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": sign(body, String(hooks[0]!.config.secret)),
        })
      ).status,
    ).toBe(202);
  });

  it("creates a repository on the provider, pushes the layout and connects it", async () => {
    const before = await lastAuditId(back);
    const repo = await ada.api.repositories.create.mutate({
      projectId: project.id,
      provider: "github",
      apiUrl: gh.apiUrl,
      token: TOKEN,
      namespace: "acme",
      name: "created-here",
      private: true,
      image: `${IMAGE}:1.0.0`,
      port: 8080,
    });
    expect(repo).toMatchObject({ fullName: "acme/created-here", url: `${git.url}/acme/created-here.git` });
    expect(gh.repo("acme/created-here")?.private).toBe(true);
    expect(await show("acme/created-here", "main", "k8s/base/kustomization.yaml")).toContain("Kustomization");
    expect(await auditActions(before)).toEqual(["repository.connect:success", "repository.initialize:success"]);
    const taken = await failure(
      ada.api.repositories.create.mutate({
        projectId: project.id,
        provider: "github",
        apiUrl: gh.apiUrl,
        token: TOKEN,
        namespace: "acme",
        name: "created-here",
        private: true,
        image: `${IMAGE}:1.0.0`,
        port: 8080,
      }),
    );
    expect(taken.juanie.fieldErrors?.name?.[0]).toMatch(/already taken/);
  });
});

describe("secrets", () => {
  it("the token is in no log line, no API answer, no audit entry and no file of the Git cache", async () => {
    const forms = [TOKEN, Buffer.from(`x-access-token:${TOKEN}`).toString("base64")];
    const logs = server.logs.join("");
    expect(logs.length).toBeGreaterThan(0);
    for (const f of forms) expect(logs).not.toContain(f);
    const audit = await back.handle.db.execute<{ t: string }>(
      sql`select coalesce(string_agg(a::text, ''), '') as t from audit_logs a`,
    );
    for (const f of forms) expect(audit.rows[0]!.t).not.toContain(f);
    const everything = JSON.stringify([
      await ada.api.repositories.list.query({ projectId: project.id }),
      await ada.api.repositories.details.query({ repositoryId: repoId }),
      await ada.api.deployments.list.query({ limit: 200 }),
    ]);
    for (const f of forms) expect(everything).not.toContain(f);

    const cache = path.join(server.dataDir, "git");
    const files = (await readdir(cache, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
    expect(files.some((f) => f.endsWith(`${path.sep}config`))).toBe(true);
    for (const file of files) {
      const content = await readFile(file);
      for (const f of forms) expect(content.includes(f), file).toBe(false);
    }
    for (const file of files.filter((f) => f.endsWith(`${path.sep}config`))) {
      const config = await readFile(file, "utf8");
      expect(config).not.toMatch(/extraheader|authorization|@127\.0\.0\.1/i);
    }
  });
});

describe("the audit log", () => {
  it("recorded every GitOps action of this file, denials as denied", async () => {
    const rows = await back.handle.db.execute<{ a: string }>(
      sql`select distinct action || ':' || result as a from audit_logs order by 1`,
    );
    expect(rows.rows.map((r) => r.a)).toEqual(
      expect.arrayContaining([
        "repository.connect:success",
        "repository.connect:failed",
        "repository.initialize:success",
        "repository.update_credential:success",
        "repository.disconnect:success",
        "environment.create:success",
        "environment.update:success",
        "environment.set_permissions:success",
        "environment.delete:success",
        "environment.delete:denied",
        "deployment.request:success",
        "deployment.request:denied",
        "deployment.approve:success",
        "deployment.approve:denied",
        "deployment.reject:success",
        "deployment.commit:success",
        "deployment.rollback:success",
        "deployment.rollback:denied",
        "deployment.cancel:success",
        "deployment.manual:success",
        "deployment.manual_status:success",
        "deployment.manual_status:denied",
      ]),
    );
    // The system's own steps name no user, and each names its deployment.
    const commits = await back.handle.db.execute<{ n: number }>(
      sql`select count(*)::int as n from audit_logs where action = 'deployment.commit' and (actor_id is not null or resource_id is null or actor_label <> 'system')`,
    );
    expect(commits.rows[0]!.n).toBe(0);
  });
});

describe("the live stream when access is taken away", () => {
  it("ends for a member removed from the project, before a later change reaches them", async () => {
    const eve = await createUser(back, "eve");
    await back.handle.db.insert(organizationMembers).values({ organizationId: org.id, userId: eve.id, role: "member" });
    await back.handle.db.insert(projectMembers).values({ projectId: project.id, userId: eve.id, role: "viewer" });
    const eveS = await signIn(server, eve);
    const seen: string[] = [];
    const errors: unknown[] = [];
    let started = false;
    const sub = eveS.api.deployments.onChange.subscribe(
      { projectId: project.id },
      {
        onStarted: () => {
          started = true;
        },
        onData: (e) => seen.push(e.deploymentId),
        onError: (e) => errors.push(e),
      },
    );
    const manual = (version: string) =>
      s.bob.api.deployments.createManual.mutate({
        environmentId: env.staging,
        version,
        commitSha: "abcdef2",
        strategy: "rolling",
      });
    try {
      await waitFor(
        async () => started,
        (ok) => ok,
      );
      const first = await manual("live-1");
      await waitFor(
        async () => seen,
        (ids) => ids.includes(first.id),
      );
      await back.handle.db
        .delete(projectMembers)
        .where(and(eq(projectMembers.projectId, project.id), eq(projectMembers.userId, eve.id)));
      // Past the stream's re-check interval (2 s).
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const second = await manual("live-2");
      await waitFor(
        async () => errors.length,
        (n) => n > 0,
      );
      expect(errors[0]).toMatchObject({ data: { httpStatus: 404 } });
      expect(seen).toContain(first.id);
      expect(seen).not.toContain(second.id);
    } finally {
      sub.unsubscribe();
    }
  });
});
