import { createDb, type DbHandle, oauthStates, users } from "@juanie/db";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import { Browser, type OAuthServer, type Page, startOAuthServer, type TestAccount } from "./oauth-server.ts";

// Sign-in with GitHub and GitLab, end to end: the real Juanie server, a real OAuth 2.0
// authorization server on loopback standing in for github.com / a self-hosted GitLab, and a
// "browser" that follows every redirect by hand.

const GITHUB_CLIENT_ID = "Iv1.juanie-test";
const GITHUB_CLIENT_SECRET = "gh-secret-5f0c1e9a7b3d4c2e8f6a";
const GITLAB_CLIENT_ID = "gl-app-juanie-test";
const GITLAB_CLIENT_SECRET = "gloas-secret-9d8c7b6a5f4e3d2c1b0a";

const githubAccounts: TestAccount[] = [
  { id: 583231, login: "octocat", name: "The Octocat", email: "octocat@example.com" },
  {
    // Keeps the address private: it is only in /user/emails.
    id: 1001,
    login: "Hidden.User",
    name: null,
    email: null,
    emails: [
      { email: "secondary@example.com", primary: false, verified: true },
      { email: "Hidden@Example.com", primary: true, verified: true },
    ],
  },
  {
    id: 1002,
    login: "ghost-writer",
    name: "Ghost",
    email: null,
    emails: [{ email: "ghost@example.com", primary: true, verified: false }],
  },
  {
    id: 2001,
    login: "ada-lovelace",
    name: "Ada (GitHub)",
    email: null,
    emails: [{ email: "ada@analytical.example", primary: true, verified: true }],
  },
  // Someone else's GitHub account that claims the e-mail of Juanie's local administrator.
  { id: 2002, login: "ada", name: "Not Ada", email: "ADA@example.com" },
  { id: 2003, login: "grace-gh", name: "Grace (GitHub)", email: "grace@github.example" },
];

const gitlabAccounts: TestAccount[] = [{ id: 42, login: "grace", name: "Grace Hopper", email: "grace@navy.example" }];

type Decision = { as: string } | "deny";

interface Flow {
  /** The authorization request Juanie sent the browser to. */
  authorize: URL;
  /** Where the provider sent the browser back (not yet requested). */
  callback: URL;
  /** How many times the provider showed its sign-in page. */
  interactions: number;
}

/** GET a Juanie start URL, then follow the provider's redirects and sign-in page up to Juanie's callback. */
async function authorizeAtProvider(browser: Browser, juanieUrl: string, startPath: string, decision: Decision) {
  const start = await browser.get(`${juanieUrl}${startPath}`);
  expect(start.status, start.text).toBe(302);
  const authorize = new URL(start.location ?? "");
  const juanieOrigin = new URL(juanieUrl).origin;
  let next = authorize;
  let interactions = 0;
  for (let hop = 0; hop < 12; hop++) {
    if (next.origin === juanieOrigin) return { authorize, callback: next, interactions } satisfies Flow;
    let page = await browser.get(next);
    if (page.status === 200 && next.pathname.includes("/interaction/")) {
      interactions++;
      page = await browser.post(next, decision === "deny" ? { deny: "1" } : { account: decision.as });
    }
    if (!page.location) throw new Error(`${next.href} answered ${page.status}: ${page.text}`);
    next = new URL(page.location, next);
  }
  throw new Error("too many redirects");
}

/** The whole round trip: start → provider → Juanie's callback, whose answer is returned. */
async function oauthSignIn(browser: Browser, juanieUrl: string, startPath: string, decision: Decision) {
  const flow = await authorizeAtProvider(browser, juanieUrl, startPath, decision);
  const done = await browser.get(flow.callback);
  return { ...flow, done };
}

function sessionOf(browser: Browser, juanieUrl: string): Session {
  const s = new Session(juanieUrl);
  const token = browser.cookie(juanieUrl, "juanie_session");
  s.cookie = token ? `juanie_session=${token}` : null;
  return s;
}

function juanieCookie(page: Page): string | undefined {
  return page.headers.getSetCookie().find((c) => c.startsWith("juanie_session="));
}

