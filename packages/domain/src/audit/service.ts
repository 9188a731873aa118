import type { AuditEntry, AuditFilter, AuditListEntry } from "@juanie/contracts";
import { auditLogs, deployments, environments, organizations, projects, users } from "@juanie/db";
import { and, desc, eq, gte, lt, lte, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { authorizeOrg } from "../access/authorize.ts";
import { decodeCursor, pageOf } from "../shared/cursor.ts";
import type { Actor, Deps } from "../shared/deps.ts";
import { NotFoundError } from "../shared/errors.ts";

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
  if (filter.projectId && !filter.organizationId) {
    // A project's log is its organization's log, narrowed (by `conditions`): read by the same people.
    const [project] = await deps.db
      .select({ organizationId: projects.organizationId })
      .from(projects)
      .where(eq(projects.id, filter.projectId));
    if (project) await authorizeOrg(deps.db, actor, "org.audit.read", project.organizationId);
    else if (!actor.user.isPlatformAdmin) throw new NotFoundError("Project");
    return undefined;
  }
  if (filter.organizationId) {
    await authorizeOrg(deps.db, actor, "org.audit.read", filter.organizationId);
    return eq(auditLogs.organizationId, filter.organizationId);
  }
  return actor.user.isPlatformAdmin ? undefined : eq(auditLogs.actorId, actor.user.id);
}

function conditions(filter: AuditFilter): (SQL | undefined)[] {
  return [
    filter.projectId ? eq(auditLogs.projectId, filter.projectId) : undefined,
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

const projectOrg = alias(organizations, "project_org");

/** The entry's resource id as a uuid when it is one (resource ids are text: some are not uuids). */
const resourceUuid = sql`(case when ${auditLogs.resourceId} ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then ${auditLogs.resourceId}::uuid end)`;

/** A page of entries with their ids resolved to today's names (left joins: a deleted thing resolves to null). */
async function fetchNamedPage(
  deps: Pick<Deps, "db">,
  where: (SQL | undefined)[],
  cursor: string | null,
  limit: number,
) {
  return deps.db
    .select({
      a: auditLogs,
      actorName: users.displayName,
      organizationName: organizations.name,
      organizationSlug: organizations.slug,
      projectName: projects.name,
      projectSlug: projects.slug,
      projectOrgSlug: projectOrg.slug,
      deploymentNumber: deployments.number,
      environmentId: environments.id,
      environmentName: environments.name,
    })
    .from(auditLogs)
    .leftJoin(users, eq(users.id, auditLogs.actorId))
    .leftJoin(organizations, eq(organizations.id, auditLogs.organizationId))
    .leftJoin(projects, eq(projects.id, auditLogs.projectId))
    .leftJoin(projectOrg, eq(projectOrg.id, projects.organizationId))
    .leftJoin(deployments, and(eq(auditLogs.resourceType, "deployment"), sql`${deployments.id} = ${resourceUuid}`))
    .leftJoin(
      environments,
      sql`${environments.id} = coalesce(${deployments.environmentId}, case when ${auditLogs.resourceType} = 'environment' then ${resourceUuid} end)`,
    )
    .where(and(...where, cursor ? lt(auditLogs.id, Number(cursor)) : undefined))
    .orderBy(desc(auditLogs.id))
    .limit(limit + 1);
}

type NamedRow = Awaited<ReturnType<typeof fetchNamedPage>>[number];

function toListEntry(r: NamedRow): AuditListEntry {
  return {
    ...toEntry(r.a),
    actorName: r.actorName,
    organizationName: r.organizationName,
    organizationSlug: r.organizationSlug,
    projectName: r.projectName,
    projectPath:
      r.projectSlug && r.projectOrgSlug ? { organizationSlug: r.projectOrgSlug, projectSlug: r.projectSlug } : null,
    environmentId: r.environmentId,
    environmentName: r.environmentName,
    deploymentNumber: r.deploymentNumber,
  };
}

export async function listAuditEntries(
  deps: Pick<Deps, "db">,
  actor: Actor,
  input: AuditFilter & { cursor?: string | null; limit: number },
) {
  const where = [await scope(deps, actor, input), ...conditions(input)];
  const rows = await fetchNamedPage(deps, where, decodeCursor(input.cursor), input.limit);
  return pageOf(rows, input.limit, toListEntry, (r) => r.a.id);
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
  format: "csv" | "json" | "jsonl",
): AsyncGenerator<string> {
  const where = [await scope(deps, actor, filter), ...conditions(filter)];
  yield format === "csv" ? `${csvColumns.join(",")}\r\n` : format === "json" ? "[" : "";
  let cursor: string | null = null;
  let first = true;
  for (;;) {
    const rows = await fetchPage(deps, where, cursor, 1000);
    const batch = rows.slice(0, 1000).map(toEntry);
    if (batch.length) {
      yield format === "csv"
        ? batch.map(csvRow).join("")
        : format === "jsonl"
          ? batch.map((e) => `${JSON.stringify(e)}\n`).join("")
          : batch.map((e, i) => `${first && i === 0 ? "" : ","}\n${JSON.stringify(e)}`).join("");
      first = false;
    }
    if (rows.length <= 1000) break;
    cursor = batch[batch.length - 1]!.id;
  }
  yield format === "json" ? "\n]\n" : "";
}
