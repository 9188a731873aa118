import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createDb, emailOutbox } from "@juanie/db";
import { type FakeGitHub, startFakeGitHub } from "@juanie/providers/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGitServer } from "../../../test/git-server.ts";
import { createTestDatabase, freePort } from "../../../test/helpers.ts";
import { branchHead, type GitopsWorld, pushPayload, signedPush, startGitopsWorld } from "./gitops-world.ts";
import { Session, startTestServer } from "./harness.ts";
import { dumpDatabase, filesContaining, type SmtpSink, startSmtpSink } from "./secret-scan.ts";
import { auditSince, failure, lastAuditId, password, waitFor } from "./support.ts";

/**
 * No local user, crash leftover or stored row gives away a secret: repository tokens and deploy keys,
 * invitation links, webhook secrets (shown only to maintainers who ask). And the platform trusts its public
 * URL, not what a request says about itself.
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../", import.meta.url));

describe("a server killed in the middle of a Git operation", () => {
  it("leaves the deploy key only in its private directory, which the next start removes; tokens nowhere", async () => {
    const token = `tok-${randomBytes(12).toString("hex")}`;
    const git = await startGitServer({ token });
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "juanie-killed-"));
    const keyDir = await mkdtemp(path.join(os.tmpdir(), "juanie-keygen-"));
    await run("ssh-keygen", ["-t", "ed25519", "-N", "", "-q", "-C", "deploy", "-f", path.join(keyDir, "id")]);
    const privateKey = await readFile(path.join(keyDir, "id"), "utf8");
    // A line of the key's body: what a leak would contain, whatever the file around it.
    const keyLine = privateKey.split("\n").find((l) => l.length > 60)!;
    // An "SSH server" that accepts the connection and never says a word: ssh waits, key on disk.
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const sshPort = (silent.address() as net.AddressInfo).port;
    const port = await freePort();
    // A mail server that takes the invitation e-mail and never confirms it: the job is mid-send at the kill.
    const smtp = await startSmtpSink();
    smtp.hold();
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, ["--import", "tsx", "apps/server/src/main.ts"], {
        cwd: root,
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          PORT: String(port),
          JUANIE_DATA_DIR: dataDir,
          JUANIE_ALLOW_LOCAL_REPOSITORIES: "true",
          JUANIE_SMTP_URL: smtp.url,
          LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout!.on("data", (c) => {
        out += String(c);
      });
      child.stderr!.on("data", (c) => {
        out += String(c);
      });
      await waitFor(
        async () => out,
        (o) => o.includes("Juanie is running at"),
        60_000,
      );
      const url = `http://localhost:${port}`;
      const admin = new Session(url);
      await admin.api.auth.setup.mutate({ email: "ada@example.com", username: "ada", displayName: "Ada", password });
      const org = await admin.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
      const project = await admin.api.projects.create.mutate({
        organizationId: org.id,
        name: "Shop",
        slug: "shop",
        visibility: "private",
      });
      const mailed = smtp.arrived();
      const { acceptUrl } = await admin.api.invitations.create.mutate({
        organizationId: org.id,
        invitee: "newcomer@example.com",
        role: "member",
      });
      const invitationToken = acceptUrl.split("/invitations/")[1]!;
      await mailed;
      expect(smtp.messages.at(-1)).toContain(invitationToken);
      await admin.api.repositories.connect.mutate({
        projectId: project.id,
        provider: "git",
        url: await git.createRepo("shop", { withInitialCommit: true }),
        credential: { type: "token", token },
        registerWebhook: false,
      });
      void admin.api.repositories.connect
        .mutate({
          projectId: project.id,
          provider: "git",
          url: `ssh://git@127.0.0.1:${sshPort}/acme/shop.git`,
          credential: { type: "ssh_key", privateKey },
          registerWebhook: false,
        })
        .catch(() => {});
      const credentials = path.join(dataDir, "git", ".credentials");
      const during = await waitFor(
        () => filesContaining(credentials, keyLine),
        (f) => f.length > 0,
        20_000,
      );
      expect(during).toHaveLength(1);
      expect((await stat(credentials)).mode & 0o777).toBe(0o700);
      expect((await stat(path.join(credentials, during[0]!))).mode & 0o777).toBe(0o600);
      child.kill("SIGKILL");
      await new Promise((r) => child!.once("exit", r));

      // After the crash: the key only where the next start looks, the token in no file, neither in any row.
      expect((await filesContaining(dataDir, keyLine)).every((f) => f.startsWith(`git${path.sep}.credentials`))).toBe(
        true,
      );
      expect(await filesContaining(dataDir, token)).toEqual([]);
      expect(await filesContaining(dataDir, invitationToken)).toEqual([]);
      const handle = createDb(db.url, { max: 2 });
      try {
        const dump = await dumpDatabase(handle.db);
        expect(dump).toContain("invitation.notify"); // the interrupted job is still queued, its token sealed
        expect(dump).not.toContain(token);
        expect(dump).not.toContain(keyLine);
        expect(dump).not.toContain(invitationToken);
      } finally {
        await handle.close();
      }
      const leftInTmp = (await readdir(os.tmpdir())).filter((n) => n.startsWith("juanie-ssh-"));
      for (const dir of leftInTmp) expect(await filesContaining(path.join(os.tmpdir(), dir), keyLine)).toEqual([]);

      // The next start on the same data directory sweeps it.
      const again = await startTestServer({ JUANIE_DATA_DIR: dataDir });
      try {
        expect(await filesContaining(dataDir, keyLine)).toEqual([]);
      } finally {
        await again.close();
      }
    } finally {
      if (child && child.exitCode === null) child.kill("SIGKILL");
      silent.close();
      smtp.release();
      await smtp.close();
      await git.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(keyDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("secrets at rest and at the edges", () => {
  let w: GitopsWorld;
  let smtp: SmtpSink;
  let gh: FakeGitHub;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    w = await startGitopsWorld({ JUANIE_SMTP_URL: smtp.url });
    gh = await startFakeGitHub({
      users: [{ token: w.token, login: "acme-bot" }],
      orgs: [{ login: "acme", admins: ["acme-bot"] }],
      repos: [{ owner: "acme", name: "shop-gh", defaultBranch: "main" }],
      cloneUrl: (fullName) => `${w.git.url}/${fullName}.git`,
    });
  });

  afterAll(async () => {
    await gh?.close();
    await w?.close();
    await smtp?.close();
  });

  it("an invitation's link is e-mailed, but no table holds it — not even while the e-mail is being sent", async () => {
    smtp.hold();
    const arrived = smtp.arrived();
    const { acceptUrl } = await w.admin.api.invitations.create.mutate({
      organizationId: w.org.id,
      invitee: "newcomer@example.com",
      role: "member",
    });
    const tokenInLink = acceptUrl.split("/invitations/")[1]!;
    expect(tokenInLink.length).toBeGreaterThanOrEqual(40);
    await arrived; // the job is running: its row is in the queue, the e-mail on the wire
    expect(await dumpDatabase(w.back.handle.db)).not.toContain(tokenInLink);
    smtp.release();
    const outbox = await waitFor(
      () => w.back.handle.db.select().from(emailOutbox).where(eq(emailOutbox.to, "newcomer@example.com")),
      (rows) => rows.length > 0,
    );
    expect(outbox).toMatchObject([{ status: "sent", subject: "Ada invited you to Acme on Juanie" }]);
    expect(smtp.messages.at(-1)).toContain(acceptUrl);
    const dump = await dumpDatabase(w.back.handle.db);
    expect(dump).toContain("[link not stored]");
    expect(dump).not.toContain(tokenInLink);
    expect(await filesContaining(w.server.dataDir, tokenInLink)).toEqual([]);
    // The link works: it is the only copy of the token, and it is enough.
    const s = new Session(w.server.url);
    expect((await s.api.invitations.byToken.query({ token: tokenInLink })).email).toBe("newcomer@example.com");
  });

  it("the repository token and webhook secret are in no table and no file, in clear", async () => {
    await w.s.bob.api.deployments.request.mutate({ environmentId: w.env.development, spec: { replicas: 2 } });
    const { secret } = await w.s.alice.api.repositories.revealWebhookSecret.mutate({ repositoryId: w.repoId });
    const dump = await dumpDatabase(w.back.handle.db);
    for (const s of [w.token, secret]) {
      expect(dump).not.toContain(s);
      expect(await filesContaining(w.server.dataDir, s)).toEqual([]);
      expect(w.server.logs.join("\n")).not.toContain(s);
    }
  });

  it("a maintainer reveals the webhook secret, and a hook added by hand as the README says authenticates", async () => {
    const repo = (await w.s.alice.api.repositories.list.query({ projectId: w.project.id }))[0]!;
    const before = await lastAuditId(w.back);
    const revealed = await w.s.alice.api.repositories.revealWebhookSecret.mutate({ repositoryId: w.repoId });
    expect(revealed.webhookUrl).toBe(repo.webhookUrl);
    expect(revealed.webhookUrl).toBe(`${w.server.url}/api/webhooks/generic/${w.repoId}`);
    expect(revealed.secret.length).toBeGreaterThanOrEqual(24);
    // A developer may deploy, but not read the secret.
    const denied = await failure(w.s.bob.api.repositories.revealWebhookSecret.mutate({ repositoryId: w.repoId }));
    expect(denied.juanie).toMatchObject({ code: "FORBIDDEN" });
    expect(denied.message).not.toContain(revealed.secret);
    const entries = (await auditSince(w.back, before)).filter((e) => e.action.startsWith("repository."));
    expect(entries.map((e) => `${e.action}:${e.result}`)).toEqual([
      "repository.reveal_webhook_secret:success",
      "repository.reveal_webhook_secret:denied",
    ]);
    // What GitHub sends for a hook added by hand with that URL and secret (content type: application/json).
    const head = (await branchHead(w, "main"))!;
    expect(await signedPush(w, pushPayload("main", head, head), { secret: revealed.secret })).toMatchObject({
      status: 202,
      body: { result: "accepted", environments: 1 },
    });
  });

  it("regenerating the secret retires the old one at once", async () => {
    const old = (await w.s.alice.api.repositories.revealWebhookSecret.mutate({ repositoryId: w.repoId })).secret;
    const fresh = await w.s.alice.api.repositories.regenerateWebhookSecret.mutate({ repositoryId: w.repoId });
    expect(fresh.secret).not.toBe(old);
    expect((await w.s.alice.api.repositories.revealWebhookSecret.mutate({ repositoryId: w.repoId })).secret).toBe(
      fresh.secret,
    );
    const head = (await branchHead(w, "main"))!;
    expect((await signedPush(w, pushPayload("main", head, head), { secret: old })).status).toBe(401);
    expect((await signedPush(w, pushPayload("main", head, head), { secret: fresh.secret })).status).toBe(202);
    const denied = await failure(w.s.bob.api.repositories.regenerateWebhookSecret.mutate({ repositoryId: w.repoId }));
    expect(denied.juanie.code).toBe("FORBIDDEN");
  });

  it("regenerating the secret of a webhook the platform registered updates the hook on GitHub", async () => {
    await w.git.createRepo("acme/shop-gh", { withInitialCommit: true });
    const repo = await w.admin.api.repositories.connect.mutate({
      projectId: w.project.id,
      provider: "github",
      url: `${w.git.url}/acme/shop-gh.git`,
      apiUrl: gh.apiUrl,
      credential: { type: "token", token: w.token },
      registerWebhook: true,
    });
    const hook = () => gh.repo("acme/shop-gh")!.hooks[0]!;
    const first = await w.s.alice.api.repositories.revealWebhookSecret.mutate({ repositoryId: repo.id });
    expect(hook().config.secret).toBe(first.secret);
    const fresh = await w.s.alice.api.repositories.regenerateWebhookSecret.mutate({ repositoryId: repo.id });
    expect(gh.repo("acme/shop-gh")!.hooks).toHaveLength(1);
    expect(hook().config).toMatchObject({
      url: `${w.server.url}/api/webhooks/github/${repo.id}`,
      content_type: "json",
      secret: fresh.secret,
    });
    // What GitHub now signs with is what the platform checks.
    const body = JSON.stringify(pushPayload("main", "a".repeat(40), "b".repeat(40)));
    const res = await fetch(`${w.server.url}/api/webhooks/github/${repo.id}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": `sha256=${createHmac("sha256", String(hook().config.secret)).update(body).digest("hex")}`,
      },
      body,
    });
    expect(res.status).toBe(202);
  });
});

describe("the cross-origin check", () => {
  it("compares Origin with JUANIE_PUBLIC_URL, never with the request's own Host header", async () => {
    const port = await freePort();
    const server = await startTestServer({ PORT: String(port), JUANIE_PUBLIC_URL: "https://juanie.example.com" });
    /** A raw request: fetch would not let the Host header be chosen. */
    const post = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: "/trpc/auth.setup", method: "POST" }, (res) => {
          let body = "";
          res.on("data", (c) => {
            body += String(c);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        for (const [k, v] of Object.entries({ "content-type": "application/json", ...headers })) req.setHeader(k, v);
        req.on("error", reject);
        req.end(JSON.stringify({ email: "m@example.com", username: "mallory", displayName: "M", password }));
      });
    try {
      // A page on another host that the request claims to be addressed to: refused, and nobody is set up.
      for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1:${port}`]) {
        const res = await post({ host, origin: `http://${host}` });
        expect(res.status, host).toBe(403);
        expect(JSON.parse(res.body)).toEqual({ code: "FORBIDDEN", message: "Cross-origin request refused" });
      }
      // From the public URL it goes through (whatever Host the proxy forwards).
      const ok = await post({ host: "10.0.0.5:3000", origin: "https://juanie.example.com" });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).result.data.username).toBe("mallory");
    } finally {
      await server.close();
    }
  });
});