async function countRows(db: DbHandle) {
  const [u] = await db.db.select({ n: count() }).from(users);
  const [s] = await db.db.select({ n: count() }).from(oauthStates);
  return { users: u?.n ?? 0, states: s?.n ?? 0 };
}

describe("OAuth sign-in with GitHub on a fresh installation (GitLab not configured)", () => {
  let github: OAuthServer;
  let server: TestServer;
  let db: DbHandle;
  /** Every Juanie session token handed out, to check none of them is logged either. */
  const sessionTokens: string[] = [];
  const signIn = async (browser: Browser, startPath: string, decision: Decision) => {
    const r = await oauthSignIn(browser, server.url, startPath, decision);
    const token = browser.cookie(server.url, "juanie_session");
    if (token) sessionTokens.push(token);
    return r;
  };

  beforeAll(async () => {
    github = await startOAuthServer({ flavor: "github", accounts: githubAccounts });
    server = await startTestServer({
      GITHUB_CLIENT_ID,
      GITHUB_CLIENT_SECRET,
      GITHUB_URL: github.url,
      GITHUB_API_URL: github.apiUrl,
    });
    github.registerClient({
      clientId: GITHUB_CLIENT_ID,
      clientSecret: GITHUB_CLIENT_SECRET,
      redirectUri: `${server.url}/auth/oauth/github/callback`,
    });
    db = createDb(server.platform.databaseUrl, { max: 1 });
  });
  afterAll(async () => {
    await db?.close();
    await server?.close();
    await github?.close();
  });

  it("lists only the configured provider, and answers 404 for the others", async () => {
    const anon = new Session(server.url);
    expect(await anon.api.auth.setupStatus.query()).toEqual({ needsSetup: true, oauthProviders: ["github"] });
    for (const path of [
      "/auth/oauth/gitlab/start",
      "/auth/oauth/gitlab/callback?code=abc&state=def",
      "/auth/oauth/bitbucket/start",
    ]) {
      const res = await anon.fetch(path);
      expect(res.status, path).toBe(404);
    }
  });

  it("the stand-in GitHub API refuses a missing or unknown token", async () => {
    expect((await fetch(`${github.apiUrl}/user`)).status).toBe(401);
    const bogus = await fetch(`${github.apiUrl}/user`, { headers: { authorization: "Bearer not-a-token" } });
    expect(bogus.status).toBe(401);
    expect(await bogus.json()).toMatchObject({ message: "Bad credentials" });
  });

  it("first GitHub sign-in creates the account (the platform admin on a fresh install); the next signs into it", async () => {
    github.apiCalls.length = 0;
    const browser = new Browser();
    const returnTo = "/orgs/acme?tab=members";
    const first = await signIn(browser, `/auth/oauth/github/start?returnTo=${encodeURIComponent(returnTo)}`, {
      as: "octocat",
    });

    // The authorization request: our client, our callback, a state, PKCE with S256.
    const { authorize } = first;
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${github.url}/login/oauth/authorize`);
    const q = authorize.searchParams;
    expect(q.get("client_id")).toBe(GITHUB_CLIENT_ID);
    expect(q.get("redirect_uri")).toBe(`${server.url}/auth/oauth/github/callback`);
    expect(q.get("response_type")).toBe("code");
    expect(q.get("scope")).toBe("read:user user:email");
    expect(q.get("state")).toMatch(/^[\w-]{32,}$/);
    expect(q.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.has("client_secret")).toBe(false);
    expect(first.interactions).toBe(1);

    // The provider came back to the registered callback with a code for the same state.
    expect(`${first.callback.origin}${first.callback.pathname}`).toBe(`${server.url}/auth/oauth/github/callback`);
    expect(first.callback.searchParams.get("state")).toBe(q.get("state"));
    expect(first.callback.searchParams.get("code")).toBeTruthy();
    expect(first.callback.searchParams.get("iss")).toBe(github.url);

    // Juanie signed the browser in and sent it where it was going.
    expect(first.done.status).toBe(302);
    expect(first.done.location).toBe(returnTo);
    const cookie = juanieCookie(first.done);
    expect(cookie).toMatch(/^juanie_session=[^;]+;/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);

    const me = await sessionOf(browser, server.url).api.auth.me.query();
    expect(me).toMatchObject({
      username: "octocat",
      email: "octocat@example.com",
      displayName: "The Octocat",
      avatarUrl: "https://avatars.example.test/u/583231?v=4",
      isPlatformAdmin: true,
      hasPassword: false,
      linkedProviders: ["github"],
    });
    // The public e-mail was enough: /user/emails was not needed.
    expect(github.apiCalls).toEqual(["/user"]);
    expect(await new Session(server.url).api.auth.setupStatus.query()).toEqual({
      needsSetup: false,
      oauthProviders: ["github"],
    });

    // Again, in the same browser: GitHub remembers the authorization and skips its page.
    const firstToken = browser.cookie(server.url, "juanie_session");
    const again = await signIn(browser, "/auth/oauth/github/start", { as: "octocat" });
    expect(again.interactions).toBe(0);
    expect(again.done.location).toBe("/");
    expect(browser.cookie(server.url, "juanie_session")).not.toBe(firstToken);
    expect((await sessionOf(browser, server.url).api.auth.me.query())?.id).toBe(me?.id);

    // And from another browser: the provider asks again, Juanie finds the same account.
    const other = new Browser();
    const third = await signIn(other, "/auth/oauth/github/start", { as: "octocat" });
    expect(third.interactions).toBe(1);
    expect(third.done.location).toBe("/");
    expect((await sessionOf(other, server.url).api.auth.me.query())?.id).toBe(me?.id);
    expect((await countRows(db)).users).toBe(1);
  });

  it("reads a private GitHub e-mail from /user/emails (primary and verified), and the next account is no admin", async () => {
    github.apiCalls.length = 0;
    const browser = new Browser();
    const { done } = await signIn(browser, "/auth/oauth/github/start", { as: "Hidden.User" });
    expect(done.location).toBe("/");
    expect(github.apiCalls).toEqual(["/user", "/user/emails"]);
    expect(await sessionOf(browser, server.url).api.auth.me.query()).toMatchObject({
      username: "Hidden.User",
      displayName: "Hidden.User",
      email: "hidden@example.com",
      isPlatformAdmin: false,
      linkedProviders: ["github"],
    });
  });

  it("refuses a GitHub account without a verified e-mail", async () => {
    const before = await countRows(db);
    const browser = new Browser();
    const { done } = await signIn(browser, "/auth/oauth/github/start", { as: "ghost-writer" });
    expect(done.location).toBe("/sign-in?error=oauth_no_email");
    expect(juanieCookie(done)).toBeUndefined();
    expect((await countRows(db)).users).toBe(before.users);
  });

  it("refuses a tampered or unknown state, and a state is good for one callback only", async () => {
    const browser = new Browser();
    const flow = await authorizeAtProvider(browser, server.url, "/auth/oauth/github/start", { as: "octocat" });
    const state = flow.callback.searchParams.get("state") ?? "";

    const tampered = new URL(flow.callback);
    tampered.searchParams.set("state", `${state.slice(0, -2)}xx`);
    const bad = await browser.get(tampered);
    expect(bad.location).toBe("/sign-in?error=oauth_state");
    expect(juanieCookie(bad)).toBeUndefined();

    const missing = new URL(flow.callback);
    missing.searchParams.delete("state");
    expect((await browser.get(missing)).location).toBe("/sign-in?error=oauth_state");
    const unknown = await browser.get(`${server.url}/auth/oauth/github/callback?code=made-up&state=made-up`);
    expect(unknown.location).toBe("/sign-in?error=oauth_state");

    // The genuine callback still works: a wrong guess does not burn the real state…
    const ok = await browser.get(flow.callback);
    expect(ok.location).toBe("/");
    expect(juanieCookie(ok)).toBeDefined();
    sessionTokens.push(browser.cookie(server.url, "juanie_session") ?? "");
    // …which is then gone: the same callback a second time is refused.
    const replay = await new Browser().get(flow.callback);
    expect(replay.location).toBe("/sign-in?error=oauth_state");
    expect(juanieCookie(replay)).toBeUndefined();

    // A state older than its ten minutes is refused as well.
    const late = await authorizeAtProvider(browser, server.url, "/auth/oauth/github/start", { as: "octocat" });
    const lateState = late.callback.searchParams.get("state") ?? "";
    await db.db
      .update(oauthStates)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(oauthStates.state, lateState));
    expect((await browser.get(late.callback)).location).toBe("/sign-in?error=oauth_state");
  });

  it("binds each code to the flow that asked for it (PKCE): a code injected into another flow fails the exchange", async () => {
    const victim = new Browser();
    const attacker = new Browser();
    const stolen = await authorizeAtProvider(attacker, server.url, "/auth/oauth/github/start", { as: "octocat" });
    const own = await authorizeAtProvider(victim, server.url, "/auth/oauth/github/start", { as: "Hidden.User" });
    const injected = new URL(own.callback);
    injected.searchParams.set("code", stolen.callback.searchParams.get("code") ?? "");
    const res = await victim.get(injected);
    expect(res.location).toBe("/sign-in?error=oauth_failed");
    expect(juanieCookie(res)).toBeUndefined();
    expect(server.logs.some((l) => l.includes("OAuth exchange failed"))).toBe(true);
  });

  it("sends a user who denies access at GitHub back to the sign-in page", async () => {
    const before = await countRows(db);
    const browser = new Browser();
    const { callback, done, interactions } = await signIn(browser, "/auth/oauth/github/start", "deny");
    expect(interactions).toBe(1);
    expect(callback.searchParams.get("error")).toBe("access_denied");
    expect(callback.searchParams.has("code")).toBe(false);
    expect(done.location).toBe("/sign-in?error=oauth_denied");
    expect(juanieCookie(done)).toBeUndefined();
    // The refused attempt used up its state.
    expect((await browser.get(callback)).location).toBe("/sign-in?error=oauth_state");
    expect(await countRows(db)).toEqual(before);
  });

  it("never redirects off-site after sign-in (returnTo)", async () => {
    const browser = new Browser();
    for (const returnTo of [
      "//evil.example",
      "https://evil.example",
      "/\\evil.example",
      "javascript:alert(1)",
      "evil.example/path",
    ]) {
      const { done } = await signIn(browser, `/auth/oauth/github/start?returnTo=${encodeURIComponent(returnTo)}`, {
        as: "octocat",
      });
      expect(done.status, returnTo).toBe(302);
      expect(done.location, returnTo).toBe("/");
      expect(juanieCookie(done), returnTo).toBeDefined();
    }
  });

  it("linking needs a signed-in user", async () => {
    const res = await new Browser().get(`${server.url}/auth/oauth/github/start?link=1`);
    expect(res.status).toBe(302);
    expect(res.location).toBe("/sign-in?returnTo=/profile");
  });

  it("never writes the client secret, the access tokens or the session tokens to the logs", () => {
    const logs = server.logs.join("");
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(GITHUB_CLIENT_SECRET);
    expect(github.issuedAccessTokens.length).toBeGreaterThanOrEqual(8);
    for (const token of github.issuedAccessTokens) expect(logs).not.toContain(token);
    expect(sessionTokens.length).toBeGreaterThanOrEqual(8);
    for (const token of sessionTokens) expect(logs).not.toContain(token);
  });
});

describe("OAuth with a password administrator, GitHub and a self-hosted GitLab", () => {
  let github: OAuthServer;
  let gitlab: OAuthServer;
  let server: TestServer;
  let db: DbHandle;
  let admin: Session;
  let adminBrowser: Browser;
  let adminId: string;

  beforeAll(async () => {
    github = await startOAuthServer({ flavor: "github", accounts: githubAccounts });
    // GitLab installed under a relative URL root, as self-hosted instances may be.
    gitlab = await startOAuthServer({ flavor: "gitlab", accounts: gitlabAccounts, basePath: "/gitlab" });
    server = await startTestServer({
      GITHUB_CLIENT_ID,
      GITHUB_CLIENT_SECRET,
      GITHUB_URL: github.url,
      GITHUB_API_URL: github.apiUrl,
      GITLAB_CLIENT_ID,
      GITLAB_CLIENT_SECRET,
      GITLAB_URL: gitlab.url,
    });
    github.registerClient({
      clientId: GITHUB_CLIENT_ID,
      clientSecret: GITHUB_CLIENT_SECRET,
      redirectUri: `${server.url}/auth/oauth/github/callback`,
    });
    gitlab.registerClient({
      clientId: GITLAB_CLIENT_ID,
      clientSecret: GITLAB_CLIENT_SECRET,
      redirectUri: `${server.url}/auth/oauth/gitlab/callback`,
    });
    db = createDb(server.platform.databaseUrl, { max: 1 });

    admin = new Session(server.url);
    const me = await admin.api.auth.setup.mutate({
      email: "ada@example.com",
      username: "ada",
      displayName: "Ada Lovelace",
      password: "correct horse battery",
    });
    adminId = me.id;
    adminBrowser = new Browser();
    adminBrowser.setCookie(server.url, admin.cookie ?? "");
  });
  afterAll(async () => {
    await db?.close();
    await server?.close();
    await gitlab?.close();
    await github?.close();
  });

  it("lists both providers", async () => {
    expect(await new Session(server.url).api.auth.setupStatus.query()).toEqual({
      needsSetup: false,
      oauthProviders: ["github", "gitlab"],
    });
  });

  it("signs in with a self-hosted GitLab: the first time creates the account, then signs into it", async () => {
    expect(gitlab.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/gitlab$/);
    const browser = new Browser();
    const first = await oauthSignIn(browser, server.url, "/auth/oauth/gitlab/start?returnTo=/projects", {
      as: "grace",
    });
    const q = first.authorize.searchParams;
    expect(`${first.authorize.origin}${first.authorize.pathname}`).toBe(`${gitlab.url}/oauth/authorize`);
    expect(q.get("client_id")).toBe(GITLAB_CLIENT_ID);
    expect(q.get("redirect_uri")).toBe(`${server.url}/auth/oauth/gitlab/callback`);
    expect(q.get("scope")).toBe("read_user");
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(first.callback.searchParams.get("iss")).toBe(gitlab.url);
    expect(first.done.location).toBe("/projects");
    expect(juanieCookie(first.done)).toBeDefined();
    expect(gitlab.apiCalls).toEqual(["/user"]);

    const me = await sessionOf(browser, server.url).api.auth.me.query();
    expect(me).toMatchObject({
      username: "grace",
      email: "grace@navy.example",
      displayName: "Grace Hopper",
      isPlatformAdmin: false,
      hasPassword: false,
      linkedProviders: ["gitlab"],
    });

    const other = new Browser();
    const second = await oauthSignIn(other, server.url, "/auth/oauth/gitlab/start", { as: "grace" });
    expect(second.done.location).toBe("/");
    expect((await sessionOf(other, server.url).api.auth.me.query())?.id).toBe(me?.id);
  });

  it("refuses a GitHub account whose e-mail belongs to an existing local account (no auto-linking)", async () => {
    const before = await countRows(db);
    const browser = new Browser();
    const { done } = await oauthSignIn(browser, server.url, "/auth/oauth/github/start", { as: "ada" });
    expect(done.location).toBe("/sign-in?error=oauth_email_taken");
    expect(juanieCookie(done)).toBeUndefined();
    expect(browser.cookie(server.url, "juanie_session")).toBeUndefined();
    expect((await countRows(db)).users).toBe(before.users);
    expect((await admin.api.auth.me.query())?.linkedProviders).toEqual([]);
  });

  it("a state issued for one provider is refused by another's callback", async () => {
    const browser = new Browser();
    const flow = await authorizeAtProvider(browser, server.url, "/auth/oauth/github/start", { as: "octocat" });
    const crossed = new URL(flow.callback);
    crossed.pathname = "/auth/oauth/gitlab/callback";
    expect((await browser.get(crossed)).location).toBe("/sign-in?error=oauth_state");
    expect((await browser.get(flow.callback)).location).toBe("/");
  });

  it("links GitHub to a password account from the profile, signs in with it, and unlinks it", async () => {
    const cookieBefore = adminBrowser.cookie(server.url, "juanie_session");
    const linked = await oauthSignIn(adminBrowser, server.url, "/auth/oauth/github/start?link=1", {
      as: "ada-lovelace",
    });
    expect(linked.authorize.searchParams.get("client_id")).toBe(GITHUB_CLIENT_ID);
    expect(linked.done.status).toBe(302);
    expect(linked.done.location).toBe("/profile?linked=github");
    // Linking keeps the session it was started from.
    expect(juanieCookie(linked.done)).toBeUndefined();
    expect(adminBrowser.cookie(server.url, "juanie_session")).toBe(cookieBefore);
    expect(await admin.api.auth.me.query()).toMatchObject({
      id: adminId,
      email: "ada@example.com",
      hasPassword: true,
      isPlatformAdmin: true,
      linkedProviders: ["github"],
    });

    // Signing in with that GitHub account now reaches the administrator.
    const elsewhere = new Browser();
    const signIn = await oauthSignIn(elsewhere, server.url, "/auth/oauth/github/start", { as: "ada-lovelace" });
    expect(signIn.done.location).toBe("/");
    expect(await sessionOf(elsewhere, server.url).api.auth.me.query()).toMatchObject({
      id: adminId,
      username: "ada",
      isPlatformAdmin: true,
    });

    // Another user cannot link the same GitHub account.
    const grace = new Browser();
    await oauthSignIn(grace, server.url, "/auth/oauth/gitlab/start", { as: "grace" });
    const stolen = await oauthSignIn(grace, server.url, "/auth/oauth/github/start?link=1", { as: "ada-lovelace" });
    expect(stolen.done.location).toBe("/profile?error=oauth_already_linked");
    expect((await sessionOf(grace, server.url).api.auth.me.query())?.linkedProviders).toEqual(["gitlab"]);

    // Denying at the provider while linking lands back on the profile.
    const denied = await oauthSignIn(adminBrowser, server.url, "/auth/oauth/gitlab/start?link=1", "deny");
    expect(denied.done.location).toBe("/profile?error=oauth_denied");

    // Unlinking: the password remains, so GitHub can go.
    const afterUnlink = await admin.api.users.unlinkProvider.mutate({ provider: "github" });
    expect(afterUnlink.linkedProviders).toEqual([]);
    expect((await admin.api.auth.me.query())?.linkedProviders).toEqual([]);
    await expect(admin.api.users.unlinkProvider.mutate({ provider: "github" })).rejects.toMatchObject({
      data: { juanie: { code: "NOT_FOUND" } },
    });
    // …and that GitHub account no longer opens the administrator's account.
    const later = new Browser();
    await oauthSignIn(later, server.url, "/auth/oauth/github/start", { as: "ada-lovelace" });
    expect((await sessionOf(later, server.url).api.auth.me.query())?.id).not.toBe(adminId);
  });

  it("refuses to unlink the only way into an OAuth-only account", async () => {
    const browser = new Browser();
    await oauthSignIn(browser, server.url, "/auth/oauth/gitlab/start", { as: "grace" });
    const grace = sessionOf(browser, server.url);
    expect(await grace.api.auth.me.query()).toMatchObject({ hasPassword: false, linkedProviders: ["gitlab"] });
    await expect(grace.api.users.unlinkProvider.mutate({ provider: "gitlab" })).rejects.toMatchObject({
      data: { juanie: { code: "INVALID_INPUT" } },
    });
    expect((await grace.api.auth.me.query())?.linkedProviders).toEqual(["gitlab"]);

    // With a second provider linked, either one may go.
    const link = await oauthSignIn(browser, server.url, "/auth/oauth/github/start?link=1", { as: "grace-gh" });
    expect(link.done.location).toBe("/profile?linked=github");
    expect((await grace.api.users.unlinkProvider.mutate({ provider: "gitlab" })).linkedProviders).toEqual(["github"]);
    await expect(grace.api.users.unlinkProvider.mutate({ provider: "github" })).rejects.toMatchObject({
      data: { juanie: { code: "INVALID_INPUT" } },
    });
  });

  it("never writes either client secret or any access token to the logs", () => {
    const logs = server.logs.join("");
    expect(logs).not.toContain(GITHUB_CLIENT_SECRET);
    expect(logs).not.toContain(GITLAB_CLIENT_SECRET);
    const tokens = [...github.issuedAccessTokens, ...gitlab.issuedAccessTokens];
    expect(gitlab.issuedAccessTokens.length).toBeGreaterThanOrEqual(3);
    for (const token of tokens) expect(logs).not.toContain(token);
  });
});
