import { auditLogs, type Executor, projects } from "@juanie/db";
import { sql } from "drizzle-orm";

export type AuditResult = "success" | "denied" | "failed";

export interface AuditRecord {
  actorId: string | null;
  actorLabel: string;
  action: string;
  resourceType: string;
  resourceId?: string | null;
  organizationId?: string | null;
  projectId?: string | null;
  changes?: { before?: Record<string, unknown>; after?: Record<string, unknown> } | null;
  ip?: string | null;
  userAgent?: string | null;
  result: AuditResult;
  reason?: string | null;
}

/** Field names whose values never enter the audit log. */
const secretKeys = /pass(word)?|secret|token|key|hash|credential/i;

export function redactChanges(changes: AuditRecord["changes"]): AuditRecord["changes"] {
  if (!changes) return null;
  const clean = (o?: Record<string, unknown>) =>
    o ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, secretKeys.test(k) ? "[redacted]" : v])) : undefined;
  return { before: clean(changes.before), after: clean(changes.after) };
}

/** Only the fields that changed, so an entry says what happened and nothing else. */
export function diffFields<T extends Record<string, unknown>>(
  before: T,
  after: Partial<T>,
): { before: Record<string, unknown>; after: Record<string, unknown> } | null {
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after)) {
    if (v !== undefined && JSON.stringify(before[k]) !== JSON.stringify(v)) {
      b[k] = before[k];
      a[k] = v;
    }
  }
  return Object.keys(a).length ? { before: b, after: a } : null;
}

export async function recordAudit(db: Executor, rec: AuditRecord): Promise<void> {
  await db.insert(auditLogs).values({
    actorId: rec.actorId,
    actorLabel: rec.actorLabel,
    action: rec.action,
    resourceType: rec.resourceType,
    resourceId: rec.resourceId ?? null,
    // An entry about a project always carries its organization, so the organization's filter finds it
    // (system entries often know only the project).
    organizationId:
      rec.organizationId ??
      (rec.projectId
        ? sql`(select ${projects.organizationId} from ${projects} where ${projects.id} = ${rec.projectId})`
        : null),
    projectId: rec.projectId ?? null,
    changes: redactChanges(rec.changes ?? null),
    ip: normaliseIp(rec.ip),
    userAgent: rec.userAgent?.slice(0, 500) ?? null,
    result: rec.result,
    reason: rec.reason?.slice(0, 1000) ?? null,
  });
}

function normaliseIp(ip: string | null | undefined): string | null {
  if (!ip) return null;
  const v = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  return /^[0-9a-fA-F:.]+$/.test(v) ? v : null;
}
