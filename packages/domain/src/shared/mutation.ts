import type { Executor } from "@juanie/db";
import { recordAudit } from "../audit/record.ts";
import type { Actor, Deps, RequestOrigin } from "./deps.ts";
import { ConcealedDenialError, DomainError, ForbiddenError } from "./errors.ts";

/** What a mutation fills in as it learns it, so that success, denial and failure are all audited. */
export interface AuditDraft {
  resourceId?: string | null;
  organizationId?: string | null;
  projectId?: string | null;
  changes?: { before?: Record<string, unknown>; after?: Record<string, unknown> } | null;
  /** Set when the call turned out to change nothing (idempotent repeat): no entry is written. */
  unchanged?: boolean;
}

export interface MutationMeta {
  action: string;
  resourceType: string;
}

type Who = { actor: Actor } | { origin: RequestOrigin; actorLabel: string; actorId?: string | null };

/**
 * Runs a state change in one transaction and writes its audit entry in that same transaction.
 * On a denial or failure the transaction is rolled back (nothing half-written) and a
 * `denied`/`failed` entry is written on its own.
 */
export async function mutate<T>(
  deps: Pick<Deps, "db" | "logger">,
  who: Who,
  meta: MutationMeta,
  fn: (tx: Executor, audit: AuditDraft) => Promise<T>,
): Promise<T> {
  const draft: AuditDraft = {};
  const base =
    "actor" in who
      ? {
          actorId: who.actor.user.id,
          actorLabel: who.actor.user.username,
          ip: who.actor.ip,
          userAgent: who.actor.userAgent,
        }
      : {
          actorId: who.actorId ?? null,
          actorLabel: who.actorLabel,
          ip: who.origin.ip,
          userAgent: who.origin.userAgent,
        };
  try {
    return await deps.db.transaction(async (tx) => {
      const result = await fn(tx, draft);
      const { unchanged, ...fields } = draft;
      if (!unchanged) await recordAudit(tx, { ...base, ...meta, ...fields, result: "success" });
      return result;
    });
  } catch (err) {
    const denied = err instanceof ForbiddenError || err instanceof ConcealedDenialError;
    const reason =
      err instanceof ConcealedDenialError
        ? `Forbidden: ${err.denial.reason} (answered as not found)`
        : err instanceof DomainError
          ? err.message
          : "internal error";
    const { unchanged: _, ...fields } = draft;
    const entry = { ...base, ...meta, ...fields, changes: null, result: denied ? "denied" : "failed", reason } as const;
    try {
      // The resource may have been created by the rolled-back transaction: then keep only its id.
      await recordAudit(deps.db, entry).catch(() =>
        recordAudit(deps.db, { ...entry, organizationId: null, projectId: null }),
      );
    } catch (auditErr) {
      deps.logger.error({ err: auditErr, action: meta.action }, "could not write audit entry");
    }
    throw err;
  }
}
