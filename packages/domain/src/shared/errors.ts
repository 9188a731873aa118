import type { ErrorCode } from "@juanie/contracts";

/** Base of every error the domain throws on purpose. Transports map `code` once (see the server's error mapping). */
export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

export class NotFoundError extends DomainError {
  readonly code = "NOT_FOUND" as const;
  constructor(what: string) {
    super(`${what} not found`);
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
  }
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
  static field(field: string, rule: string): InputError {
    return new InputError(`${field} ${rule}`, { [field]: [rule] });
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
