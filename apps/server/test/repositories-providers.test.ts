import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { organizationMembers, projectMembers } from "@juanie/db";
import { SecretBox } from "@juanie/domain";
import { type FakeGitHub, type FakeGitLab, startFakeGitHub, startFakeGitLab } from "@juanie/providers/testing";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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
  waitFor,
} from "./support.ts";

/**
 * Repositories on GitHub and GitLab through the real server: the webhook the platform registers on connect is
 * removed again on disconnect (and when the connection is not stored after all), and no database transaction
 * stays open while the platform talks to Git or to a provider API. The APIs are local fakes, the Git side a real
 * `git http-backend`.
 */

const TOKEN = `tok-${randomBytes(12).toString("hex")}`;

let git: GitServer;
let server: TestServer;
let back: Backdoor;
let box: SecretBox;
let gh: FakeGitHub;
let gl: FakeGitLab;
let ada: Session; // platform admin, created the organization and the project
let vic: Session; // project viewer
let project: { id: string };

beforeAll(async () => {
  git = await startGitServer({ token: TOKEN });
  gh = await startFakeGitHub({
    users: [{ token: TOKEN, login: "acme-bot" }],
    orgs: [{ login: "acme", admins: ["acme-bot"] }],
    repos: ["hooked", "flaky", "twice", "slow", "not-mine"].map((name) => ({
      owner: "acme",
      name,
      defaultBranch: "main",
      // Only write access to this one: no webhooks.
      ...(name === "not-mine" ? { owner: "others", access: { "acme-bot": "write" as const } } : {}),
    })),
  });
  gl = await startFakeGitLab({
    users: [{ token: TOKEN, username: "acme-bot" }],
    groups: [{ path: "acme", members: { "acme-bot": 40 } }],
    projects: [{ path: "acme/shop-gl", defaultBranch: "main", description: "on our own GitLab" }],
  });
  server = await startTestServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true" });
  back = openBackdoor(server);
  box = new SecretBox(Buffer.from((await readFile(path.join(server.dataDir, "secret.key"), "utf8")).trim(), "base64"));
  ada = new Session(server.url);
  await ada.api.auth.setup.mutate({ email: "ada@example.com", username: "ada", displayName: "Ada", password });
  const org = await ada.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
  project = await ada.api.projects.create.mutate({
    organizationId: org.id,
    name: "Shop",
    slug: "shop",
    visibility: "private",
  });
  const viewer = await createUser(back, "vic");
  await back.handle.db
    .insert(organizationMembers)
    .values({ organizationId: org.id, userId: viewer.id, role: "member" });
  await back.handle.db.insert(projectMembers).values({ projectId: project.id, userId: viewer.id, role: "viewer" });
  vic = await signIn(server, viewer);
});

afterAll(async () => {
  await back?.close();
  await server?.close();
  await gh?.close();
  await gl?.close();
  await git?.close();
});

// ---------------------------------------------------------------------------------------------

async function auditActions(afterId: number) {
  return (await auditSince(back, afterId)).map((e) => `${e.action}:${e.result}`);
}

async function stored(repositoryId: string) {
  const r = await back.handle.db.execute<{ webhook_id: string | null; webhook_secret: string }>(
    sql`select webhook_id, webhook_secret from repositories where id = ${repositoryId}`,
  );
  const row = r.rows[0];
  return row ? { webhookId: row.webhook_id, webhookSecret: box.decrypt(row.webhook_secret) } : null;
}

const connectGitHub = (session: Session, name: string, registerWebhook = true, owner = "acme") =>
  session.api.repositories.connect.mutate({
    projectId: project.id,
    provider: "github",
    url: `${git.url}/${owner}/${name}.git`,
    apiUrl: gh.apiUrl,
    credential: { type: "token", token: TOKEN },
    registerWebhook,
  });

const hookRequests = (fake: { requests: { method: string; rawPath: string }[] }, method: string) =>
  fake.requests.filter((r) => r.method === method && /\/hooks(\/|$)/.test(r.rawPath)).map((r) => r.rawPath);

