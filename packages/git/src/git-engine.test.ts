import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitServer, startGitServer } from "../../../test/git-server.ts";
import { composeMessage, type FileAccess, type FileChanges, GitEngine } from "./git-engine.ts";
import { GitError, type GitRemote } from "./run-git.ts";

const run = promisify(execFile);

const TOKEN = "tok-e2e-7f3a9c1d";
const READ_ONLY_TOKEN = "ro-e2e-2b8d4e6f";
const BAD_TOKEN = "bad-e2e-5c1e0a93";
const SECRETS = [TOKEN, READ_ONLY_TOKEN, BAD_TOKEN].flatMap((token) => [
  token,
  Buffer.from(`x-access-token:${token}`).toString("base64"),
]);
const identity = { name: "Juanie", email: "juanie@platform.example" };

let server: GitServer;
let cacheDir: string;
let engine: GitEngine;
let scratch: string;

const remote = (url: string, token = TOKEN): GitRemote => ({ url, credentials: { kind: "token", token } });

function expectClean(value: unknown) {
  const text = value instanceof GitError ? `${value.message}\n${value.detail}\n${value.stack}` : String(value);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/authorization/i);
}

async function gitError(promise: Promise<unknown>): Promise<GitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GitError);
  expectClean(error);
  return error as GitError;
}

/** A developer's clone of a served repository, pushing straight into the bare repository. */
async function pushFromOtherClone(repo: string, files: Record<string, string>, message = "developer change") {
  const work = await mkdtemp(path.join(scratch, "dev-"));
  const git = (args: string[]) =>
    run("git", ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", ...args], { cwd: work });
  await git(["clone", "--quiet", path.join(server.root, `${repo}.git`), "."]);
  for (const [file, content] of Object.entries(files)) {
    await run("mkdir", ["-p", path.dirname(path.join(work, file))]);
    await writeFile(path.join(work, file), content);
  }
  await git(["add", "-A"]);
  await git(["commit", "--quiet", "-m", message]);
  await git(["push", "--quiet", "origin", "HEAD:main"]);
  await rm(work, { recursive: true, force: true });
}

beforeAll(async () => {
  server = await startGitServer({ token: TOKEN, readOnlyToken: READ_ONLY_TOKEN });
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "juanie-git-cache-"));
  scratch = await mkdtemp(path.join(os.tmpdir(), "juanie-git-scratch-"));
  engine = new GitEngine({ cacheDir, identity, allowInsecureHttp: true, timeoutMs: 20_000 });
});

