import { oauthStates } from "@juanie/db";
import {
  type Actor,
  type Deps,
  linkOAuthAccount,
  OAuthError,
  type OAuthProfile,
  type RequestOrigin,
  signInWithOAuth,
} from "@juanie/domain";
import { and, eq, gt } from "drizzle-orm";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import * as oauth from "oauth4webapi";
import type { Config } from "../config.ts";

type ProviderName = "github" | "gitlab";

interface Provider {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  secret: string;
  scope: string;
  insecure: boolean;
  fetchProfile(accessToken: string): Promise<OAuthProfile>;
}

async function getJson(url: string, accessToken: string): Promise<unknown> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${accessToken}`, accept: "application/json", "user-agent": "juanie" },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`${new URL(url).pathname} answered ${res.status}`);
  return res.json();
}

function str(v: unknown): string | null {
  return typeof v === "string" && v.length ? v : typeof v === "number" ? String(v) : null;
}

/** GitHub (or GitHub Enterprise Server) and GitLab (gitlab.com or self-hosted), from configuration. */
export function oauthProviders(config: Config): Partial<Record<ProviderName, Provider>> {
  const out: Partial<Record<ProviderName, Provider>> = {};
  if (config.github) {
    const { url, apiUrl, clientId, clientSecret } = config.github;
    const insecure = url.startsWith("http:") || apiUrl.startsWith("http:");
    out.github = {
      as: {
        issuer: url,
        authorization_endpoint: `${url}/login/oauth/authorize`,
        token_endpoint: `${url}/login/oauth/access_token`,
      },
      client: { client_id: clientId },
      secret: clientSecret,
      scope: "read:user user:email",
      insecure,
      async fetchProfile(token) {
        const u = (await getJson(`${apiUrl}/user`, token)) as Record<string, unknown>;
        let email = str(u.email);
        if (!email) {
          // The public profile may hide the address; the e-mails endpoint lists the verified ones.
          const emails = (await getJson(`${apiUrl}/user/emails`, token)) as Array<Record<string, unknown>>;
          const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified);
          email = primary ? str(primary.email) : null;
        }
        const id = str(u.id);
        const login = str(u.login);
        if (!id || !login) throw new Error("GitHub profile without id or login");
        return { provider: "github", accountId: id, login, email, name: str(u.name), avatarUrl: str(u.avatar_url) };
      },
    };
  }
  if (config.gitlab) {
    const { url, clientId, clientSecret } = config.gitlab;
    const insecure = url.startsWith("http:");
    out.gitlab = {
      as: { issuer: url, authorization_endpoint: `${url}/oauth/authorize`, token_endpoint: `${url}/oauth/token` },
      client: { client_id: clientId },
      secret: clientSecret,
      scope: "read_user",
      insecure,
      async fetchProfile(token) {
        const u = (await getJson(`${url}/api/v4/user`, token)) as Record<string, unknown>;
        const id = str(u.id);
        const login = str(u.username);
        if (!id || !login) throw new Error("GitLab profile without id or username");
        return {
          provider: "gitlab",
          accountId: id,
          login,
          email: str(u.email),
          name: str(u.name),
          avatarUrl: str(u.avatar_url),
        };
      },
    };
  }
  return out;
}

/** Only same-site paths: never an open redirect. */
export function safeReturnTo(v: unknown): string {
  return typeof v === "string" && v.startsWith("/") && !v.startsWith("//") && !v.startsWith("/\\") && v.length < 500
    ? v
    : "/";
}

export interface OAuthRouteDeps {
  deps: Deps;
  config: Config;
  currentUser(req: FastifyRequest): Promise<Actor["user"] | null>;
  origin(req: FastifyRequest): RequestOrigin;
  setSessionCookie(reply: FastifyReply, token: string, expiresAt: Date): void;
}

export function registerOAuthRoutes(app: FastifyInstance, r: OAuthRouteDeps): void {
  const providers = oauthProviders(r.config);
  const redirectUri = (p: ProviderName) => `${r.config.publicUrl}/auth/oauth/${p}/callback`;
  const fail = (reply: FastifyReply, code: string, link: boolean) =>
    reply.redirect(link ? `/profile?error=${code}` : `/sign-in?error=${code}`);

  app.get<{ Params: { provider: string }; Querystring: { returnTo?: string; link?: string } }>(
    "/auth/oauth/:provider/start",
    async (req, reply) => {
      const name = req.params.provider as ProviderName;
      const p = providers[name];
      if (!p) return reply.code(404).send({ code: "NOT_FOUND", error: "unknown or unconfigured OAuth provider" });
      const link = req.query.link === "1";
      const user = link ? await r.currentUser(req) : null;
      if (link && !user) return reply.redirect("/sign-in?returnTo=/profile");
      const state = oauth.generateRandomState();
      const codeVerifier = oauth.generateRandomCodeVerifier();
      await r.deps.db.insert(oauthStates).values({
        state,
        provider: name,
        codeVerifier,
        linkUserId: user?.id ?? null,
        returnTo: safeReturnTo(req.query.returnTo),
        expiresAt: new Date(r.deps.clock.now().getTime() + 10 * 60_000),
      });
      const url = new URL(p.as.authorization_endpoint!);
      url.searchParams.set("client_id", p.client.client_id);
      url.searchParams.set("redirect_uri", redirectUri(name));
      url.searchParams.set("response_type", "code");
      url.searchParams.set("scope", p.scope);
      url.searchParams.set("state", state);
      url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
      url.searchParams.set("code_challenge_method", "S256");
      return reply.redirect(url.href);
    },
  );

  app.get<{ Params: { provider: string } }>("/auth/oauth/:provider/callback", async (req, reply) => {
    const name = req.params.provider as ProviderName;
    const p = providers[name];
    if (!p) return reply.code(404).send({ code: "NOT_FOUND", error: "unknown or unconfigured OAuth provider" });
    const current = new URL(req.url, r.config.publicUrl);
    const stateParam = current.searchParams.get("state") ?? "";
    // Single use: the state row is deleted as it is read.
    const [saved] = await r.deps.db
      .delete(oauthStates)
      .where(
        and(
          eq(oauthStates.state, stateParam),
          eq(oauthStates.provider, name),
          gt(oauthStates.expiresAt, r.deps.clock.now()),
        ),
      )
      .returning();
    if (!saved) return fail(reply, "oauth_state", false);
    const linking = saved.linkUserId !== null;
    if (current.searchParams.get("error")) return fail(reply, "oauth_denied", linking);
    let profile: OAuthProfile;
    try {
      const opts = { [oauth.allowInsecureRequests]: p.insecure };
      const params = oauth.validateAuthResponse(p.as, p.client, current.searchParams, saved.state);
      const response = await oauth.authorizationCodeGrantRequest(
        p.as,
        p.client,
        oauth.ClientSecretPost(p.secret),
        params,
        redirectUri(name),
        saved.codeVerifier,
        opts,
      );
      const tokens = await oauth.processAuthorizationCodeResponse(p.as, p.client, response);
      profile = await p.fetchProfile(tokens.access_token);
    } catch (err) {
      req.log.warn({ provider: name, err: err instanceof Error ? err.message : String(err) }, "OAuth exchange failed");
      return fail(reply, "oauth_failed", linking);
    }
    try {
      if (linking) {
        const user = await r.currentUser(req);
        if (!user || user.id !== saved.linkUserId) return fail(reply, "oauth_state", true);
        const origin = r.origin(req);
        await linkOAuthAccount(r.deps, { user, ip: origin.ip, userAgent: origin.userAgent }, profile);
        return reply.redirect(`/profile?linked=${name}`);
      }
      const { session } = await signInWithOAuth(r.deps, r.origin(req), profile);
      r.setSessionCookie(reply, session.token, session.expiresAt);
      return reply.redirect(safeReturnTo(saved.returnTo));
    } catch (err) {
      if (err instanceof OAuthError) return fail(reply, err.reason, linking);
      throw err;
    }
  });
}