/**
 * A pass-through HTTP proxy that can hold matching requests (before they reach the target) until released: the
 * platform is then waiting for the network, and the test looks at the database meanwhile.
 */
interface GatedProxy {
  url: string;
  /** Holds every matching request from now until `release()`. */
  hold(match: (req: http.IncomingMessage) => boolean): { held: () => number; release: () => void };
  /** Lets everything held through (after a failed test: nothing stays stuck). */
  releaseAll(): void;
  close(): Promise<void>;
}

async function startGatedProxy(target: string): Promise<GatedProxy> {
  const to = new URL(target);
  let gate: { match: (req: http.IncomingMessage) => boolean; held: number; open: Promise<void> } | null = null;
  const releases = new Set<() => void>();
  const proxy = http.createServer((req, res) => {
    const forward = () => {
      const up = http.request(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: to.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      req.pipe(up);
    };
    if (gate?.match(req)) {
      gate.held++;
      void gate.open.then(forward);
    } else {
      forward();
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  if (!address || typeof address === "string") throw new Error("proxy has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    hold(match) {
      let release = () => {};
      const open = new Promise<void>((resolve) => {
        release = resolve;
      });
      releases.add(release);
      const current = { match, held: 0, open };
      gate = current;
      return {
        held: () => current.held,
        release: () => {
          if (gate === current) gate = null;
          release();
        },
      };
    },
    releaseAll() {
      gate = null;
      for (const release of releases) release();
      releases.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

/** Sessions of the server's database (other than the asking one) inside a transaction that began before `since`. */
async function transactionsOpenSince(since: string): Promise<{ pid: number; state: string; query: string }[]> {
  const r = await back.handle.db.execute<{ pid: number; state: string; query: string }>(sql`
    select pid, state, query from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()
      and xact_start is not null and xact_start < ${since}::timestamptz`);
  return r.rows;
}

async function databaseNow(): Promise<string> {
  const r = await back.handle.db.execute<{ t: string }>(sql`select clock_timestamp()::text as t`);
  return r.rows[0]!.t;
}

/** While the platform waits on a held request: a second later, no transaction it opened before is still open. */
async function expectNoTransactionHeld(): Promise<void> {
  const since = await databaseNow();
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await transactionsOpenSince(since)).toEqual([]);
  }
}

// ---------------------------------------------------------------------------------------------

describe("GitHub: the webhook lives as long as the connection", () => {
  it("registers the hook with the server's webhook URL and a secret, and deletes it on disconnect", async () => {
    await git.createRepo("acme/hooked", { withInitialCommit: true });
    const before = await lastAuditId(back);
    const repo = await connectGitHub(ada, "hooked");
    expect(repo).toMatchObject({
      provider: "github",
      fullName: "acme/hooked",
      webUrl: "https://github.example/acme/hooked",
      webhookRegistered: true,
      webhookUrl: `${server.url}/api/webhooks/github/${repo.id}`,
    });
    const hooks = gh.repo("acme/hooked")!.hooks;
    expect(hooks).toHaveLength(1);
    const hook = hooks[0]!;
    expect(hook.config.url).toBe(`${server.url}/api/webhooks/github/${repo.id}`);
    const row = await stored(repo.id);
    expect(row?.webhookId).toBe(String(hook.id));
    expect(hook.config.secret).toBe(row?.webhookSecret);
    expect(String(hook.config.secret).length).toBeGreaterThanOrEqual(24);

    await ada.api.repositories.disconnect.mutate({ repositoryId: repo.id });
    expect(gh.repo("acme/hooked")!.hooks).toEqual([]);
    expect(hookRequests(gh, "DELETE")).toContain(`/repos/acme/hooked/hooks/${hook.id}`);
    expect(await stored(repo.id)).toBeNull();
    expect((await ada.api.repositories.list.query({ projectId: project.id })).map((r) => r.id)).not.toContain(repo.id);
    // A delivery to the old address finds nothing.
    const res = await fetch(`${server.url}/api/webhooks/github/${repo.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": randomUUID() },
      body: "{}",
    });
    expect(res.status).toBe(404);
    expect(await auditActions(before)).toEqual(["repository.connect:success", "repository.disconnect:success"]);
  });

  it("disconnects even when the provider fails to delete the hook, and says so in the log", async () => {
    await git.createRepo("acme/flaky", { withInitialCommit: true });
    const repo = await connectGitHub(ada, "flaky");
    const hookId = gh.repo("acme/flaky")!.hooks[0]!.id;
    const logLines = server.logs.length;
    gh.failNext({ status: 500, body: { message: "Server Error" } });
    await ada.api.repositories.disconnect.mutate({ repositoryId: repo.id });

    expect(await stored(repo.id)).toBeNull();
    expect((await ada.api.repositories.list.query({ projectId: project.id })).map((r) => r.id)).not.toContain(repo.id);
    // The delete was tried (and failed): the hook is still on GitHub, for someone to remove by hand.
    expect(hookRequests(gh, "DELETE")).toContain(`/repos/acme/flaky/hooks/${hookId}`);
    expect(gh.repo("acme/flaky")!.hooks.map((h) => h.id)).toEqual([hookId]);
    const warning = server.logs
      .slice(logLines)
      .flatMap((chunk) => chunk.split("\n").filter(Boolean))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.repositoryId === repo.id);
    expect(warning).toMatchObject({ level: 40, provider: "github", webhookId: String(hookId) });
    expect(JSON.stringify(server.logs.slice(logLines))).not.toContain(TOKEN);
  });

  it("a plain Git repository has no webhook: disconnecting calls no provider", async () => {
    const url = await git.createRepo("plain", { withInitialCommit: true });
    const repo = await ada.api.repositories.connect.mutate({
      projectId: project.id,
      provider: "git",
      url,
      credential: { type: "token", token: TOKEN },
      registerWebhook: false,
    });
    const calls = gh.requests.length + gl.requests.length;
    await ada.api.repositories.disconnect.mutate({ repositoryId: repo.id });
    expect(await stored(repo.id)).toBeNull();
    expect(gh.requests.length + gl.requests.length).toBe(calls);
  });

  it("a refused hook registration is audited as failed with its reason, and nothing is stored", async () => {
    await git.createRepo("others/not-mine", { withInitialCommit: true });
    const before = await lastAuditId(back);
    const rows = await back.count(sql`select 1 from repositories`);
    const err = await failure(connectGitHub(ada, "not-mine", true, "others"));
    expect(err.juanie.code).toBe("INVALID_INPUT");
    expect(err.juanie.fieldErrors?.credential?.[0]).toMatch(/lacks the permission/);
    expect(await back.count(sql`select 1 from repositories`)).toBe(rows);
    const entries = await auditSince(back, before);
    expect(entries.map((e) => [e.action, e.result, e.reason, e.projectId])).toEqual([
      ["repository.connect", "failed", err.message, project.id],
    ]);
  });

  it("a viewer is denied before any Git or provider call, and the denial is audited", async () => {
    const before = await lastAuditId(back);
    const gitCalls = git.requests.length;
    const apiCalls = gh.requests.length;
    const err = await failure(connectGitHub(vic, "hooked"));
    expect(err.httpStatus).toBe(403);
    expect(err.juanie).toMatchObject({ code: "FORBIDDEN", requiredRole: "project maintainer" });
    expect(git.requests.length).toBe(gitCalls);
    expect(gh.requests.length).toBe(apiCalls);
    const entries = await auditSince(back, before);
    expect(entries.map((e) => [e.action, e.result, e.projectId])).toEqual([
      ["repository.connect", "denied", project.id],
    ]);
  });
});

describe("no transaction is held open while the platform talks to the network", () => {
  let gitProxy: GatedProxy;
  let apiProxy: GatedProxy;
  beforeAll(async () => {
    gitProxy = await startGatedProxy(git.url);
    apiProxy = await startGatedProxy(gh.apiUrl);
  });
  afterEach(() => {
    gitProxy.releaseAll();
    apiProxy.releaseAll();
  });
  afterAll(async () => {
    await gitProxy?.close();
    await apiProxy?.close();
  });

  /** A plain Git repository connected through the proxy (nothing held). */
  const connectThroughProxy = async (name: string) => {
    await git.createRepo(`acme/${name}`, { withInitialCommit: true });
    return ada.api.repositories.connect.mutate({
      projectId: project.id,
      provider: "git",
      url: `${gitProxy.url}/acme/${name}.git`,
      credential: { type: "token", token: TOKEN },
      registerWebhook: false,
    });
  };

  it("during the Git access check and the webhook registration of a connect", async () => {
    await git.createRepo("acme/slow", { withInitialCommit: true });
    const gitGate = gitProxy.hold((req) => req.url?.startsWith("/acme/slow.git/info/refs") ?? false);
    const before = await lastAuditId(back);
    const connecting = ada.api.repositories.connect.mutate({
      projectId: project.id,
      provider: "github",
      url: `${gitProxy.url}/acme/slow.git`,
      apiUrl: apiProxy.url,
      credential: { type: "token", token: TOKEN },
      registerWebhook: true,
    });
    void connecting.catch(() => {}); // awaited below
    expect(
      await waitFor(
        async () => gitGate.held(),
        (n) => n > 0,
      ),
    ).toBe(1);
    await expectNoTransactionHeld();

    const hookGate = apiProxy.hold((req) => req.method === "POST" && (req.url?.endsWith("/hooks") ?? false));
    gitGate.release();
    expect(
      await waitFor(
        async () => hookGate.held(),
        (n) => n > 0,
      ),
    ).toBe(1);
    await expectNoTransactionHeld();
    hookGate.release();

    const repo = await connecting;
    expect(repo).toMatchObject({ fullName: "acme/slow", webhookRegistered: true });
    expect(gh.repo("acme/slow")!.hooks.map((h) => String(h.id))).toEqual([(await stored(repo.id))?.webhookId]);
    expect(await auditActions(before)).toEqual(["repository.connect:success"]);
  });

  it("during the check of a new credential", async () => {
    const repo = await connectThroughProxy("slow-cred");
    const gate = gitProxy.hold((req) => req.url?.startsWith("/acme/slow-cred.git/info/refs") ?? false);
    const updating = ada.api.repositories.updateCredential.mutate({
      repositoryId: repo.id,
      credential: { type: "token", token: TOKEN },
    });
    void updating.catch(() => {});
    await waitFor(
      async () => gate.held(),
      (n) => n > 0,
    );
    await expectNoTransactionHeld();
    gate.release();
    expect(await updating).toMatchObject({ id: repo.id, syncStatus: "ok" });
  });

  it("during the push of the starter layout", async () => {
    const repo = await connectThroughProxy("slow-layout");
    const before = await lastAuditId(back);
    const gate = gitProxy.hold((req) => req.method === "POST" && req.url === "/acme/slow-layout.git/git-receive-pack");
    const writing = ada.api.repositories.initializeLayout.mutate({
      repositoryId: repo.id,
      image: "ghcr.io/acme/shop:1.0.0",
      port: 8080,
    });
    void writing.catch(() => {});
    await waitFor(
      async () => gate.held(),
      (n) => n > 0,
    );
    await expectNoTransactionHeld();
    gate.release();
    const { commitSha } = await writing;
    expect(commitSha).toBe((await git.git("acme/slow-layout", ["rev-parse", "main"])).trim());
    expect(await git.git("acme/slow-layout", ["show", "main:k8s/base/kustomization.yaml"])).toContain("Kustomization");
    expect(await auditActions(before)).toEqual(["repository.initialize:success"]);
  });

  it("a repository connected twice at once: one wins, the other's webhook is deleted again", async () => {
    await git.createRepo("acme/twice", { withInitialCommit: true });
    // Both requests pass every check before either is stored (held at the hook registration, their last step):
    // the unique index decides.
    const gate = apiProxy.hold((req) => req.method === "POST" && req.url === "/repos/acme/twice/hooks");
    const before = await lastAuditId(back);
    const posts = hookRequests(gh, "POST").length;
    const connect = () =>
      ada.api.repositories.connect.mutate({
        projectId: project.id,
        provider: "github",
        url: `${git.url}/acme/twice.git`,
        apiUrl: apiProxy.url,
        credential: { type: "token", token: TOKEN },
        registerWebhook: true,
      });
    const both = Promise.allSettled([connect(), connect()]);
    expect(
      await waitFor(
        async () => gate.held(),
        (n) => n >= 2,
      ),
    ).toBe(2);
    gate.release();
    const results = await both;

    const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const lost = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const err = await failure(Promise.reject(lost[0]));
    expect(err.juanie).toMatchObject({ code: "CONFLICT", fieldErrors: { url: ["is already connected"] } });
    // Two hooks were registered; only the stored connection's remains.
    expect(hookRequests(gh, "POST").length - posts).toBe(2);
    const remaining = gh.repo("acme/twice")!.hooks;
    expect(remaining.map((h) => String(h.id))).toEqual([(await stored(won[0]!.id))?.webhookId]);
    expect(remaining[0]!.config.url).toBe(`${server.url}/api/webhooks/github/${won[0]!.id}`);
    expect((await auditActions(before)).sort()).toEqual(["repository.connect:failed", "repository.connect:success"]);
  });
});

describe("GitLab (self-hosted) through the server", () => {
  it("takes the metadata from the instance, registers the hook, and deletes it on disconnect", async () => {
    await git.createRepo("acme/shop-gl", { withInitialCommit: true });
    const before = await lastAuditId(back);
    const repo = await ada.api.repositories.connect.mutate({
      projectId: project.id,
      provider: "gitlab",
      url: `${git.url}/acme/shop-gl.git`,
      apiUrl: gl.apiUrl,
      credential: { type: "token", token: TOKEN },
      registerWebhook: true,
    });
    expect(repo).toMatchObject({
      provider: "gitlab",
      fullName: "acme/shop-gl",
      webUrl: `${gl.apiUrl}/acme/shop-gl`,
      defaultBranch: "main",
      webhookRegistered: true,
      webhookUrl: `${server.url}/api/webhooks/gitlab/${repo.id}`,
    });
    expect(gl.requests.length).toBeGreaterThan(0);
    expect(gl.requests.every((r) => r.headers["private-token"] === TOKEN)).toBe(true);
    const hooks = gl.project("acme/shop-gl")!.hooks;
    expect(hooks).toHaveLength(1);
    const hook = hooks[0]!;
    const row = await stored(repo.id);
    expect(hook).toMatchObject({
      url: `${server.url}/api/webhooks/gitlab/${repo.id}`,
      push_events: true,
      enable_ssl_verification: true,
      token: row?.webhookSecret,
    });
    expect(row?.webhookId).toBe(String(hook.id));
    // GitLab's deliveries (with the token it was given) get through; others do not.
    const sha = (await git.git("acme/shop-gl", ["rev-parse", "main"])).trim();
    const deliver = (token: string) =>
      fetch(`${server.url}/api/webhooks/gitlab/${repo.id}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-gitlab-event": "Push Hook",
          "x-gitlab-event-uuid": randomUUID(),
          "x-gitlab-token": token,
        },
        body: JSON.stringify({
          object_kind: "push",
          ref: "refs/heads/main",
          before: sha,
          after: sha,
          checkout_sha: sha,
          project: { path_with_namespace: "acme/shop-gl", web_url: `${gl.apiUrl}/acme/shop-gl` },
          commits: [],
          total_commits_count: 0,
        }),
      });
    expect((await deliver(String(hook.token))).status).toBe(202);
    expect((await deliver(`${hook.token}x`)).status).toBe(401);

    await ada.api.repositories.disconnect.mutate({ repositoryId: repo.id });
    expect(gl.project("acme/shop-gl")!.hooks).toEqual([]);
    expect(hookRequests(gl, "DELETE")).toEqual([
      `/api/v4/projects/${encodeURIComponent("acme/shop-gl")}/hooks/${hook.id}`,
    ]);
    expect(await stored(repo.id)).toBeNull();
    expect((await deliver(String(hook.token))).status).toBe(404);
    expect(await auditActions(before)).toEqual(["repository.connect:success", "repository.disconnect:success"]);
  });
});