afterAll(async () => {
  engine.close();
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

describe("checkAccess", () => {
  it("reads and write-checks with a good token, without writing anything", async () => {
    const url = await server.createRepo("access", { withInitialCommit: true });
    const head = (await server.git("access", ["rev-parse", "main"])).trim();
    expect(await engine.checkAccess(remote(url), { write: false })).toEqual({
      defaultBranch: "main",
      branches: [{ name: "main", sha: head }],
      empty: false,
    });
    const before = server.requests.length;
    expect(await engine.checkAccess(remote(url), { write: true })).toMatchObject({ defaultBranch: "main" });
    // The write check talked to receive-pack (advertisement) but pushed nothing.
    const calls = server.requests.slice(before);
    expect(calls.some((r) => r.path.endsWith("/info/refs") && r.authorized)).toBe(true);
    expect(calls.some((r) => r.method === "POST" && r.path.endsWith("/git-receive-pack"))).toBe(false);
    expect(await server.git("access", ["for-each-ref", "--format=%(refname)"])).toBe("refs/heads/main\n");
  });

  it("a refused first check leaves no clone behind; a clone that served before stays", async () => {
    const url = await server.createRepo("access-refused", { withInitialCommit: true });
    const before = (await readdir(cacheDir)).sort();
    expect((await gitError(engine.checkAccess(remote(url, BAD_TOKEN), { write: true }))).reason).toBe("auth_failed");
    expect((await gitError(engine.checkAccess(remote(`${server.url}/nope.git`), { write: false }))).reason).toBe(
      "not_found",
    );
    expect((await readdir(cacheDir)).sort()).toEqual(before);
    // Once it has worked, a later failure (a revoked token) keeps the clone and what it fetched.
    await engine.checkAccess(remote(url), { write: false });
    const withClone = (await readdir(cacheDir)).sort();
    expect(withClone.length).toBe(before.length + 1);
    await gitError(engine.checkAccess(remote(url, BAD_TOKEN), { write: false }));
    expect((await readdir(cacheDir)).sort()).toEqual(withClone);
  });

  it("reports an empty repository", async () => {
    const url = await server.createRepo("access-empty");
    expect(await engine.checkAccess(remote(url), { write: true })).toEqual({
      defaultBranch: null,
      branches: [],
      empty: true,
    });
  });

  it("bad token → auth_failed", async () => {
    const url = await server.createRepo("access-bad", { withInitialCommit: true });
    const error = await gitError(engine.checkAccess(remote(url, BAD_TOKEN), { write: false }));
    expect(error.reason).toBe("auth_failed");
  });

  it("read-only token: reads, and the write check says no_write_access", async () => {
    const url = await server.createRepo("access-ro", { withInitialCommit: true });
    expect((await engine.checkAccess(remote(url, READ_ONLY_TOKEN), { write: false })).branches).toHaveLength(1);
    const error = await gitError(engine.checkAccess(remote(url, READ_ONLY_TOKEN), { write: true }));
    expect(error.reason).toBe("no_write_access");
  });

  it("missing repository → not_found", async () => {
    const error = await gitError(engine.checkAccess(remote(`${server.url}/does-not-exist.git`), { write: false }));
    expect(error.reason).toBe("not_found");
  });

  it("closed port → network", async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const address = probe.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await gitError(engine.checkAccess(remote(`http://127.0.0.1:${port}/x.git`), { write: false }));
    expect(error.reason).toBe("network");
  });

  it("refuses dangerous URLs before running git", async () => {
    for (const url of ["ext::sh -c touch% /tmp/pwned", "--upload-pack=touch /tmp/x", "/tmp/repo", "file:///etc"]) {
      const error = await gitError(engine.checkAccess(remote(url), { write: false }));
      expect(error.reason).toBe("invalid_url");
    }
    const strict = new GitEngine({ cacheDir, identity });
    const error = await gitError(strict.listBranches(remote(`${server.url}/access.git`)));
    expect(error.reason).toBe("invalid_url");
  });
});

describe("commit", () => {
  it("commits with trailers as the platform identity and pushes", async () => {
    const url = await server.createRepo("commit-basic", { withInitialCommit: true });
    const parent = (await server.git("commit-basic", ["rev-parse", "main"])).trim();
    const started = performance.now();
    const result = await engine.commit(remote(url), {
      branch: "main",
      message: "Deploy web 1.4.2 to production",
      trailers: { "Requested-by": "ada <ada@example.com>", "Deployment-id": "dep_42" },
      edit: async (files) => {
        expect(files.head).toBe(parent);
        expect(await files.read("apps/web/deployment.yaml")).toBeNull();
        return { "apps/web/deployment.yaml": "image: web:1.4.2\n", "README.md": "hello\n" };
      },
    });
    const elapsed = performance.now() - started;
    console.info(`commit + push on the local smart-HTTP server: ${elapsed.toFixed(0)} ms (first, includes clone)`);
    expect(result).toMatchObject({ parent, attempts: 1, changedFiles: ["README.md", "apps/web/deployment.yaml"] });
    expect(result.sha).toBe((await server.git("commit-basic", ["rev-parse", "main"])).trim());
    expect(await server.git("commit-basic", ["show", "main:apps/web/deployment.yaml"])).toBe("image: web:1.4.2\n");
    expect(await server.git("commit-basic", ["log", "-1", "--format=%an <%ae>|%cn <%ce>|%P", "main"])).toBe(
      `Juanie <juanie@platform.example>|Juanie <juanie@platform.example>|${parent}\n`,
    );
    expect(await server.git("commit-basic", ["log", "-1", "--format=%B", "main"])).toBe(
      "Deploy web 1.4.2 to production\n\nRequested-by: ada <ada@example.com>\nDeployment-id: dep_42\n\n",
    );
    // git itself parses them as trailers
    expect(
      await server.git("commit-basic", ["log", "-1", "--format=%(trailers:key=Requested-by,valueonly)", "main"]),
    ).toBe("ada <ada@example.com>\n\n");

    // A second commit reuses the cache: measure the steady state.
    const again = performance.now();
    const second = await engine.commit(remote(url), {
      branch: "main",
      message: "Deploy web 1.4.3",
      edit: async (files) => {
        expect(await files.read("apps/web/deployment.yaml")).toBe("image: web:1.4.2\n");
        expect(await files.list("apps")).toEqual(["apps/web/deployment.yaml"]);
        return { "apps/web/deployment.yaml": "image: web:1.4.3\n", "README.md": null };
      },
    });
    console.info(`commit + push on the local smart-HTTP server: ${(performance.now() - again).toFixed(0)} ms (cached)`);
    expect(second).toMatchObject({ parent: result.sha, changedFiles: ["README.md", "apps/web/deployment.yaml"] });
    expect(await server.git("commit-basic", ["ls-tree", "-r", "--name-only", "main"])).toBe(
      "apps/web/deployment.yaml\n",
    );
  });

  it("an edit that changes nothing makes no commit and no push", async () => {
    const url = await server.createRepo("commit-noop", { withInitialCommit: true });
    await pushFromOtherClone("commit-noop", { "a.yaml": "a: 1\n" });
    const head = (await server.git("commit-noop", ["rev-parse", "main"])).trim();
    const before = server.requests.length;
    const noops: FileChanges[] = [{}, { "a.yaml": "a: 1\n" }, { "missing.yaml": null }];
    for (const changes of noops) {
      const result = await engine.commit(remote(url), { branch: "main", message: "noop", edit: async () => changes });
      expect(result).toMatchObject({ sha: null, parent: head, changedFiles: [], before: {}, after: {} });
    }
    expect(server.requests.slice(before).some((r) => r.path.endsWith("/git-receive-pack"))).toBe(false);
    expect((await server.git("commit-noop", ["rev-parse", "main"])).trim()).toBe(head);
  });

  it("creates a branch from createFrom", async () => {
    const url = await server.createRepo("commit-create", { withInitialCommit: true });
    const main = (await server.git("commit-create", ["rev-parse", "main"])).trim();
    const result = await engine.commit(remote(url), {
      branch: "env/staging",
      createFrom: "main",
      message: "Create staging",
      edit: async () => ({ "staging/app.yaml": "replicas: 1\n" }),
    });
    expect(result.parent).toBe(main);
    expect((await server.git("commit-create", ["rev-parse", "env/staging"])).trim()).toBe(result.sha);
    const error = await gitError(
      engine.commit(remote(url), { branch: "nope", message: "x", edit: async () => ({ a: "b" }) }),
    );
    expect(error.reason).toBe("branch_not_found");
  });

  it("re-runs the edit on the new head when someone pushed in between, keeping both changes", async () => {
    const url = await server.createRepo("commit-race", { withInitialCommit: true });
    const heads: string[] = [];
    const result = await engine.commit(remote(url), {
      branch: "main",
      message: "Platform change",
      edit: async (files, attempt) => {
        heads.push(files.head);
        if (attempt === 1) await pushFromOtherClone("commit-race", { "dev.txt": "from a developer\n" });
        const current = (await files.read("values.yaml")) ?? "";
        return { "values.yaml": `${current}attempt: ${attempt}\n` };
      },
    });
    expect(result.attempts).toBe(2);
    expect(heads[1]).not.toBe(heads[0]);
    expect(result.parent).toBe(heads[1]);
    expect(await server.git("commit-race", ["show", "main:dev.txt"])).toBe("from a developer\n");
    expect(await server.git("commit-race", ["show", "main:values.yaml"])).toBe("attempt: 2\n");
    expect((await server.git("commit-race", ["rev-list", "--count", "main"])).trim()).toBe("3");
  });

  it("a real conflict: the error the edit throws on the re-run propagates", async () => {
    const url = await server.createRepo("commit-conflict", { withInitialCommit: true });
    class ConflictError extends Error {}
    const attempt = engine.commit(remote(url), {
      branch: "main",
      message: "Platform change",
      edit: async (files, n) => {
        if (n === 1) {
          await pushFromOtherClone("commit-conflict", { "app.yaml": "image: theirs\n" });
          return { "app.yaml": "image: ours\n" };
        }
        if ((await files.read("app.yaml")) !== null) throw new ConflictError("app.yaml was changed by someone else");
        return { "app.yaml": "image: ours\n" };
      },
    });
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    expect(await server.git("commit-conflict", ["show", "main:app.yaml"])).toBe("image: theirs\n");
  });

  it("a branch that keeps moving → non_fast_forward after maxAttempts", async () => {
    const url = await server.createRepo("commit-busy", { withInitialCommit: true });
    let calls = 0;
    const error = await gitError(
      engine.commit(remote(url), {
        branch: "main",
        message: "Platform change",
        maxAttempts: 2,
        edit: async (_files, n) => {
          calls++;
          await pushFromOtherClone("commit-busy", { [`dev-${n}.txt`]: "x\n" });
          return { "platform.txt": `${n}\n` };
        },
      }),
    );
    expect(error.reason).toBe("non_fast_forward");
    expect(calls).toBe(2);
    expect(await server.git("commit-busy", ["ls-tree", "--name-only", "main"])).toBe("dev-1.txt\ndev-2.txt\n");
  });

  it("20 concurrent commits on one remote (two engines, one cache) are serialized: none lost", async () => {
    const url = await server.createRepo("commit-many", { withInitialCommit: true });
    const other = new GitEngine({ cacheDir, identity, allowInsecureHttp: true });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? other : engine).commit(remote(url), {
          branch: "main",
          message: `change ${i}`,
          edit: async (files) => ({
            "log.txt": `${(await files.read("log.txt")) ?? ""}${i}\n`,
            [`files/${i}.txt`]: `${i}\n`,
          }),
        }),
      ),
    );
    expect(results.every((r) => r.attempts === 1 && r.sha)).toBe(true);
    expect((await server.git("commit-many", ["rev-list", "--count", "main"])).trim()).toBe("21");
    const lines = (await server.git("commit-many", ["show", "main:log.txt"])).trim().split("\n");
    expect(lines.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect((await server.git("commit-many", ["ls-tree", "--name-only", "main:files"])).trim().split("\n")).toHaveLength(
      20,
    );
    await expect(
      run("git", ["fsck", "--strict"], { cwd: path.join(server.root, "commit-many.git") }),
    ).resolves.toBeTruthy();
  });

  it("refuses paths that leave the repository or touch .git, and never follows symlinks", async () => {
    const url = await server.createRepo("commit-paths", { withInitialCommit: true });
    const work = await mkdtemp(path.join(scratch, "symlink-"));
    const g = (args: string[]) => run("git", ["-c", "user.name=D", "-c", "user.email=d@e", ...args], { cwd: work });
    await g(["clone", "--quiet", path.join(server.root, "commit-paths.git"), "."]);
    await symlink("/etc", path.join(work, "etc-link"));
    await g(["add", "-A"]);
    await g(["commit", "--quiet", "-m", "symlink"]);
    await g(["push", "--quiet", "origin", "HEAD:main"]);
    const head = (await server.git("commit-paths", ["rev-parse", "main"])).trim();

    for (const bad of ["../outside", "/etc/passwd", ".git/config", "a/../../b", "a/.GIT/hooks/x", "a\nb"]) {
      await expect(
        engine.commit(remote(url), { branch: "main", message: "x", edit: async () => ({ [bad]: "x" }) }),
      ).rejects.toBeInstanceOf(RangeError);
    }
    await engine.commit(remote(url), {
      branch: "main",
      message: "x",
      edit: async (files) => {
        expect(await files.read("etc-link/passwd")).toBeNull();
        expect(await files.read("etc-link")).toBeNull(); // a symlink is not a regular file
        expect(await files.list("")).toEqual([]);
        return {};
      },
    });
    // Writing "through" the symlink replaces nothing on disk; git refuses the file/directory clash.
    const error = await gitError(
      engine.commit(remote(url), { branch: "main", message: "x", edit: async () => ({ "etc-link/passwd": "x" }) }),
    );
    expect(error.detail).toMatch(/etc-link/);
    expect((await server.git("commit-paths", ["rev-parse", "main"])).trim()).toBe(head);
  });

  it("recovers from a crashed operation: stale locks, temporary index, broken config", async () => {
    const url = await server.createRepo("commit-crash", { withInitialCommit: true });
    const edit = async () => ({ "x.txt": `${Date.now()}\n` });
    await engine.commit(remote(url), { branch: "main", message: "first", edit });
    const gitDir = path.join(cacheDir, createHash("sha256").update(url).digest("hex").slice(0, 32), "repo.git");
    const stale = ["index.lock", "HEAD.lock", "packed-refs.lock", "juanie-index-deadbeef", "refs/juanie/x.lock"];
    for (const file of stale) {
      await run("mkdir", ["-p", path.dirname(path.join(gitDir, file))]);
      await writeFile(path.join(gitDir, file), "stale");
    }
    // The platform restarted after the crash: a new engine on the same cache.
    const restarted = new GitEngine({ cacheDir, identity, allowInsecureHttp: true, timeoutMs: 20_000 });
    await restarted.commit(remote(url), { branch: "main", message: "second", edit });
    restarted.close();
    for (const file of stale) await expect(stat(path.join(gitDir, file))).rejects.toThrow(/ENOENT/);

    await writeFile(path.join(gitDir, "config"), "[corrupt");
    const third = await engine.commit(remote(url), { branch: "main", message: "third", edit });
    expect((await server.git("commit-crash", ["rev-parse", "main"])).trim()).toBe(third.sha);
    expect((await server.git("commit-crash", ["rev-list", "--count", "main"])).trim()).toBe("4");
  });
});

