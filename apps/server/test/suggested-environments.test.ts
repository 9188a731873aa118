import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { organizationMembers, projectMembers } from "@juanie/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitServer, startGitServer } from "../../../test/git-server.ts";
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
} from "./support.ts";

const run = promisify(execFile);

const KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n";
const CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: staging\n";

let git: GitServer;
let server: TestServer;
let back: Backdoor;
let token: string;
let admin: Session;
let alice: Session;
let bob: Session;
let aliceId: string;
let bobId: string;
let projectId: string;
let scratch: string;

/** Pushes `files` as one commit on `branch` of a served repository (created from the branch `from` or empty). */
async function pushFiles(repo: string, branch: string, files: Record<string, string>, from?: string) {
  const work = await mkdtemp(path.join(scratch, "work-"));
  const g = (args: string[]) =>
    run("git", ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", ...args], { cwd: work });
  const bare = path.join(git.root, `${repo}.git`);
  await g(["init", "--quiet", `--initial-branch=${branch}`]);
  if (from) {
    await g(["fetch", "--quiet", bare, `refs/heads/${from}`]);
    await g(["reset", "--quiet", "--hard", "FETCH_HEAD"]);
  }
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(work, file)), { recursive: true });
    await writeFile(path.join(work, file), content);
  }
  await g(["add", "-A"]);
  await g(["commit", "--quiet", "-m", `files on ${branch}`]);
  await g(["push", "--quiet", bare, `HEAD:refs/heads/${branch}`]);
  await rm(work, { recursive: true, force: true });
}

async function connectRepo(url: string): Promise<string> {
  const r = await admin.api.repositories.connect.mutate({
    projectId,
    provider: "git",
    url,
    credential: { type: "token", token },
    registerWebhook: false,
  });
  return r.id;
}

const head = (repo: string, branch: string) =>
  git.git(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]).then(
    (out) => out.trim(),
    () => null,
  );

const byName = <T extends { name: string }>(list: T[]) => Object.fromEntries(list.map((c) => [c.name, c]));

beforeAll(async () => {
  token = `tok-${randomBytes(12).toString("hex")}`;
  scratch = await mkdtemp(path.join(os.tmpdir(), "juanie-suggest-"));
  git = await startGitServer({ token });
  server = await startTestServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true" });
  back = openBackdoor(server);
  admin = new Session(server.url);
  await admin.api.auth.setup.mutate({ email: "ada@example.com", username: "ada", displayName: "Ada", password });
  const org = await admin.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
  const project = await admin.api.projects.create.mutate({
    organizationId: org.id,
    name: "Shop",
    slug: "shop",
    visibility: "private",
  });
  projectId = project.id;
  const users = { alice: "maintainer", bob: "developer" } as const;
  const ids: Record<string, string> = {};
  const sessions: Record<string, Session> = {};
  for (const [name, role] of Object.entries(users)) {
    const u = await createUser(back, name);
    ids[name] = u.id;
    await back.handle.db.insert(organizationMembers).values({ organizationId: org.id, userId: u.id, role: "member" });
    await back.handle.db.insert(projectMembers).values({ projectId, userId: u.id, role });
    sessions[name] = await signIn(server, u);
  }
  alice = sessions.alice!;
  bob = sessions.bob!;
  aliceId = ids.alice!;
  bobId = ids.bob!;
}, 120_000);

