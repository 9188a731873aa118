// Deciding on a request: approve, reject, break glass, cancel, request again, and expiry of approvals that
// waited too long.
import type { DeploymentDetail } from "@juanie/contracts";
import { deploymentApprovals, deployments } from "@juanie/db";
import type { DeploySpec } from "@juanie/manifests";
import { and, eq, lt } from "drizzle-orm";
import { authorizeEnvironment } from "../environments/access.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { ConflictError, ForbiddenError, InputError, NotFoundError } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";
import { countApprovals } from "./approvals.ts";
import { deploymentStepRefused } from "./messages.ts";
import { notifyDeployment, projectKeepers } from "./notices.ts";
import { getDeployment } from "./queries.ts";
import { cancelCommittingDeployment } from "./recovery.ts";
import { rollbackDeployment } from "./rollback.ts";
import { applyEvent, enqueueCommit, loadForUpdate, requestDeployment } from "./service.ts";
import { isDeploymentStatus } from "./state.ts";

export async function approveDeployment(
  deps: GitOpsDeps,
  actor: Actor,
  input: { deploymentId: string; comment?: string },
): Promise<DeploymentDetail> {
  // Expiry first, in its own transaction: the approval below then fails and rolls back, the expiry must stay.
  await expireIfDue(deps, input.deploymentId);
  await mutate(deps, { actor }, { action: "deployment.approve", resourceType: "deployment" }, async (tx, audit) => {
    const d = await loadForUpdate(tx, input.deploymentId);
    audit.resourceId = d.id;
    const { env } = await authorizeEnvironment(tx, actor, "deployment.approve", d.environmentId, audit);
    if (d.requestedById === actor.user.id) {
      throw new ForbiddenError(
        "Forbidden: you cannot approve your own deployment",
        "another eligible approver",
      ).because("approvals.own_deployment");
    }
    const now = deps.clock.now();
    if (d.status !== "awaiting_approval")
      throw deploymentStepRefused(isDeploymentStatus(d.status) ? d.status : "pending", "approve");
    // Elapsed between the expiry check above and this transaction: the scheduler marks it.
    if (d.approvalExpiresAt && d.approvalExpiresAt <= now) throw deploymentStepRefused("expired", "approve");
    const [mine] = await tx
      .select()
      .from(deploymentApprovals)
      .where(and(eq(deploymentApprovals.deploymentId, d.id), eq(deploymentApprovals.userId, actor.user.id)));
    if (mine)
      throw new ConflictError("You have already decided on this deployment").because("approvals.already_decided");
    await tx
      .insert(deploymentApprovals)
      .values({ deploymentId: d.id, userId: actor.user.id, decision: "approved", comment: input.comment ?? null });
    const quorum = await countApprovals(tx, d, env);
    audit.changes = { after: { approvals: quorum.counted.length, required: quorum.required } };
    if (quorum.reached) {
      const row = await applyEvent(tx, d, "approve", { now, message: quorum.message });
      await enqueueCommit(tx, row);
      await notifyDeployment(tx, row, "deployment.approved", [row.requestedById], {
        actorId: actor.user.id,
        extra: { approvals: quorum.counted.length, requiredApprovals: quorum.required },
      });
    }
  });
  return getDeployment(deps, actor, input.deploymentId);
}

