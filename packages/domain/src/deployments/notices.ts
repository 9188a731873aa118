import { deployments, type Executor, environments, organizations, projectMembers, projects, users } from "@juanie/db";
import { and, eq, inArray } from "drizzle-orm";
import { type NotificationKind, notify } from "../notifications/service.ts";

type DeploymentRow = typeof deployments.$inferSelect;
type Data = Record<string, string | number | null>;

/** The tag of an image reference (`ghcr.io/acme/shop:1.2.0` → `1.2.0`), or null without one. */
function tagOf(image: unknown): string | null {
  if (typeof image !== "string") return null;
  const last = image.split("/").pop() ?? "";
  const at = last.indexOf("@");
  if (at >= 0) return last.slice(at + 1, at + 20);
  const colon = last.lastIndexOf(":");
  return colon >= 0 ? last.slice(colon + 1) : null;
}

/**
 * What a deployment changes, as structured values the UI words in the reader's language: the image tag
 * before and after when the image changed, else how many settings changed, and the deployment it rolls
 * back to or was promoted from (by number).
 */
async function whatOf(tx: Executor, d: DeploymentRow): Promise<Data> {
  const fields = d.fields ?? [];
  const image = fields.find((f) => f.field === "image");
  const related = [d.rollbackOfId, d.promotedFromId].filter((id): id is string => id !== null);
  const numbers = new Map(
    related.length
      ? (
          await tx
            .select({ id: deployments.id, number: deployments.number })
            .from(deployments)
            .where(inArray(deployments.id, related))
        ).map((r) => [r.id, r.number])
      : [],
  );
  return {
    method: d.method,
    version: tagOf(image?.after) ?? d.version,
    previousVersion: tagOf(image?.before),
    fieldCount: fields.length,
    rollbackOfNumber: d.rollbackOfId ? (numbers.get(d.rollbackOfId) ?? null) : null,
    promotedFromNumber: d.promotedFromId ? (numbers.get(d.promotedFromId) ?? null) : null,
  };
}

/** Who a user is to the people notified: their display name, else their username. */
export async function personName(tx: Executor, userId: string | null): Promise<string | null> {
  if (!userId) return null;
  const [u] = await tx
    .select({ displayName: users.displayName, username: users.username })
    .from(users)
    .where(eq(users.id, userId));
  return u ? u.displayName || u.username : null;
}

/**
 * Notifies people about a deployment, with everything a reader needs to know what it is about without
 * opening it: project, environment, number, who acted (`actor`, null for the platform itself), who asked
 * (`requestedBy`), what changes, and the link to the deployment. The actor is never notified of their
 * own action; `extra` adds the kind's own values (a reason, a comment).
 */
export async function notifyDeployment(
  tx: Executor,
  d: DeploymentRow,
  kind: NotificationKind,
  recipients: Iterable<string | null>,
  opts: { actorId: string | null; extra?: Data },
): Promise<void> {
  const to = [...new Set([...recipients].filter((id): id is string => !!id && id !== opts.actorId))];
  if (to.length === 0) return;
  const [where] = await tx
    .select({ project: projects, orgSlug: organizations.slug, environmentName: environments.name })
    .from(projects)
    .innerJoin(organizations, eq(organizations.id, projects.organizationId))
    .innerJoin(environments, eq(environments.id, d.environmentId))
    .where(eq(projects.id, d.projectId));
  const link = `/deployments/${d.id}`;
  const data: Data = {
    deploymentId: d.id,
    deploymentNumber: d.number,
    projectId: d.projectId,
    projectName: where?.project.name ?? "",
    projectSlug: where?.project.slug ?? "",
    organizationSlug: where?.orgSlug ?? "",
    environmentName: where?.environmentName ?? "",
    actor: await personName(tx, opts.actorId),
    requestedBy: (await personName(tx, d.requestedById)) ?? d.commitAuthorName,
    ...(await whatOf(tx, d)),
    link,
    ...opts.extra,
  };
  for (const userId of to) await notify(tx, userId, kind, data, link);
}

/** The project's owners and maintainers: told when a deployment skipped its approvals. */
export async function projectKeepers(tx: Executor, projectId: string): Promise<string[]> {
  const rows = await tx
    .select({ userId: projectMembers.userId })
    .from(projectMembers)
    .where(and(eq(projectMembers.projectId, projectId), inArray(projectMembers.role, ["owner", "maintainer"])));
  return rows.map((r) => r.userId);
}