afterAll(async () => {
  await back?.close();
  await server?.close();
  await git?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("suggested environments checked against the repository", () => {
  it("verifies overlays that exist and says which are missing", async () => {
    // develop holds the development overlay (a kustomization); staging holds plain manifests for its
    // overlay; main has no production overlay at all.
    await git.createRepo("overlays");
    await pushFiles("overlays", "main", { "README.md": "# shop\n", "k8s/base/cm.yaml": CONFIG_MAP });
    await pushFiles("overlays", "develop", { "k8s/overlays/development/kustomization.yaml": KUSTOMIZATION }, "main");
    await pushFiles(
      "overlays",
      "staging",
      { "k8s/overlays/staging/settings.yaml": CONFIG_MAP, "k8s/overlays/staging/notes.txt": "hi\n" },
      "main",
    );
    const repositoryId = await connectRepo(`${git.url}/overlays.git`);

    const answer = await alice.api.environments.checkSuggested.query({ projectId, repositoryId });
    expect(answer.defaultBranch).toBe("main");
    const checks = byName(answer.checks);
    expect(checks.development).toMatchObject({
      status: "verified",
      branch: "develop",
      path: "k8s/overlays/development",
      found: "kustomization",
      file: "k8s/overlays/development/kustomization.yaml",
    });
    expect(checks.staging).toMatchObject({
      status: "verified",
      found: "manifests",
      file: "k8s/overlays/staging/settings.yaml",
    });
    expect(checks.production).toMatchObject({
      status: "missing-path",
      branch: "main",
      path: "k8s/overlays/production",
      found: null,
      reason: null,
    });
  });

  it("reports a missing branch and a path holding only a README, and creates the branch from the default head", async () => {
    await git.createRepo("readme");
    await pushFiles("readme", "main", { "k8s/overlays/production/README.md": "Overlays go here.\n" });
    await pushFiles("readme", "staging", { "k8s/overlays/staging/values.yaml": "replicas: 2\n" }, "main");
    const repositoryId = await connectRepo(`${git.url}/readme.git`);

    const first = byName((await alice.api.environments.checkSuggested.query({ projectId, repositoryId })).checks);
    expect(first.development).toMatchObject({ status: "missing-branch", branch: "develop" });
    // YAML, but no Kubernetes object (no apiVersion/kind): not something Flux can apply.
    expect(first.staging).toMatchObject({ status: "no-manifests", fileCount: 1 });
    expect(first.production).toMatchObject({ status: "no-manifests", fileCount: 1, file: null });
    expect(await head("readme", "develop")).toBeNull();

    // A developer may neither see the checks nor create the branch: denied, audited, nothing pushed.
    const beforeDenied = await lastAuditId(back);
    const check = await failure(bob.api.environments.checkSuggested.query({ projectId, repositoryId }));
    expect(check.httpStatus).toBe(403);
    const denied = await failure(
      bob.api.environments.createSuggestedBranch.mutate({ projectId, repositoryId, name: "development" }),
    );
    expect(denied.httpStatus).toBe(403);
    expect(denied.juanie.code).toBe("FORBIDDEN");
    expect(await head("readme", "develop")).toBeNull();
    const deniedEntries = (await auditSince(back, beforeDenied)).filter((e) => e.action === "repository.create_branch");
    expect(deniedEntries.map((e) => [e.result, e.actorId])).toEqual([["denied", bobId]]);

    // The maintainer creates it: a new ref at main's head, audited, and the answer is the new check.
    const mainHead = await head("readme", "main");
    const before = await lastAuditId(back);
    const after = await alice.api.environments.createSuggestedBranch.mutate({
      projectId,
      repositoryId,
      name: "development",
    });
    expect(await head("readme", "develop")).toBe(mainHead);
    // The branch exists now; main holds no development overlay, so the path is what is missing.
    expect(byName(after.checks).development).toMatchObject({ status: "missing-path", branch: "develop" });
    const entries = (await auditSince(back, before)).filter((e) => e.action === "repository.create_branch");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      result: "success",
      actorId: aliceId,
      resourceType: "repository",
      resourceId: repositoryId,
      projectId,
      changes: { after: { branch: "develop", from: "main", commit: mainHead, environment: "development" } },
    });

    // Asked again, nothing is moved: the branch exists.
    await pushFiles("readme", "main", { "k8s/overlays/development/kustomization.yaml": KUSTOMIZATION }, "main");
    const again = await failure(
      alice.api.environments.createSuggestedBranch.mutate({ projectId, repositoryId, name: "development" }),
    );
    expect(again.juanie.code).toBe("CONFLICT");
    expect(again.message).toContain('"develop" exists already');
    expect(await head("readme", "develop")).toBe(mainHead);
  });

  it("says why when the repository cannot be read", async () => {
    await git.createRepo("vanishing");
    await pushFiles("vanishing", "main", { "k8s/overlays/production/kustomization.yaml": KUSTOMIZATION });
    const repositoryId = await connectRepo(`${git.url}/vanishing.git`);
    expect(
      byName((await alice.api.environments.checkSuggested.query({ projectId, repositoryId })).checks).production
        ?.status,
    ).toBe("verified");
    await rm(path.join(git.root, "vanishing.git"), { recursive: true, force: true });
    const checks = (await alice.api.environments.checkSuggested.query({ projectId, repositoryId })).checks;
    expect(checks.map((c) => c.status)).toEqual(["unknown", "unknown", "unknown"]);
    expect(checks[0]?.reason).toMatch(/not found/i);
    expect(checks[0]?.reason).not.toContain(token);
    const create = await failure(
      alice.api.environments.createSuggestedBranch.mutate({ projectId, repositoryId, name: "staging" }),
    );
    expect(create.juanie.code).toBe("INVALID_INPUT");
  });

  it("refuses a repository of another project and a name that is not a suggestion", async () => {
    const other = await admin.api.projects.create.mutate({
      organizationId: (await admin.api.orgs.list.query())[0]!.id,
      name: "Other",
      slug: "other",
      visibility: "private",
    });
    const repos = await admin.api.repositories.list.query({ projectId });
    const wrong = await failure(
      admin.api.environments.checkSuggested.query({ projectId: other.id, repositoryId: repos[0]!.id }),
    );
    expect(wrong.juanie.code).toBe("INVALID_INPUT");
    expect(wrong.juanie.fieldErrors).toHaveProperty("repositoryId");
    const badName = await failure(
      alice.api.environments.createSuggestedBranch.mutate({
        projectId,
        repositoryId: repos[0]!.id,
        // @ts-expect-error: not one of the suggestions
        name: "feature; rm -rf /",
      }),
    );
    expect(badName.juanie.code).toBe("INVALID_INPUT");
    expect(badName.juanie.fieldErrors).toHaveProperty("name");
  });

  it("records the suggestions kept unchecked when the environments are created", async () => {
    const repos = await alice.api.repositories.list.query({ projectId });
    const overlays = repos.find((r) => r.url.endsWith("/overlays.git"))!;
    const before = await lastAuditId(back);
    const envs = await alice.api.environments.createSuggested.mutate({
      projectId,
      repositoryId: overlays.id,
      unchecked: ["production"],
    });
    expect(envs.map((e) => e.name)).toEqual(["development", "staging", "production"]);
    const entries = (await auditSince(back, before)).filter((e) => e.action === "environment.create");
    const unchecked = entries.map((e) => [
      (e.changes as { after: { name: string; unchecked?: boolean } }).after.name,
      (e.changes as { after: { unchecked?: boolean } }).after.unchecked ?? false,
    ]);
    expect(unchecked).toEqual([
      ["development", false],
      ["staging", false],
      ["production", true],
    ]);
  });
});
