/**
 * The deployment state machine. Pure: the one place that knows which status follows which.
 *
 * UI road (gitops-ui, rollback):  pending ─submit→ queued ─start_commit→ committing ─commit_succeeded→ committed
 *                                 pending ─request_approval→ awaiting_approval ─approve→ queued
 *                                 awaiting_approval ─reject→ rejected | ─expire→ expired | ─cancel→ cancelled
 *                                 committing ─commit_failed→ failed (a conflict, a refused push …)
 *                                 committing ─requeue→ queued (the process committing it died and its commit is
 *                                   not on the branch: tried once more) | ─cancel→ cancelled (an administrator)
 * Git road (gitops-git):          pending ─observe→ committed
 * Manual:                         pending ─start→ running ─succeed→ succeeded | ─fail→ failed
 * Cluster side (Flux, as the status watch sees it), extending `committed`:
 *                                 committed ─fetch→ fetched ─apply→ applied ─become_healthy→ healthy
 *                                 (steps may be skipped when Flux moved faster than the watch saw it)
 *                                 committed|fetched|applied ─rollout_fail→ failed (Flux's reason and message)
 *                                 committed|fetched|applied ─supersede→ superseded (a newer revision was applied first)
 *                                 failed ─apply / become_healthy→ (Flux retried and the same revision went through;
 *                                 only for a rollout failure, never for a failed commit — the caller checks)
 * Any deployment that reached the branch may later be rolled back: ─roll_back→ rolled_back.
 */
export const deploymentStatuses = [
  "pending",
  "awaiting_approval",
  "queued",
  "committing",
  "committed",
  "fetched",
  "applied",
  "healthy",
  "superseded",
  "running",
  "succeeded",
  "rejected",
  "expired",
  "cancelled",
  "failed",
  "rolled_back",
] as const;
export type DeploymentStatus = (typeof deploymentStatuses)[number];

export const deploymentEvents = [
  "submit",
  "request_approval",
  "approve",
  "reject",
  "expire",
  "cancel",
  "start_commit",
  "commit_succeeded",
  "commit_failed",
  "requeue",
  "observe",
  "start",
  "succeed",
  "fail",
  "roll_back",
  "fetch",
  "apply",
  "become_healthy",
  "rollout_fail",
  "supersede",
] as const;
export type DeploymentEvent = (typeof deploymentEvents)[number];

const transitions: Record<DeploymentStatus, Partial<Record<DeploymentEvent, DeploymentStatus>>> = {
  pending: {
    submit: "queued",
    request_approval: "awaiting_approval",
    observe: "committed",
    start: "running",
    cancel: "cancelled",
    fail: "failed",
  },
  awaiting_approval: { approve: "queued", reject: "rejected", expire: "expired", cancel: "cancelled" },
  queued: { start_commit: "committing", cancel: "cancelled", commit_failed: "failed" },
  committing: { commit_succeeded: "committed", commit_failed: "failed", requeue: "queued", cancel: "cancelled" },
  committed: {
    fetch: "fetched",
    apply: "applied",
    become_healthy: "healthy",
    rollout_fail: "failed",
    supersede: "superseded",
    roll_back: "rolled_back",
  },
  fetched: {
    apply: "applied",
    become_healthy: "healthy",
    rollout_fail: "failed",
    supersede: "superseded",
    roll_back: "rolled_back",
  },
  applied: { become_healthy: "healthy", rollout_fail: "failed", supersede: "superseded", roll_back: "rolled_back" },
  healthy: { roll_back: "rolled_back" },
  superseded: {},
  running: { succeed: "succeeded", fail: "failed", cancel: "cancelled" },
  succeeded: { roll_back: "rolled_back" },
  rejected: {},
  expired: {},
  cancelled: {},
  failed: { apply: "applied", become_healthy: "healthy" },
  rolled_back: {},
};

export type DeploymentTransition = { ok: true; to: DeploymentStatus } | { ok: false; error: string };

export function transitionDeployment(from: DeploymentStatus, event: DeploymentEvent): DeploymentTransition {
  const to = transitions[from][event];
  return to
    ? { ok: true, to }
    : { ok: false, error: `a deployment that is ${from.replace("_", " ")} cannot ${event.replace("_", " ")}` };
}

/** Statuses of a deployment whose commit is on the environment's branch (rollback targets, push detection). */
export const landedStatuses = ["committed", "fetched", "applied", "healthy", "succeeded", "rolled_back"] as const;
/** Statuses the cluster side still moves forward. */
export const rolloutStatuses = ["committed", "fetched", "applied"] as const;

export function isLanded(status: string): boolean {
  return (landedStatuses as readonly string[]).includes(status);
}

export function isTerminal(status: DeploymentStatus): boolean {
  return Object.keys(transitions[status]).length === 0;
}

export function isDeploymentStatus(v: string): v is DeploymentStatus {
  return (deploymentStatuses as readonly string[]).includes(v);
}
