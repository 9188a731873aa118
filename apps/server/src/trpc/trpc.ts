import { describeIssue, type ErrorDetails, issuesOfFieldErrors, ruleCatalog } from "@juanie/contracts";
import { type Actor, DomainError, ForbiddenError, type GitOpsDeps, type RequestOrigin } from "@juanie/domain";
import { deploySpecRules } from "@juanie/manifests";
import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";
import type { Realtime } from "../realtime.ts";

export interface SessionUser {
  id: string;
  username: string;
  isPlatformAdmin: boolean;
}

/** Built per request by the Fastify adapter (see app.ts). */
export interface Context {
  deps: GitOpsDeps;
  realtime: Realtime;
  user: SessionUser | null;
  sessionToken: string | null;
  origin: RequestOrigin;
  oauthProviders: ("github" | "gitlab")[];
  setSessionCookie(token: string, expiresAt: Date): void;
  clearSessionCookie(): void;
}

/**
 * `action` names the audited action a mutation performs (see the permission matrix test);
 * `public` marks the few procedures that work without a session.
 */
export interface Meta {
  action?: string;
  public?: boolean;
}

const codeFor: Record<DomainError["code"], TRPC_ERROR_CODE_KEY> = {
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  FORBIDDEN: "FORBIDDEN",
  UNAUTHENTICATED: "UNAUTHORIZED",
  INVALID_INPUT: "BAD_REQUEST",
  METHOD_NOT_ALLOWED: "METHOD_NOT_SUPPORTED",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  UNAVAILABLE: "BAD_GATEWAY",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

function zodFieldErrors(err: ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of err.issues) {
    const key = issue.path.join(".") || "_";
    out[key] = [...(out[key] ?? []), issue.message];
  }
  return out;
}

/** The wording of every rule the server knows by name: its own, and the deploy form's (`deploy.image`). */
const rules = ruleCatalog(Object.fromEntries(Object.entries(deploySpecRules).map(([k, v]) => [`deploy.${k}`, v])));

/**
 * The one place where errors become API errors: codes, messages and field errors. The English message
 * stays; `reason` and `issues` name the same things by stable names for clients that word them otherwise.
 */
export function details(error: TRPCError): ErrorDetails & { message: string } {
  const cause = error.cause;
  if (cause instanceof ZodError) {
    const fieldErrors = zodFieldErrors(cause);
    const message = Object.entries(fieldErrors)
      .map(([f, m]) => `${f}: ${m.join(", ")}`)
      .join("; ");
    const issues = cause.issues.map((issue) => describeIssue(issue, rules));
    return { code: "INVALID_INPUT", fieldErrors, issues, message: `Invalid input: ${message}` };
  }
  if (cause instanceof DomainError) {
    const extra = cause as DomainError & { fieldErrors?: Record<string, string[]>; requiredRole?: string };
    const issues = cause.issues ?? (extra.fieldErrors ? issuesOfFieldErrors(extra.fieldErrors, rules) : undefined);
    return {
      code: cause.code,
      message: cause.message,
      ...(extra.fieldErrors ? { fieldErrors: extra.fieldErrors } : {}),
      ...(issues?.length ? { issues } : {}),
      ...(cause.messageKey ? { reason: cause.messageKey } : {}),
      ...(cause.messageParams ? { params: cause.messageParams } : {}),
      ...(cause instanceof ForbiddenError && cause.requiredRole ? { requiredRole: cause.requiredRole } : {}),
    };
  }
  switch (error.code) {
    case "UNAUTHORIZED":
      return { code: "UNAUTHENTICATED", message: error.message };
    case "NOT_FOUND":
      return { code: "NOT_FOUND", message: error.message };
    case "FORBIDDEN":
      return { code: "FORBIDDEN", message: error.message };
    case "BAD_REQUEST":
    case "PAYLOAD_TOO_LARGE":
    case "PARSE_ERROR":
      return { code: "INVALID_INPUT", message: error.message };
    // A GET on a mutation, a POST of something else than JSON: the client's mistake, said as such.
    case "METHOD_NOT_SUPPORTED":
      return { code: "METHOD_NOT_ALLOWED", message: error.message };
    case "UNSUPPORTED_MEDIA_TYPE":
      return { code: "UNSUPPORTED_MEDIA_TYPE", message: error.message };
    default:
      // Never leak internals (SQL, stack traces) to the client.
      return { code: "INTERNAL", message: "Internal error" };
  }
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    errorFormatter({ shape, error }) {
      const d = details(error);
      const { message, ...juanie } = d;
      return { ...shape, message, data: { ...shape.data, stack: undefined, juanie } };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** A domain error as the transport error with the matching HTTP status; anything else as it is. */
export function toTransportError(error: unknown): unknown {
  const cause = error instanceof TRPCError ? error.cause : error;
  if (cause instanceof DomainError) return new TRPCError({ code: codeFor[cause.code], message: cause.message, cause });
  return error;
}

/** Domain errors become transport errors with the matching HTTP status, here and nowhere else. */
const mapDomainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) throw toTransportError(result.error);
  return result;
});

export const publicProcedure = t.procedure.use(mapDomainErrors).meta({ public: true });

export const authedProcedure = t.procedure.use(mapDomainErrors).use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in required" });
  const actor: Actor = { user: ctx.user, ip: ctx.origin.ip, userAgent: ctx.origin.userAgent };
  return next({ ctx: { ...ctx, user: ctx.user, actor } });
});
