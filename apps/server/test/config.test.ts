import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import { failure, waitFor } from "./support.ts";

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

const absoluteUrl = "must be an absolute http(s) URL such as https://example.com";

describe("loadConfig refuses bad variables, naming the variable and the rule", () => {
  it.each([
    { env: { PORT: "abc" }, problem: "PORT: must be a number" },
    { env: { PORT: "70000" }, problem: "PORT: must be 0–65535" },
    { env: { PORT: "80.5" }, problem: "PORT: must be a whole number" },
    {
      env: { DATABASE_URL: "mysql://juanie:db-secret@db.example.com/juanie" },
      problem: "DATABASE_URL: must be a postgres:// or postgresql:// connection URL",
    },
    { env: { GITHUB_CLIENT_ID: "Iv1.abc" }, problem: "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET: set both or neither" },
    {
      env: { GITLAB_CLIENT_SECRET: "gl-secret" },
      problem: "GITLAB_CLIENT_ID and GITLAB_CLIENT_SECRET: set both or neither",
    },
    { env: { JUANIE_PUBLIC_URL: "not-a-url" }, problem: `JUANIE_PUBLIC_URL: ${absoluteUrl}` },
    { env: { JUANIE_PUBLIC_URL: "htps://juanie.example.com" }, problem: `JUANIE_PUBLIC_URL: ${absoluteUrl}` },
    { env: { GITLAB_URL: "gitlab.example.com" }, problem: `GITLAB_URL: ${absoluteUrl}` },
    { env: { JUANIE_ALLOW_SIGNUP: "maybe" }, problem: "JUANIE_ALLOW_SIGNUP: must be true or false" },
    { env: { JUANIE_SMTP_URL: "mail.example.com:25" }, problem: "JUANIE_SMTP_URL: must be an smtp:// or smtps:// URL" },
  ])("$problem", ({ env, problem }) => {
    expect(problemsOf(env)).toEqual([problem]);
  });

  it("reports every problem at once, and never echoes a value (they can be secrets)", () => {
    const env = {
      PORT: "abc",
      DATABASE_URL: "mysql://juanie:db-secret@db.example.com/juanie",
      GITHUB_CLIENT_SECRET: "gh-secret",
      JUANIE_PUBLIC_URL: "not-a-url",
    };
    expect(problemsOf(env)).toEqual([
      "PORT: must be a number",
      `JUANIE_PUBLIC_URL: ${absoluteUrl}`,
      "DATABASE_URL: must be a postgres:// or postgresql:// connection URL",
      "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET: set both or neither",
    ]);
    let message = "";
    try {
      loadConfig(env);
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(/^Error: Invalid configuration:\n {2}- PORT: must be a number\n/);
    expect(message).not.toContain("db-secret");
    expect(message).not.toContain("gh-secret");
  });

  it("accepts a sound environment; empty variables count as unset", () => {
    const c = loadConfig({
      PORT: "8080",
      HOST: "0.0.0.0",
      DATABASE_URL: "",
      GITHUB_CLIENT_ID: "id",
      GITHUB_CLIENT_SECRET: "secret",
      JUANIE_ALLOW_SIGNUP: "yes",
    });
    expect(c).toMatchObject({
      port: 8080,
      publicUrl: "http://localhost:8080",
      databaseUrl: undefined,
      allowSignup: true,
      github: { clientId: "id", clientSecret: "secret", url: "https://github.com" },
      gitlab: null,
    });
    expect(loadConfig({ JUANIE_PUBLIC_URL: "https://juanie.example.com/" }).publicUrl).toBe(
      "https://juanie.example.com",
    );
  });

  it("the server refuses to start on a bad variable: exit code 2 and the problem on stderr", () => {
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
    const run = spawnSync(tsx, [main], {
      env: { PATH: process.env.PATH, PORT: "abc", DATABASE_URL: "mysql://u:db-secret@h/db" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("PORT: must be a number");
    expect(run.stderr).toContain("DATABASE_URL: must be a postgres:// or postgresql:// connection URL");
    expect(run.stderr).not.toContain("db-secret");
  });
});

describe("the server's logs never contain secrets", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      GITHUB_CLIENT_ID: "Iv1.logtest",
      GITHUB_CLIENT_SECRET: "github-client-secret-value",
      // Unreachable: invitation e-mails fail, and the failure is logged.
      JUANIE_SMTP_URL: "smtp://mailer:smtp-password-value@127.0.0.1:1",
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("passwords, session cookies and invitation tokens stay out of every log line", async () => {
    const adminPassword = "admin password 12345";
    const admin = new Session(server.url);
    await admin.api.auth.setup.mutate({
      email: "root@example.com",
      username: "root",
      displayName: "Root",
      password: adminPassword,
    });
    await failure(new Session(server.url).api.auth.signIn.mutate({ login: "root", password: "wrong password 999" }));
    const org = await admin.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
    const { acceptUrl } = await admin.api.invitations.create.mutate({
      organizationId: org.id,
      invitee: "bob@example.com",
      role: "member",
    });
    const token = acceptUrl.split("/invitations/")[1]!;
    const bob = new Session(server.url);
    await bob.api.invitations.byToken.query({ token }); // the token travels in the query string
    const bobPassword = "bob password 67890";
    await bob.api.auth.signUp.mutate({
      invitationToken: token,
      email: "bob@example.com",
      username: "bob",
      displayName: "Bob",
      password: bobPassword,
    });
    await bob.api.invitations.acceptByToken.mutate({ token });
    const newPassword = "bob's next password";
    await bob.api.users.changePassword.mutate({ currentPassword: bobPassword, newPassword });
    await failure(bob.api.users.changePassword.mutate({ currentPassword: "guess guess guess", newPassword }));
    await bob.api.auth.signOut.mutate();
    // An OAuth callback carries code and state in its query; the invitation page its token in the path.
    const callback = "/auth/oauth/github/callback?code=oauth-code-value&state=oauth-state-value";
    await (await admin.fetch(callback)).body?.cancel();
    await (await admin.fetch("/auth/no-such-route?token=query-token-value")).body?.cancel();
    await (await new Session(server.url).fetch(`/invitations/${token}`)).body?.cancel();
    // The invitation e-mail cannot be sent; wait for the worker to log that.
    const logs = await waitFor(
      async () => server.logs.join(""),
      (text) => text.includes("sending invitation e-mail failed"),
    );

    // The test saw what it meant to: requests to these paths were logged.
    expect(logs).toContain('"url":"/trpc/invitations.byToken"');
    expect(logs).toContain('"url":"/auth/oauth/github/callback"');
    expect(logs).toContain('"url":"/invitations/[redacted]"');
    expect(logs).toContain("sending invitation e-mail failed");
    for (const secret of [
      adminPassword,
      "wrong password 999",
      bobPassword,
      newPassword,
      "guess guess guess",
      token,
      admin.cookie!.split("=")[1]!,
      "juanie_session=",
      "github-client-secret-value",
      "smtp-password-value",
      "oauth-code-value",
      "oauth-state-value",
      "query-token-value",
    ]) {
      expect(logs, secret).not.toContain(secret);
    }
  });
});
