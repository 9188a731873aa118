import type { AuditEntry, AuditFilter } from "@juanie/contracts";
import { auditLogs } from "@juanie/db";
import { and, desc, eq, gte, lt, lte, type SQL } from "drizzle-orm";
import { authorizeOrg } from "../access/authorize.ts";
import { decodeCursor, pageOf } from "../shared/cursor.ts";
import type { Actor, Deps } from "../shared/deps.ts";

type AuditRow = typeof auditLogs.$inferSelect;

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: String(r.id),
    createdAt: r.createdAt.toISOString(),
    actor: { id: r.actorId, label: r.actorLabel },
    action: r.action,
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    organizationId: r.organizationId,
    projectId: r.projectId,
    changes: r.changes ?? null,
    ip: r.ip,
    userAgent: r.userAgent,
    result: r.result,
    reason: r.reason,
  };
}

/**
 * Who sees what: an organization's admins see its log; the platform administrator sees everything;
 * anyone else, without an organization filter, sees only their own actions.
 */
async function scope(deps: Pick<Deps, "db">, actor: Actor, filter: AuditFilter): Promise<SQL | undefined> {
  if (filter.organizationId) {
    await authorizeOrg(deps.db, actor, "org.audit.read", filter.organizationId);
    return eq(auditLogs.organizationId, filter.organizationId);
  }
  return actor.user.isPlatformAdmin ? undefined : eq(auditLogs.actorId, actor.user.id);
}

function conditions(filter: AuditFilter): (SQL | undefined)[] {
  return [
    filter.actorId ? eq(auditLogs.actorId, filter.actorId) : undefined,
    filter.action ? eq(auditLogs.action, filter.action) : undefined,
    filter.resourceType ? eq(auditLogs.resourceType, filter.resourceType) : undefined,
    filter.result ? eq(auditLogs.result, filter.result) : undefined,
    filter.from ? gte(auditLogs.createdAt, new Date(filter.from)) : undefined,
    filter.to ? lte(auditLogs.createdAt, new Date(filter.to)) : undefined,
  ];
}

async function fetchPage(deps: Pick<Deps, "db">, where: (SQL | undefined)[], cursor: string | null, limit: number) {
  return deps.db
    .select()
    .from(auditLogs)
    .where(and(...where, cursor ? lt(auditLogs.id, Number(cursor)) : undefined))
    .orderBy(desc(auditLogs.id))
    .limit(limit + 1);
}

export async function listAuditEntries(
  deps: Pick<Deps, "db">,
  actor: Actor,
  input: AuditFilter & { cursor?: string | null; limit: number },
) {
  const where = [await scope(deps, actor, input), ...conditions(input)];
  const rows = await fetchPage(deps, where, decodeCursor(input.cursor), input.limit);
  return pageOf(rows, input.limit, toEntry, (r) => r.id);
}

const csvColumns = [
  "id",
  "createdAt",
  "actor",
  "action",
  "resourceType",
  "resourceId",
  "organizationId",
  "projectId",
  "result",
  "reason",
  "ip",
  "userAgent",
  "changes",
] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  let s = typeof v === "string" ? v : JSON.stringify(v);
  // Neutralise spreadsheet formulas (CSV injection).
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(e: AuditEntry): string {
  const values: Record<(typeof csvColumns)[number], unknown> = { ...e, actor: e.actor.label };
  return `${csvColumns.map((c) => csvCell(values[c])).join(",")}\r\n`;
}

/** Streams every matching entry, newest first, in batches; authorised once up front. */
export async function* exportAuditEntries(
  deps: Pick<Deps, "db">,
  actor: Actor,
  filter: AuditFilter,
  format: "csv" | "json",
): AsyncGenerator<string> {
  const where = [await scope(deps, actor, filter), ...conditions(filter)];
  yield format === "csv" ? `${csvColumns.join(",")}\r\n` : "[";
  let cursor: string | null = null;
  let first = true;
  for (;;) {
    const rows = await fetchPage(deps, where, cursor, 1000);
    const batch = rows.slice(0, 1000).map(toEntry);
    if (batch.length) {
      yield format === "csv"
        ? batch.map(csvRow).join("")
        : batch.map((e, i) => `${first && i === 0 ? "" : ","}\n${JSON.stringify(e)}`).join("");
      first = false;
    }
    if (rows.length <= 1000) break;
    cursor = batch[batch.length - 1]!.id;
  }
  yield format === "csv" ? "" : "\n]\n";
}
