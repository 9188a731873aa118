import { execFile } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { organizationMembers, projectMembers } from "@juanie/db";
import { type GitServer, startGitServer } from "../../../test/git-server.ts";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import { type Backdoor, createUser, openBackdoor, password, signIn, type TestUser, waitFor } from "./support.ts";

const run = promisify(execFile);

export const DEV = "k8s/overlays/development/kustomization.yaml";
export const PROD = "k8s/overlays/production/kustomization.yaml";

type Name = "alice" | "bob" | "carol" | "dave" | "erin";

/**
 * A project wired for GitOps on the real server and a real Git server: a repository connected with a token,
 * the starter layout, and the suggested environments (production needs two approvals). Alice maintains the
 * project; Bob, Carol, Dave and Erin are developers (they may deploy and approve).
 */
export interface GitopsWorld {
  git: GitServer;
  server: TestServer;
  back: Backdoor;
  token: string;
  admin: Session;
  users: Record<Name, TestUser>;
  s: Record<Name, Session>;
  org: { id: string };
  project: { id: string };
  repoId: string;
  /** The served repository's name. */
  repo: string;
  env: Record<"development" | "staging" | "production", string>;
  close(): Promise<void>;
}

export async function startGitopsWorld(env: Record<string, string> = {}): Promise<GitopsWorld> {
  const token = `tok-${randomBytes(12).toString("hex")}`;
  const git = await startGitServer({ token });
  const server = await startTestServer({
    JUANIE_ALLOW_LOCAL_REPOSITORIES: "true",
    JUANIE_SCHEDULER_INTERVAL_MS: "300",
    ...env,
  });
  const back = openBackdoor(server);
  const admin = new Session(server.url);
  await admin.api.auth.setup.mutate({ email: "ada@example.com", username: "ada", displayName: "Ada", password });
  const org = await admin.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
  const project = await admin.api.projects.create.mutate({
    organizationId: org.id,
    name: "Shop",
    slug: "shop",
    visibility: "private",
  });
  const roles = { alice: "maintainer", bob: "developer", carol: "developer", dave: "developer", erin: "developer" };
  const users = {} as Record<Name, TestUser>;
  const s = {} as Record<Name, Session>;
  for (const [name, role] of Object.entries(roles) as [Name, "maintainer" | "developer"][]) {
    users[name] = await createUser(back, name);
    await back.handle.db
      .insert(organizationMembers)
      .values({ organizationId: org.id, userId: users[name].id, role: "member" });
    await back.handle.db.insert(projectMembers).values({ projectId: project.id, userId: users[name].id, role });
    s[name] = await signIn(server, users[name]);
  }
  const repo = "shop";
  const url = await git.createRepo(repo);
  const connected = await admin.api.repositories.connect.mutate({
    projectId: project.id,
    provider: "git",
    url,
    credential: { type: "token", token },
    registerWebhook: false,
  });
  await admin.api.repositories.initializeLayout.mutate({
    repositoryId: connected.id,
    image: "ghcr.io/acme/shop:1.0.0",
    port: 8080,
  });
  const envs = await admin.api.environments.createSuggested.mutate({
    projectId: project.id,
    repositoryId: connected.id,
  });
  const byName = Object.fromEntries(envs.map((e) => [e.name, e.id])) as GitopsWorld["env"];
  return {
    git,
    server,
    back,
    token,
    admin,
    users,
    s,
    org,
    project,
    repoId: connected.id,
    repo,
    env: byName,
    async close() {
      await back.close();
      await server.close();
      await git.close();
    },
  };
}

export async function branchHead(w: GitopsWorld, branch: string): Promise<string | null> {
  return w.git.git(w.repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]).then(
    (out) => out.trim(),
    () => null,
  );
}

export const showFile = (w: GitopsWorld, rev: string, file: string) => w.git.git(w.repo, ["show", `${rev}:${file}`]);

/** A developer's own `git commit && git push` from a throwaway clone; returns the pushed commit. */
export async function pushByHand(
  w: GitopsWorld,
  branch: string,
  file: string,
  edit: (text: string) => string,
  message: string,
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "juanie-hand-clone-"));
  const header = `Authorization: Basic ${Buffer.from(`dev:${w.token}`).toString("base64")}`;
  const g = async (args: string[]) =>
    (
      await run(
        "git",
        [
          "-c",
          `http.extraHeader=${header}`,
          "-c",
          "user.name=Tess Tester",
          "-c",
          "user.email=tess@example.com",
          ...args,
        ],
        { cwd: dir },
      )
    ).stdout.trim();
  try {
    await g(["clone", "--quiet", "--branch", branch, `${w.git.url}/${w.repo}.git`, "."]);
    const p = path.join(dir, file);
    await writeFile(p, edit(await readFile(p, "utf8")));
    await g(["commit", "--quiet", "-am", message]);
    await g(["push", "--quiet", "origin", `HEAD:${branch}`]);
    return await g(["rev-parse", "HEAD"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A GitHub-style push delivery to the generic endpoint, signed with the secret a maintainer can reveal. */
export async function signedPush(
  w: GitopsWorld,
  payload: object,
  opts: { delivery?: string; secret?: string; contentType?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const secret =
    opts.secret ?? (await w.s.alice.api.repositories.revealWebhookSecret.mutate({ repositoryId: w.repoId })).secret;
  const body = JSON.stringify(payload);
  const res = await fetch(`${w.server.url}/api/webhooks/generic/${w.repoId}`, {
    method: "POST",
    headers: {
      "content-type": opts.contentType ?? "application/json",
      "x-github-event": "push",
      "x-github-delivery": opts.delivery ?? randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The smallest push payload the parser takes: the branch and the new head. */
export function pushPayload(branch: string, before: string, after: string) {
  return {
    ref: `refs/heads/${branch}`,
    before,
    after,
    repository: { full_name: "acme/shop" },
    commits: [],
    head_commit: null,
  };
}

type Detail = Awaited<ReturnType<Session["api"]["deployments"]["get"]["query"]>>;

/** Waits until a deployment is past its commit job. */
export function settled(session: Session, id: string): Promise<Detail> {
  return waitFor(
    () => session.api.deployments.get.query({ deploymentId: id }),
    (d) => !["pending", "queued", "committing"].includes(d.status),
    20_000,
  );
}