describe("initialize", () => {
  it("makes the first commit of an empty repository, once", async () => {
    const url = await server.createRepo("init-empty");
    const result = await engine.initialize(remote(url), {
      branch: "main",
      files: { "clusters/prod/kustomization.yaml": "resources: []\n", "README.md": "# GitOps\n" },
      message: "Initialize GitOps repository",
    });
    expect((await server.git("init-empty", ["rev-parse", "main"])).trim()).toBe(result.sha);
    expect(await server.git("init-empty", ["log", "--format=%P|%an|%s", "main"])).toBe(
      "|Juanie|Initialize GitOps repository\n",
    );
    expect(await server.git("init-empty", ["show", "main:clusters/prod/kustomization.yaml"])).toBe("resources: []\n");
    const error = await gitError(
      engine.initialize(remote(url), { branch: "main", files: { a: "b" }, message: "again" }),
    );
    expect(error.reason).toBe("non_fast_forward");
    expect((await server.git("init-empty", ["rev-parse", "main"])).trim()).toBe(result.sha);
  });
});

describe("preview", () => {
  it("returns before/after of the changed files without writing to the remote", async () => {
    const url = await server.createRepo("preview", { withInitialCommit: true });
    await pushFromOtherClone("preview", { "app.yaml": "image: web:1\nreplicas: 2\n", "old.yaml": "x: 1\n" });
    const head = (await server.git("preview", ["rev-parse", "main"])).trim();
    const refsBefore = await server.git("preview", ["for-each-ref"]);
    const before = server.requests.length;
    const result = await engine.preview(remote(url), {
      branch: "main",
      edit: async (files) => ({
        "app.yaml": ((await files.read("app.yaml")) ?? "").replace("web:1", "web:2"),
        "old.yaml": null,
        "new.yaml": "y: 2\n",
      }),
    });
    expect(result.head).toBe(head);
    expect(result.changedFiles).toEqual(["app.yaml", "new.yaml", "old.yaml"]);
    expect(result.before).toEqual({
      "app.yaml": "image: web:1\nreplicas: 2\n",
      "new.yaml": null,
      "old.yaml": "x: 1\n",
    });
    expect(result.after).toEqual({ "app.yaml": "image: web:2\nreplicas: 2\n", "new.yaml": "y: 2\n", "old.yaml": null });
    expect(server.requests.slice(before).some((r) => r.path.endsWith("/git-receive-pack"))).toBe(false);
    expect(await server.git("preview", ["for-each-ref"])).toBe(refsBefore);
    expect(await engine.preview(remote(url), { branch: "main", edit: async () => ({}) })).toEqual({
      head,
      changedFiles: [],
      before: {},
      after: {},
    });
  });
});

