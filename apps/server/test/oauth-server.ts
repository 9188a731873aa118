import { generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type Configuration, type Interaction } from "oidc-provider";

/**
 * A local stand-in for GitHub or GitLab: a real OAuth 2.0 authorization server (oidc-provider) on a
 * loopback port, at the paths the real services use, plus the profile API Juanie reads after the
 * code exchange. Nothing here talks to the internet.
 */

export type Flavor = "github" | "gitlab";

export interface TestAccount {
  /** The provider's numeric user id (GitHub and GitLab both answer numbers). */
  id: number;
  /** GitHub `login` / GitLab `username`: the key the "user" types on the sign-in page. */
  login: string;
  name: string | null;
  /** The profile e-mail; GitHub answers null when the user keeps it private. */
  email: string | null;
  /** GitHub only: what `GET /user/emails` lists. */
  emails?: { email: string; primary: boolean; verified: boolean }[];
}

export interface OAuthServerOptions {
  flavor: Flavor;
  accounts: TestAccount[];
  /** A path prefix for the whole server, as a self-hosted GitLab under a relative URL root has. */
  basePath?: string;
}

export interface OAuthClientRegistration {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface OAuthServer {
  /** The issuer and base URL: GITHUB_URL / GITLAB_URL. */
  url: string;
  /** GITHUB_API_URL for GitHub; the same as `url` for GitLab, whose API lives under `/api/v4`. */
  apiUrl: string;
  /** Every access token the server issued (to prove none reaches Juanie's logs). */
  issuedAccessTokens: string[];
  /** Paths of the profile API calls, in order, e.g. `/user`, `/user/emails`. */
  apiCalls: string[];
  /**
   * Registers Juanie as the OAuth application. The authorization server is created here because the
   * redirect URI (Juanie's own port) is known only once Juanie is listening.
   */
  registerClient(client: OAuthClientRegistration): void;
  close(): Promise<void>;
}

const paths = {
  github: {
    authorization: "/login/oauth/authorize",
    token: "/login/oauth/access_token",
    scopes: ["read:user", "user:email"],
  },
  gitlab: { authorization: "/oauth/authorize", token: "/oauth/token", scopes: ["read_user", "api"] },
} as const;

export async function startOAuthServer(opts: OAuthServerOptions): Promise<OAuthServer> {
  const basePath = (opts.basePath ?? "").replace(/\/$/, "");
  const accounts = new Map(opts.accounts.map((a) => [a.login, a]));
  const issuedAccessTokens: string[] = [];
  const apiCalls: string[] = [];
  let provider: Provider | null = null;
  let clientId = "";

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: err instanceof Error ? err.message : String(err) });
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!provider) return sendJson(res, 503, { message: "no OAuth application registered yet" });
    if (!url.pathname.startsWith(`${basePath}/`)) return sendJson(res, 404, { message: "Not Found" });
    const path = url.pathname.slice(basePath.length);

    // ----- the profile API -----
    if (opts.flavor === "github" && path.startsWith("/api/github/")) {
      return githubApi(provider, req, res, path.slice("/api/github".length));
    }
    if (opts.flavor === "gitlab" && path.startsWith("/api/v4/")) {
      return gitlabApi(provider, req, res, path.slice("/api/v4".length));
    }

    // ----- the sign-in page: no UI, the "user" posts the account to sign in as (or a refusal) -----
    const interaction = /^\/interaction\/([\w-]+)$/.exec(path);
    if (interaction) return interact(provider, req, res);

    // ----- everything else is the authorization server, mounted at basePath -----
    if (basePath) {
      Object.assign(req, { originalUrl: req.url });
      req.url = `${path}${url.search}`;
    }
    await provider.callback()(req, res);
  }

  async function interact(p: Provider, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const details: Interaction = await p.interactionDetails(req, res);
    const scope = typeof details.params.scope === "string" ? details.params.scope : "";
    if (req.method === "GET") {
      // What a real page would show: who asks for what.
      return sendJson(res, 200, {
        uid: details.uid,
        prompt: details.prompt.name,
        clientId: details.params.client_id,
        scope,
      });
    }
    if (req.method !== "POST") return sendJson(res, 405, { message: "Method Not Allowed" });
    const form = new URLSearchParams(await readBody(req));
    if (form.get("deny")) {
      return p.interactionFinished(
        req,
        res,
        { error: "access_denied", error_description: "The user has denied your application access." },
        { mergeWithLastSubmission: false },
      );
    }
    // The login prompt asks who signs in; a consent-only prompt keeps the provider session's account.
    const accountId = (details.prompt.name === "login" ? form.get("account") : details.session?.accountId) ?? "";
    if (!accounts.has(accountId)) return sendJson(res, 400, { message: `no such account: ${accountId}` });
    const clientOf = typeof details.params.client_id === "string" ? details.params.client_id : clientId;
    // Consent is automatic: grant exactly the scopes that were asked for.
    const grant = details.grantId
      ? ((await p.Grant.find(details.grantId)) ?? new p.Grant({ accountId, clientId: clientOf }))
      : new p.Grant({ accountId, clientId: clientOf });
    if (scope) grant.addOIDCScope(scope);
    const grantId = await grant.save();
    return p.interactionFinished(req, res, { login: { accountId }, consent: { grantId } });
  }

  /** The account behind a bearer token, or null after answering 401 (missing, unknown or expired token). */
  async function tokenOwner(
    p: Provider,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    unauthorized: object,
  ): Promise<{ account: TestAccount; scopes: Set<string> } | null> {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const token = match?.[1] ? await p.AccessToken.find(match[1]) : undefined;
    const account = token && token.clientId === clientId ? accounts.get(token.accountId) : undefined;
    if (!token || !account) {
      sendJson(res, 401, unauthorized);
      return null;
    }
    return { account, scopes: new Set((token.scope ?? "").split(" ").filter(Boolean)) };
  }

  /** `GET /user` and `GET /user/emails` of the GitHub REST API. */
  async function githubApi(p: Provider, req: http.IncomingMessage, res: http.ServerResponse, path: string) {
    apiCalls.push(path);
    const owner = await tokenOwner(p, req, res, {
      message: "Bad credentials",
      documentation_url: "https://docs.github.com/rest",
      status: "401",
    });
    if (!owner) return;
    const { account, scopes } = owner;
    if (req.method === "GET" && path === "/user") {
      return sendJson(res, 200, {
        login: account.login,
        id: account.id,
        node_id: `U_${account.id}`,
        avatar_url: `https://avatars.example.test/u/${account.id}?v=4`,
        type: "User",
        name: account.name,
        email: account.email,
      });
    }
    if (req.method === "GET" && path === "/user/emails") {
      if (!scopes.has("user:email")) return sendJson(res, 403, { message: "Resource not accessible by integration" });
      return sendJson(
        res,
        200,
        (account.emails ?? []).map((e) => ({ ...e, visibility: e.primary ? "private" : null })),
      );
    }
    return sendJson(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
  }

  /** `GET /api/v4/user` of the GitLab REST API. */
  async function gitlabApi(p: Provider, req: http.IncomingMessage, res: http.ServerResponse, path: string) {
    apiCalls.push(path);
    const owner = await tokenOwner(p, req, res, { message: "401 Unauthorized" });
    if (!owner) return;
    const { account, scopes } = owner;
    if (req.method === "GET" && path === "/user") {
      if (!scopes.has("read_user") && !scopes.has("api")) {
        return sendJson(res, 403, { error: "insufficient_scope", scope: "read_user api" });
      }
      return sendJson(res, 200, {
        id: account.id,
        username: account.login,
        name: account.name,
        state: "active",
        avatar_url: `https://gitlab.example.test/uploads/-/system/user/avatar/${account.id}/avatar.png`,
        email: account.email,
      });
    }
    return sendJson(res, 404, { message: "404 Not Found" });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}${basePath}`;

  return {
    url,
    apiUrl: opts.flavor === "github" ? `${url}/api/github` : url,
    issuedAccessTokens,
    apiCalls,
    registerClient(client) {
      if (provider) throw new Error("an OAuth application is already registered");
      clientId = client.clientId;
      const jwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
      const { authorization, token, scopes } = paths[opts.flavor];
      const configuration: Configuration = {
        clients: [
          {
            client_id: client.clientId,
            client_secret: client.clientSecret,
            redirect_uris: [client.redirectUri],
            grant_types: ["authorization_code"],
            response_types: ["code"],
            token_endpoint_auth_method: "client_secret_post",
          },
        ],
        routes: { authorization, token },
        scopes,
        pkce: { required: () => true },
        features: { devInteractions: { enabled: false } },
        interactions: { url: (_ctx, interaction) => `${basePath}/interaction/${interaction.uid}` },
        findAccount: (_ctx, sub) => (accounts.has(sub) ? { accountId: sub, claims: () => ({ sub }) } : undefined),
        cookies: { keys: [randomBytes(32).toString("hex")] },
        ttl: { AuthorizationCode: 60, AccessToken: 3600, Grant: 3600, Interaction: 600, Session: 3600, IdToken: 3600 },
        jwks: { keys: [{ ...jwk, kid: "test", alg: "RS256", use: "sig" }] },
      };
      const p = new Provider(url, configuration);
      p.on("access_token.saved", (t) => issuedAccessTokens.push(t.jti));
      provider = p;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

export interface Page {
  status: number;
  headers: Headers;
  /** The Location header as sent (relative or absolute), or null. */
  location: string | null;
  text: string;
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

/**
 * A minimal browser: one cookie jar per origin (honouring Path, deletion and expiry), redirects
 * never followed automatically so that every hop can be inspected.
 */
export class Browser {
  private readonly jar = new Map<string, StoredCookie[]>();

  get(url: string | URL): Promise<Page> {
    return this.request(url, "GET");
  }

  post(url: string | URL, form: Record<string, string>): Promise<Page> {
    return this.request(url, "POST", new URLSearchParams(form).toString());
  }

  /** The value of a cookie this browser would send to `url`. */
  cookie(url: string | URL, name: string): string | undefined {
    const u = new URL(url);
    return this.matching(u).find((c) => c.name === name)?.value;
  }

  /** Sets a cookie (`name=value`, Path=/) as if `origin` had sent it. */
  setCookie(origin: string, pair: string): void {
    const [name = "", value = ""] = splitPair(pair);
    this.put(new URL(origin).origin, { name, value, path: "/" });
  }

  private async request(url: string | URL, method: string, body?: string): Promise<Page> {
    const u = new URL(url);
    const headers = new Headers({ "user-agent": "juanie-oauth-test" });
    const cookies = this.matching(u);
    if (cookies.length) headers.set("cookie", cookies.map((c) => `${c.name}=${c.value}`).join("; "));
    if (body !== undefined) headers.set("content-type", "application/x-www-form-urlencoded");
    const res = await fetch(u, { method, headers, body, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) this.store(u, line);
    return { status: res.status, headers: res.headers, location: res.headers.get("location"), text: await res.text() };
  }

  private matching(u: URL): StoredCookie[] {
    return (this.jar.get(u.origin) ?? []).filter(
      (c) => u.pathname === c.path || u.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`),
    );
  }

  private store(u: URL, line: string): void {
    const [pair = "", ...attrs] = line.split(";").map((s) => s.trim());
    const [name = "", value = ""] = splitPair(pair);
    let path = u.pathname.slice(0, u.pathname.lastIndexOf("/")) || "/";
    let expired = value === "";
    for (const attr of attrs) {
      const [k = "", v = ""] = splitPair(attr);
      const key = k.toLowerCase();
      if (key === "path" && v.startsWith("/")) path = v;
      if (key === "max-age" && Number(v) <= 0) expired = true;
      if (key === "expires" && Date.parse(v) <= Date.now()) expired = true;
    }
    const list = (this.jar.get(u.origin) ?? []).filter((c) => !(c.name === name && c.path === path));
    this.jar.set(u.origin, list);
    if (!expired) this.put(u.origin, { name, value, path });
  }

  private put(origin: string, cookie: StoredCookie): void {
    const list = (this.jar.get(origin) ?? []).filter((c) => !(c.name === cookie.name && c.path === cookie.path));
    list.push(cookie);
    this.jar.set(origin, list);
  }
}

function splitPair(s: string): [string, string] {
  const i = s.indexOf("=");
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}
