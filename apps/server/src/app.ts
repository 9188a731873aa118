import { existsSync } from "node:fs";
import path from "node:path";
import cookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import { type Actor, type GitOpsDeps, type RequestOrigin, resolveSession } from "@juanie/domain";
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import client from "prom-client";
import type { Config } from "./config.ts";
import { registerAuditExport } from "./http/audit-export.ts";
import { httpErrorCode, ownOriginCheck, RouteTable } from "./http/http-errors.ts";
import { oauthProviders, registerOAuthRoutes } from "./http/oauth.ts";
import { registerWebhooks } from "./http/webhooks.ts";
import type { Realtime } from "./realtime.ts";
import { type AppRouter, appRouter } from "./trpc/router.ts";
import type { Context } from "./trpc/trpc.ts";

export const sessionCookie = "juanie_session";

export interface AppOptions {
  deps: GitOpsDeps;
  config: Config;
  logger: Logger;
  realtime: Realtime;
  /** Built web UI to serve; omitted in API-only tests. */
  webDist?: string;
  /** Extra readiness checks (the job worker, …). */
  readiness?: () => Promise<Record<string, boolean>>;
}

export async function buildApp(opts: AppOptions) {
  const { deps, config } = opts;
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
  });
  // Every route's methods, so that a known address asked with another method answers 405, not 404.
  const routes = new RouteTable();
  app.addHook("onRoute", (route) => routes.add(route.url, route.method));
  // Errors Fastify raises itself (an unsupported content type, a malformed body, a body too large)
  // keep their status and get a code; only a real failure is a 500, and it never says why.
  app.setErrorHandler((error: FastifyError, req, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      req.log.error({ err: error }, "request failed");
      return reply.code(500).send({ code: "INTERNAL", message: "Internal error" });
    }
    return reply.code(status).send({ code: httpErrorCode(status), message: error.message });
  });

  // ----- metrics -----
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "juanie_" });
  const httpDuration = new client.Histogram({
    name: "juanie_http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unmatched";
    httpDuration.observe(
      { method: req.method, route: route.startsWith("/trpc") ? "/trpc" : route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // ----- sessions -----
  await app.register(cookie);
  const secureCookies = config.publicUrl.startsWith("https:");
  const setSessionCookie = (reply: FastifyReply, token: string, expiresAt: Date) =>
    reply.setCookie(sessionCookie, token, {
      path: "/",
      httpOnly: true,
      sameSite: "lax",
      secure: secureCookies,
      expires: expiresAt,
    });
  const clearSessionCookie = (reply: FastifyReply) =>
    reply.clearCookie(sessionCookie, { path: "/", httpOnly: true, sameSite: "lax", secure: secureCookies });
  const origin = (req: FastifyRequest): RequestOrigin => ({
    ip: req.ip ?? null,
    userAgent: req.headers["user-agent"] ?? null,
  });
  const currentUser = async (req: FastifyRequest) => {
    const u = await resolveSession(deps, req.cookies[sessionCookie]);
    return u ? { id: u.id, username: u.username, isPlatformAdmin: u.isPlatformAdmin } : null;
  };
  const actorOf = async (req: FastifyRequest): Promise<Actor | null> => {
    const user = await currentUser(req);
    return user ? { user, ...origin(req) } : null;
  };

  // CSRF: state-changing requests must come from our own origin — the public URL, never whatever the
  // request's Host header says (a client chooses that). SameSite=Lax already keeps the cookie off
  // cross-site POSTs; this also refuses cross-origin requests from same-site hosts.
  const isOwnOrigin = ownOriginCheck(config.publicUrl);
  app.addHook("onRequest", async (req, reply) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return;
    if (!req.url.startsWith("/trpc") && !req.url.startsWith("/auth") && !req.url.startsWith("/api")) return;
    // Webhooks are called by Git hosts and authenticated by their signature instead.
    if (req.url.startsWith("/api/webhooks/")) return;
    const from = req.headers.origin;
    if (from && !isOwnOrigin(from)) {
      return reply.code(403).send({ code: "FORBIDDEN", message: "Cross-origin request refused" });
    }
  });

  // ----- health -----
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const checks: Record<string, boolean> = {};
    try {
      await deps.db.execute("select 1");
      checks.database = true;
    } catch {
      checks.database = false;
    }
    Object.assign(checks, (await opts.readiness?.()) ?? {});
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks });
  });
  app.get("/metrics", async (_req, reply) =>
    reply.header("content-type", registry.contentType).send(await registry.metrics()),
  );

  // Live streams (SSE subscriptions) never end on their own: end them so that close() can finish.
  app.addHook("preClose", async () => opts.realtime.endStreams());

  // ----- API -----
  const providers = Object.keys(oauthProviders(config)) as ("github" | "gitlab")[];
  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      createContext: async ({ req, res }): Promise<Context> => ({
        deps,
        realtime: opts.realtime,
        user: await currentUser(req),
        sessionToken: req.cookies[sessionCookie] ?? null,
        origin: origin(req),
        oauthProviders: providers,
        setSessionCookie: (token, expiresAt) => setSessionCookie(res, token, expiresAt),
        clearSessionCookie: () => clearSessionCookie(res),
      }),
      onError({ error, path }) {
        if (error.code === "INTERNAL_SERVER_ERROR") app.log.error({ err: error.cause ?? error, path }, "API error");
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });
  registerOAuthRoutes(app, { deps, config, currentUser, origin, setSessionCookie });
  registerAuditExport(app, deps, actorOf);
  await registerWebhooks(app, deps);

  // ----- web UI (single-page app) -----
  const webUi = !!opts.webDist && existsSync(path.join(opts.webDist, "index.html"));
  if (webUi) await app.register(fastifyStatic, { root: opts.webDist!, wildcard: false });
  // Always ours, never Fastify's default: that one logs the full URL, secrets in it included.
  app.setNotFoundHandler((req, reply) => {
    const apiPath = /^\/(trpc|api|auth)(\/|$)/.test(req.url);
    if (webUi && req.method === "GET" && !apiPath) return reply.sendFile("index.html");
    const pathname = req.url.split("?")[0] ?? "";
    const allowed = routes.methodsFor(pathname);
    if (allowed.length) {
      return reply
        .code(405)
        .header("allow", allowed.join(", "))
        .send({
          code: "METHOD_NOT_ALLOWED",
          message: `${req.method} is not allowed on ${pathname}: use ${allowed.join(" or ")}`,
        });
    }
    return reply.code(404).send({ code: "NOT_FOUND", message: `${req.method} ${pathname} not found` });
  });
  return app;
}