describe("reading", () => {
  let url: string;
  let shas: string[];
  beforeAll(async () => {
    url = await server.createRepo("reading", { withInitialCommit: true });
    await pushFromOtherClone("reading", { "apps/web/app.yaml": "v: 1\n", "apps/api/app.yaml": "v: 1\n" }, "both");
    await pushFromOtherClone("reading", { "apps/web/app.yaml": "v: 2\n" }, "web only");
    await engine.commit(remote(url), {
      branch: "main",
      message: "Deploy api 2",
      trailers: { "Requested-by": "ada <ada@example.com>", "Co-authored-by": "bob <bob@example.com>" },
      edit: async () => ({ "apps/api/app.yaml": "v: 2\n" }),
    });
    shas = (await server.git("reading", ["rev-list", "main"])).trim().split("\n");
  });

  it("lists branches", async () => {
    await pushFromOtherClone("reading", {}, "noop").catch(() => undefined);
    expect(await engine.listBranches(remote(url))).toEqual([{ name: "main", sha: shas[0] }]);
  });

  it("fetchBranch returns the head, branch_not_found otherwise", async () => {
    expect(await engine.fetchBranch(remote(url), "main")).toBe(shas[0]);
    expect((await gitError(engine.fetchBranch(remote(url), "missing"))).reason).toBe("branch_not_found");
  });

  it("log: newest first, with files, trailers, path filter, limit and since", async () => {
    const all = await engine.log(remote(url), "main");
    expect(all.map((c) => c.subject)).toEqual(["Deploy api 2", "web only", "both", "initial commit"]);
    expect(all[0]).toMatchObject({
      sha: shas[0],
      parents: [shas[1]],
      authorName: "Juanie",
      authorEmail: "juanie@platform.example",
      files: ["apps/api/app.yaml"],
      trailers: { "Requested-by": "ada <ada@example.com>", "Co-authored-by": "bob <bob@example.com>" },
    });
    expect(all[0]?.body).toBe("Requested-by: ada <ada@example.com>\nCo-authored-by: bob <bob@example.com>");
    expect(all[0]?.authoredAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(all[2]?.files).toEqual(["apps/api/app.yaml", "apps/web/app.yaml"]);
    expect(all[3]?.files).toEqual([]);

    const web = await engine.log(remote(url), "main", { path: "apps/web" });
    expect(web.map((c) => [c.subject, c.files])).toEqual([
      ["web only", ["apps/web/app.yaml"]],
      ["both", ["apps/web/app.yaml"]],
    ]);
    expect((await engine.log(remote(url), "main", { limit: 1 })).map((c) => c.subject)).toEqual(["Deploy api 2"]);
    const since = await engine.log(remote(url), "main", { since: shas[2] });
    expect(since.map((c) => c.subject)).toEqual(["Deploy api 2", "web only"]);
    expect(await engine.log(remote(url), "main", { since: shas[0] })).toEqual([]);
    const unknown = await gitError(engine.log(remote(url), "main", { since: "0123456789".repeat(4) }));
    expect(unknown.detail).toMatch(/not in the history/);
  });

  it("readFiles at a branch and at a commit", async () => {
    expect(await engine.readFiles(remote(url), "main", "apps")).toEqual({
      "apps/api/app.yaml": "v: 2\n",
      "apps/web/app.yaml": "v: 2\n",
    });
    expect(await engine.readFiles(remote(url), shas[2] ?? "", "apps/web/")).toEqual({ "apps/web/app.yaml": "v: 1\n" });
    expect(await engine.readFiles(remote(url), "main", "nothing-here")).toEqual({});
    // A commit id the cache has never seen is fetched by id.
    const fresh = new GitEngine({
      cacheDir: await mkdtemp(path.join(scratch, "cache-")),
      identity,
      allowInsecureHttp: true,
    });
    expect(await fresh.readFiles(remote(url), shas[1] ?? "", "")).toEqual({
      "apps/api/app.yaml": "v: 1\n",
      "apps/web/app.yaml": "v: 2\n",
    });
  });

  it("readAt/listAt inside an edit", async () => {
    await engine.preview(remote(url), {
      branch: "main",
      edit: async (files) => {
        expect(await files.readAt(shas[2] ?? "", "apps/web/app.yaml")).toBe("v: 1\n");
        expect(await files.listAt(shas[3] ?? "", "")).toEqual([]);
        expect(await files.listAt("main", "apps/api")).toEqual(["apps/api/app.yaml"]);
        return {};
      },
    });
  });

  it("filesUnder lists a directory on a branch and reads only the files asked for", async () => {
    const under = await engine.filesUnder(remote(url), "main", "apps/", (file) => file.startsWith("apps/web/"));
    expect(under).toEqual({
      head: shas[0],
      files: ["apps/api/app.yaml", "apps/web/app.yaml"],
      contents: { "apps/web/app.yaml": "v: 2\n" },
    });
    expect((await engine.filesUnder(remote(url), "main", "nothing-here", () => true)).files).toEqual([]);
    expect((await gitError(engine.filesUnder(remote(url), "missing", "apps", () => true))).reason).toBe(
      "branch_not_found",
    );
  });

  it("createBranch points a new branch at the head of another and never moves an existing one", async () => {
    const head = (await server.git("reading", ["rev-parse", "main"])).trim();
    expect(await engine.createBranch(remote(url), { branch: "release/1", from: "main" })).toEqual({ sha: head });
    expect((await server.git("reading", ["rev-parse", "refs/heads/release/1"])).trim()).toBe(head);
    await pushFromOtherClone("reading", { "apps/web/app.yaml": "v: 3\n" }, "web 3");
    const again = await gitError(engine.createBranch(remote(url), { branch: "release/1", from: "main" }));
    expect(again.reason).toBe("non_fast_forward");
    expect((await server.git("reading", ["rev-parse", "refs/heads/release/1"])).trim()).toBe(head);
    const missing = await gitError(engine.createBranch(remote(url), { branch: "release/2", from: "nope" }));
    expect(missing.reason).toBe("branch_not_found");
    expect(
      (await gitError(engine.createBranch(remote(url, READ_ONLY_TOKEN), { branch: "x", from: "main" }))).reason,
    ).toBe("no_write_access");
    await expect(engine.createBranch(remote(url), { branch: "bad..name", from: "main" })).rejects.toThrow(RangeError);
  });
});

describe("credentials", () => {
  it("never appear in the arguments of any git process", async () => {
    const bin = await mkdtemp(path.join(scratch, "bin-"));
    const argvLog = path.join(bin, "argv.log");
    await writeFile(path.join(bin, "git"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec /usr/bin/git "$@"\n`, {
      mode: 0o755,
    });
    const url = await server.createRepo("argv", { withInitialCommit: true });
    const originalPath = process.env.PATH;
    process.env.PATH = `${bin}:${originalPath}`;
    try {
      await engine.checkAccess(remote(url), { write: true });
      await engine.commit(remote(url), { branch: "main", message: "x", edit: async () => ({ "a.txt": "a\n" }) });
      await engine.checkAccess(remote(url, BAD_TOKEN), { write: false }).catch(() => undefined);
    } finally {
      process.env.PATH = originalPath;
    }
    const argv = await readFile(argvLog, "utf8");
    expect(argv).toContain("push --porcelain");
    expect(argv).toContain("credential.helper=");
    for (const secret of SECRETS) expect(argv).not.toContain(secret);
    expect(argv).not.toMatch(/authorization/i);
  });

  it("never appear in any file under the cache, and the stored origin is the plain URL", async () => {
    const found: string[] = [];
    const walk = async (dir: string) => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile()) {
          const content = await readFile(full);
          for (const secret of [...SECRETS, "Authorization"])
            if (content.includes(secret)) found.push(`${full}: ${secret}`);
        }
      }
    };
    await walk(cacheDir);
    expect(found).toEqual([]);
    const dirs = await readdir(cacheDir);
    expect(dirs.length).toBeGreaterThan(5);
    for (const dir of dirs) expect(dir).toMatch(/^[0-9a-f]{32}$/);
    const url = `${server.url}/commit-basic.git`;
    const config = await readFile(
      path.join(cacheDir, createHash("sha256").update(url).digest("hex").slice(0, 32), "repo.git", "config"),
      "utf8",
    );
    expect(config).toContain(`url = ${url}\n`);
  });
});

describe("commits built in this process", () => {
  it("commits on the head it last saw without fetching, and still never overwrites a branch that moved", async () => {
    const url = await server.createRepo("cached-head", { withInitialCommit: true });
    const edit = (value: string) => async (files: FileAccess) => ({
      "k8s/values.yaml": `${(await files.read("k8s/values.yaml")) ?? ""}${value}\n`,
    });
    await engine.commit(remote(url), { branch: "main", message: "one", edit: edit("one") });
    const fetches = () => server.requests.filter((r) => r.path.endsWith("/git-upload-pack")).length;

    // Nobody else pushed: one push, no fetch.
    const before = fetches();
    const second = await engine.commit(remote(url), { branch: "main", message: "two", edit: edit("two") });
    expect(fetches()).toBe(before);
    expect(second.attempts).toBe(1);
    expect((await server.git("cached-head", ["rev-parse", "main"])).trim()).toBe(second.sha);

    // A developer pushes between two platform commits: the lease push is refused, the new head fetched,
    // the edit re-run on it; both changes are on the branch.
    await pushFromOtherClone("cached-head", { "README.md": "by a developer\n" });
    const third = await engine.commit(remote(url), { branch: "main", message: "three", edit: edit("three") });
    expect(third.attempts).toBe(2);
    expect(fetches()).toBeGreaterThan(before);
    expect(await server.git("cached-head", ["show", "main:README.md"])).toBe("by a developer\n");
    expect(await server.git("cached-head", ["show", "main:k8s/values.yaml"])).toBe("one\ntwo\nthree\n");
    expect(third.before).toEqual({ "k8s/values.yaml": "one\ntwo\n" });
    expect(third.after).toEqual({ "k8s/values.yaml": "one\ntwo\nthree\n" });

    // A no-op judged on a stale cached head is judged again on the fetched head.
    await pushFromOtherClone("cached-head", { "k8s/values.yaml": "reset\n" });
    const noop = await engine.commit(remote(url), {
      branch: "main",
      message: "noop",
      edit: async () => ({ "k8s/values.yaml": "one\ntwo\nthree\n" }),
    });
    expect(noop.sha).not.toBeNull();
    expect(await server.git("cached-head", ["show", "main:k8s/values.yaml"])).toBe("one\ntwo\nthree\n");
  });

  it("writes trees git accepts (fsck --strict), in git's order, keeping modes and untouched entries", async () => {
    const url = await server.createRepo("trees", { withInitialCommit: true });
    const work = await mkdtemp(path.join(scratch, "trees-"));
    const git = (args: string[]) =>
      run("git", ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", ...args], { cwd: work });
    await git(["clone", "--quiet", path.join(server.root, "trees.git"), "."]);
    await run("mkdir", ["-p", path.join(work, "k8s/base"), path.join(work, "k8s-x")]);
    await writeFile(path.join(work, "k8s/base/app.yaml"), "a: 1\n");
    await writeFile(path.join(work, "k8s-x/keep.yaml"), "x\n");
    await writeFile(path.join(work, "run.sh"), "#!/bin/sh\n");
    await run("chmod", ["+x", path.join(work, "run.sh")]);
    await symlink("k8s/base/app.yaml", path.join(work, "link.yaml"));
    await git(["add", "-A"]);
    await git(["commit", "--quiet", "-m", "layout"]);
    await git(["push", "--quiet", "origin", "HEAD:main"]);

    // Names around "/": git orders "k8s-x" < "k8s.yaml" < "k8s" (a tree sorts as "k8s/").
    const result = await engine.commit(remote(url), {
      branch: "main",
      message: "edit",
      edit: async () => ({
        "k8s.yaml": "top\n",
        "k8s/base/app.yaml": "a: 2\n",
        "k8s/overlays/dev/kustomization.yaml": "resources: []\n",
        "run.sh": "#!/bin/sh\necho hi\n",
      }),
    });
    expect(result.changedFiles).toEqual([
      "k8s.yaml",
      "k8s/base/app.yaml",
      "k8s/overlays/dev/kustomization.yaml",
      "run.sh",
    ]);
    await server.git("trees", ["fsck", "--strict", "--no-dangling"]);
    const tree = await server.git("trees", ["ls-tree", "-r", "main"]);
    expect(tree).toMatch(/^100755 blob \S+\trun\.sh$/m);
    expect(tree).toMatch(/^120000 blob \S+\tlink\.yaml$/m);
    expect(tree).toMatch(/\tk8s-x\/keep\.yaml$/m);
    // The tree ids are the ones git computes for the same content.
    await git(["pull", "--quiet", "origin", "main"]);
    expect((await git(["write-tree"])).stdout.trim()).toBe(
      (await server.git("trees", ["rev-parse", "main^{tree}"])).trim(),
    );

    // Deleting the last file of a directory removes the directory.
    await engine.commit(remote(url), {
      branch: "main",
      message: "delete",
      edit: async () => ({ "k8s/overlays/dev/kustomization.yaml": null }),
    });
    expect(await server.git("trees", ["ls-tree", "-r", "--name-only", "main"])).not.toMatch(/overlays/);
    await server.git("trees", ["fsck", "--strict", "--no-dangling"]);
  });

  it("adds trailers the way git interpret-trailers does", async () => {
    const trailers = { "Requested-by": "Ada <ada@example.com>", "Juanie-Deployment": "d-1" };
    const messages = [
      "chore(deploy): update image",
      "chore(deploy): update image\n\nWith a body.",
      "subject\n\nbody\n\nSigned-off-by: Someone <s@example.com>",
      "Key: looks like a trailer but is the subject",
      "subject\r\n\r\nbody with CRLF\r\n",
    ];
    for (const message of messages) {
      const args = ["interpret-trailers", "--no-divider"];
      for (const [key, value] of Object.entries(trailers)) args.push(`--trailer=${key}: ${value}`);
      const child = execFile("git", args);
      const out = new Promise<string>((resolve, reject) => {
        let text = "";
        child.stdout?.on("data", (chunk) => {
          text += chunk;
        });
        child.on("close", () => resolve(text));
        child.on("error", reject);
      });
      child.stdin?.end(`${message.replace(/\r\n?/g, "\n").trim()}\n`);
      expect(composeMessage(message, trailers)).toBe(await out);
    }
  });
});

describe("the cached clone over time", () => {
  it("keeps committing after git gc packed and pruned the loose objects it wrote", async () => {
    const url = await server.createRepo("after-gc", { withInitialCommit: true });
    const edit = (n: number) => async () => ({ [`k8s/${n % 3}/values.yaml`]: `n: ${n}\n` });
    for (let n = 0; n < 3; n++) await engine.commit(remote(url), { branch: "main", message: `c${n}`, edit: edit(n) });
    const gitDir = path.join(cacheDir, createHash("sha256").update(url).digest("hex").slice(0, 32), "repo.git");
    await run("git", ["--git-dir", gitDir, "gc", "--quiet", "--prune=now"]);
    for (let n = 3; n < 9; n++) {
      const r = await engine.commit(remote(url), { branch: "main", message: `c${n}`, edit: edit(n) });
      expect((await server.git("after-gc", ["rev-parse", "main"])).trim()).toBe(r.sha);
    }
    await server.git("after-gc", ["fsck", "--strict", "--no-dangling"]);
  });

  it("leaves file names that are not UTF-8 exactly as they are when it rewrites their tree", async () => {
    const url = await server.createRepo("raw-names", { withInitialCommit: true });
    const work = await mkdtemp(path.join(scratch, "raw-"));
    const git = (args: string[]) =>
      run("git", ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", ...args], { cwd: work });
    await git(["clone", "--quiet", path.join(server.root, "raw-names.git"), "."]);
    // Two Latin-1 names that decode to the same replacement character as UTF-8.
    await writeFile(Buffer.from(path.join(work, "notes-caf\xe9"), "latin1"), "e acute\n");
    await writeFile(Buffer.from(path.join(work, "notes-caf\xe8"), "latin1"), "e grave\n");
    await git(["add", "-A"]);
    await git(["commit", "--quiet", "-m", "latin-1 names"]);
    await git(["push", "--quiet", "origin", "HEAD:main"]);
    const before = await server.git("raw-names", ["ls-tree", "main"]);

    await engine.commit(remote(url), { branch: "main", message: "edit", edit: async () => ({ "a.yaml": "a: 1\n" }) });
    const after = await server.git("raw-names", ["ls-tree", "main"]);
    expect(after.replace(/^.*\ta\.yaml\n/m, "")).toBe(before);
    expect(after).toMatch(/\ta\.yaml$/m);
  });
});