export async function rejectDeployment(
  deps: GitOpsDeps,
  actor: Actor,
  input: { deploymentId: string; comment: string },
): Promise<DeploymentDetail> {
  await mutate(deps, { actor }, { action: "deployment.reject", resourceType: "deployment" }, async (tx, audit) => {
    const d = await loadForUpdate(tx, input.deploymentId);
    audit.resourceId = d.id;
    await authorizeEnvironment(tx, actor, "deployment.approve", d.environmentId, audit);
    if (d.requestedById === actor.user.id) {
      throw new ForbiddenError(
        "Forbidden: cancel your own deployment instead of rejecting it",
        "another eligible approver",
      ).because("approvals.reject_own");
    }
    await tx
      .insert(deploymentApprovals)
      .values({ deploymentId: d.id, userId: actor.user.id, decision: "rejected", comment: input.comment })
      .onConflictDoUpdate({
        target: [deploymentApprovals.deploymentId, deploymentApprovals.userId],
        set: { decision: "rejected", comment: input.comment },
      });
    const row = await applyEvent(tx, d, "reject", { now: deps.clock.now(), message: input.comment });
    audit.changes = { after: { status: "rejected", comment: input.comment } };
    await notifyDeployment(tx, row, "deployment.rejected", [row.requestedById], {
      actorId: actor.user.id,
      extra: { rejectedBy: actor.user.username, comment: input.comment },
    });
  });
  return getDeployment(deps, actor, input.deploymentId);
}

export async function cancelDeployment(
  deps: GitOpsDeps,
  actor: Actor,
  deploymentId: string,
): Promise<DeploymentDetail> {
  const [current] = await deps.db
    .select({ status: deployments.status })
    .from(deployments)
    .where(eq(deployments.id, deploymentId));
  // Stuck while committing: its own rules (administrators only, checked against the branch).
  if (current?.status === "committing") return cancelCommittingDeployment(deps, actor, deploymentId);
  await mutate(deps, { actor }, { action: "deployment.cancel", resourceType: "deployment" }, async (tx, audit) => {
    const d = await loadForUpdate(tx, deploymentId);
    audit.resourceId = d.id;
    const { permission } = await authorizeEnvironment(tx, actor, "deployment.create", d.environmentId, audit);
    if (d.requestedById !== actor.user.id && permission !== "admin") {
      throw new ForbiddenError(
        "Forbidden: only the requester or an environment admin can cancel",
        "environment admin permission",
      ).because("deployments.cancel_not_allowed");
    }
    await applyEvent(tx, d, "cancel", { now: deps.clock.now(), message: `cancelled by ${actor.user.username}` });
    audit.changes = { before: { status: d.status }, after: { status: "cancelled" } };
  });
  return getDeployment(deps, actor, deploymentId);
}

/**
 * Break glass: an organization admin approves a waiting request with a reason, whatever its quorum. Recorded
 * on the deployment and in its timeline, audited as `deployment.approve_break_glass`, and notified to the
 * project's owners and maintainers. Not for the admin's own request: someone else must still look at it.
 */
export async function breakGlassDeployment(
  deps: GitOpsDeps,
  actor: Actor,
  input: { deploymentId: string; reason: string },
): Promise<DeploymentDetail> {
  await expireIfDue(deps, input.deploymentId);
  await mutate(
    deps,
    { actor },
    { action: "deployment.approve_break_glass", resourceType: "deployment" },
    async (tx, audit) => {
      const d = await loadForUpdate(tx, input.deploymentId);
      audit.resourceId = d.id;
      const { env, subject } = await authorizeEnvironment(tx, actor, "deployment.approve", d.environmentId, audit);
      if (subject.orgRole !== "admin" && !actor.user.isPlatformAdmin) {
        const has = subject.orgRole ? `organization ${subject.orgRole}` : "no role in the organization";
        throw new ForbiddenError(
          `Forbidden: approving break glass requires organization admin (you have ${has})`,
          "organization admin",
        ).because("approvals.break_glass_admin");
      }
      const reason = input.reason.trim();
      if (!reason) throw InputError.field("reason", "is required: say why the approval cannot wait");
      if (d.requestedById === actor.user.id) {
        throw new ForbiddenError(
          "Forbidden: break glass is for someone else's request, not your own",
          "another organization admin",
        ).because("approvals.break_glass_own");
      }
      const now = deps.clock.now();
      if (d.status !== "awaiting_approval")
        throw deploymentStepRefused(isDeploymentStatus(d.status) ? d.status : "pending", "approve");
      if (d.approvalExpiresAt && d.approvalExpiresAt <= now) throw deploymentStepRefused("expired", "approve");
      const quorum = await countApprovals(tx, d, env);
      const breakGlass = { by: actor.user.username, reason, at: now.toISOString() };
      const row = await applyEvent(tx, d, "approve", {
        now,
        message: `break glass by ${actor.user.username} (${quorum.message}): ${reason}`,
        set: { request: { ...(d.request as Record<string, unknown>), breakGlass } },
      });
      await enqueueCommit(tx, row);
      audit.changes = {
        before: { status: d.status, approvals: quorum.counted.length, required: quorum.required },
        after: { status: row.status, breakGlass: { by: breakGlass.by, reason } },
      };
      // The requester hears their request was approved; the project's keepers, that it skipped its approvals.
      await notifyDeployment(tx, row, "deployment.approved", [row.requestedById], {
        actorId: actor.user.id,
        extra: { breakGlassReason: reason },
      });
      const keepers = await projectKeepers(tx, d.projectId);
      await notifyDeployment(
        tx,
        row,
        "deployment.break_glass",
        keepers.filter((id) => id !== row.requestedById),
        { actorId: actor.user.id, extra: { approvedBy: actor.user.username, reason } },
      );
    },
  );
  return getDeployment(deps, actor, input.deploymentId);
}

