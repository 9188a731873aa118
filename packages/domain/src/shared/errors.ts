import type { ErrorCode, FieldIssue, MessageParams } from "@juanie/contracts";

/** Base of every error the domain throws on purpose. Transports map `code` once (see the server's error mapping). */
export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  /** A stable name for this error's sentence (`approvals.own_deployment`), translated by the browser. */
  messageKey?: string;
  messageParams?: MessageParams;
  /** Field errors with their rule names, when the English text alone would not do (numbers in it). */
  issues?: FieldIssue[];

  /** Names the sentence, for clients that translate it (the English message stays the default). */
  because(reason: string, params?: MessageParams): this {
    this.messageKey = reason;
    if (params) this.messageParams = params;
    return this;
  }
}

export class NotFoundError extends DomainError {
  readonly code = "NOT_FOUND" as const;
  constructor(what: string) {
    super(`${what} not found`);
    // "Project", "Team member", "Linked github account": translated by name (project, team_member, …).
    this.because("not_found", { entity: what.toLowerCase().replace(/[^a-z0-9]+/g, "_") });
  }
}

/**
 * A denial answered as NOT_FOUND so that outsiders learn nothing about the resource, not even that
 * it exists. It is still a denial: the audit log records it as one, with the policy's reason.
 */
export class ConcealedDenialError extends NotFoundError {
  constructor(
    what: string,
    readonly denial: { requiredRole: string; reason: string },
  ) {
    super(what);
  }
}

export class ConflictError extends DomainError {
  readonly code = "CONFLICT" as const;
  constructor(
    message: string,
    readonly fieldErrors?: Record<string, string[]>,
  ) {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly code = "FORBIDDEN" as const;
  constructor(
    message: string,
    readonly requiredRole?: string,
  ) {
    super(message);
  }
}

export class UnauthenticatedError extends DomainError {
  readonly code = "UNAUTHENTICATED" as const;
  constructor(message = "Sign in required") {
    super(message);
    if (message === "Sign in required") this.because("auth.sign_in_required");
  }
}

/** A policy's refusal, with the action, the role it needs and the one the actor has, for translated messages. */
export function deniedError(d: { reason: string; requiredRole: string; action?: string; has?: string | null }) {
  return new ForbiddenError(`Forbidden: ${d.reason}`, d.requiredRole).because("forbidden.action", {
    action: d.action ?? "",
    role: d.requiredRole,
    has: d.has ?? "",
  });
}

/** A cluster (or another system the platform calls) could not be reached or refused: nothing was changed there. */
export class UnavailableError extends DomainError {
  readonly code = "UNAVAILABLE" as const;
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** Bad input the schema could not catch (it needs the database or the clock). */
export class InputError extends DomainError {
  readonly code = "INVALID_INPUT" as const;
  constructor(
    message: string,
    readonly fieldErrors?: Record<string, string[]>,
  ) {
    super(message);
  }
  /** `rule` is the English text; `code` names it with its parameters when the text has numbers or names in it. */
  static field(field: string, rule: string, code?: { rule: string; params?: MessageParams }): InputError {
    const e = new InputError(`${field} ${rule}`, { [field]: [rule] });
    if (code) e.issues = [{ field, rule: code.rule, ...(code.params ? { params: code.params } : {}), message: rule }];
    return e;
  }
}

/** Postgres unique_violation → a ConflictError naming the field. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = findPgError(err);
  return !!e && e.code === "23505" && (!constraint || e.constraint === constraint);
}

function findPgError(err: unknown): { code?: string; constraint?: string } | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === "object"; i++) {
    const c = cur as { code?: unknown; constraint?: string; cause?: unknown };
    if (typeof c.code === "string" && /^[0-9A-Z]{5}$/.test(c.code)) return { code: c.code, constraint: c.constraint };
    cur = c.cause;
  }
  return undefined;
}
