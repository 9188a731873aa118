import { emailOutbox, invitations, notifications, organizations, users } from "@juanie/db";
import { and, eq, sql } from "drizzle-orm";
import { runFluxOperation } from "../clusters/flux.ts";
import { recordAppliedRevision, syncEnvironment } from "../deployments/push.ts";
import { runCommitJob } from "../deployments/recovery.ts";
import { applyEnvironmentGitOps, nudgeFlux, removeEnvironmentGitOps } from "../environments/gitops.ts";
import { notify } from "../notifications/service.ts";
import { invitationUrl } from "../orgs/invitations.ts";
import { initializeProject } from "../projects/service.ts";
import type { GitOpsDeps } from "../shared/deps.ts";
import type { JobName, JobPayloads } from "./queue.ts";

export interface Mailer {
  /** False when no mail server is configured: the message is kept in the outbox as `not_configured`. */
  readonly configured: boolean;
  send(msg: { to: string; subject: string; text: string }): Promise<void>;
}

export type JobDeps = GitOpsDeps & { mailer: Mailer };
type Handlers = { [N in JobName]: (deps: JobDeps, payload: JobPayloads[N]) => Promise<void> };

/** The in-app notification and the e-mail for a new invitation. Safe to retry. */
async function notifyInvitation(deps: JobDeps, payload: JobPayloads["invitation.notify"]) {
  const { invitationId, sealedToken } = payload;
  // Jobs enqueued before tokens were sealed carry the token itself.
  const token = sealedToken ? deps.secrets.decrypt(sealedToken) : ((payload as { token?: string }).token ?? "");
  const [row] = await deps.db
    .select({ inv: invitations, org: organizations, inviter: users })
    .from(invitations)
    .innerJoin(organizations, eq(organizations.id, invitations.organizationId))
    .leftJoin(users, eq(users.id, invitations.invitedById))
    .where(eq(invitations.id, invitationId));
  if (row?.inv.status !== "pending") return;
  const { inv, org, inviter } = row;
  const inviterName = inviter?.displayName ?? "Someone";
  const [already] = await deps.db
    .select({ id: notifications.id })
    .from(notifications)
    .where(and(eq(notifications.kind, "invitation.received"), sql`${notifications.data}->>'invitationId' = ${inv.id}`));
  if (inv.inviteeUserId && !already) {
    await deps.db.transaction(async (tx) => {
      await notify(
        tx,
        inv.inviteeUserId!,
        "invitation.received",
        {
          organizationName: org.name,
          organizationSlug: org.slug,
          role: inv.role,
          invitedBy: inviterName,
          invitationId: inv.id,
        },
        "/notifications",
      );
    });
  }
  if (inv.email) {
    const text = (link: string) =>
      `${inviterName} invited you to join the organization "${org.name}" as ${inv.role}.\n\nAccept or decline: ${link}\nThe invitation expires on ${inv.expiresAt.toISOString()}.\n`;
    const msg = {
      to: inv.email,
      subject: `${inviterName} invited you to ${org.name} on Juanie`,
      text: text(invitationUrl(deps.config.publicUrl, token)),
    };
    let status = "not_configured";
    let error: string | null = null;
    if (deps.mailer.configured) {
      try {
        await deps.mailer.send(msg);
        status = "sent";
      } catch (err) {
        status = "failed";
        error = err instanceof Error ? err.message.slice(0, 500) : "send failed";
      }
    }
    // The outbox shows what was (not) sent, but not the link: it would let anyone who reads the table
    // accept the invitation. Whoever needs it again gets a new invitation.
    await deps.db.insert(emailOutbox).values({
      to: msg.to,
      subject: msg.subject,
      body: text(invitationUrl(deps.config.publicUrl, "[link not stored]")),
      status,
      error,
      sentAt: status === "sent" ? deps.clock.now() : null,
    });
    if (status === "failed") throw new Error(`sending invitation e-mail failed: ${error}`);
  }
}

export const jobHandlers: Handlers = {
  "invitation.notify": notifyInvitation,
  "project.initialize": (deps, { projectId }) => initializeProject(deps, projectId),
  "deployment.commit": (deps, { deploymentId }) => runCommitJob(deps, deploymentId),
  "environment.sync": async (deps, { environmentId, appliedSha }) => {
    const { recorded } = await syncEnvironment(deps, environmentId);
    if (recorded > 0) await nudgeFlux(deps, environmentId);
    if (appliedSha) await recordAppliedRevision(deps, environmentId, appliedSha);
  },
  "flux.operation": (deps, payload) => runFluxOperation(deps, payload),
  "environment.gitops.apply": (deps, { environmentId }) => applyEnvironmentGitOps(deps, environmentId),
  "environment.gitops.remove": (deps, payload) => removeEnvironmentGitOps(deps, payload),
};