/**
 * The same change requested again, under the environment's rule as it is now: for a request that was
 * cancelled (blocked for lack of approvers, say), rejected or expired. A rollback is requested again as a
 * rollback to the same deployment.
 */
export async function requestDeploymentAgain(
  deps: GitOpsDeps,
  actor: Actor,
  input: { deploymentId: string },
): Promise<DeploymentDetail> {
  const [d] = await deps.db.select().from(deployments).where(eq(deployments.id, input.deploymentId));
  if (!d) throw new NotFoundError("Deployment");
  const request = d.request as { spec?: DeploySpec; message?: string | null };
  const allowed = await authorizeEnvironment(deps.db, actor, "deployment.create", d.environmentId).then(
    () => true,
    () => false,
  );
  // Refused (and audited as a refused request) exactly as a new request would be.
  if (!allowed) return requestDeployment(deps, actor, { environmentId: d.environmentId, spec: request.spec ?? {} });
  if (!["cancelled", "rejected", "expired"].includes(d.status)) {
    throw InputError.field(
      "deploymentId",
      "can be requested again only once it is cancelled, rejected or expired: cancel it first",
    );
  }
  if (d.method === "rollback" && d.rollbackOfId) {
    return rollbackDeployment(deps, actor, { deploymentId: d.rollbackOfId, message: request.message ?? undefined });
  }
  if (d.method !== "gitops-ui" || !request.spec) {
    throw InputError.field("deploymentId", "was not requested through the platform: there is no request to repeat");
  }
  return requestDeployment(deps, actor, {
    environmentId: d.environmentId,
    spec: request.spec,
    message: request.message ?? undefined,
    promotedFromId: d.promotedFromId ?? undefined,
  });
}

/** Job: approvals that waited too long expire (also checked when someone tries to approve). */
export async function expireApprovals(deps: GitOpsDeps): Promise<number> {
  const now = deps.clock.now();
  const due = await deps.db
    .select()
    .from(deployments)
    .where(and(eq(deployments.status, "awaiting_approval"), lt(deployments.approvalExpiresAt, now)));
  for (const d of due) await expireIfDue(deps, d.id);
  return due.length;
}

/** Marks one deployment expired when its approval window has elapsed (own transaction). */
async function expireIfDue(deps: GitOpsDeps, deploymentId: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const [row] = await tx.select().from(deployments).where(eq(deployments.id, deploymentId)).for("update");
    const now = deps.clock.now();
    if (row?.status === "awaiting_approval" && row.approvalExpiresAt && row.approvalExpiresAt <= now) {
      await applyEvent(tx, row, "expire", { now, message: "approval window elapsed" });
    }
  });
}
