import { type DeploymentDetail, type DeploymentSummary, deploymentStatusValues } from "@juanie/contracts";

export { deploymentMethods, deploymentStatusValues as deploymentStatuses } from "@juanie/contracts";

const statusList: readonly string[] = deploymentStatusValues;

export type DeploymentStatus = DeploymentSummary["status"];
export type DeploymentMethod = DeploymentSummary["method"];

/** Each has a label under `deployments.strategies`. */
export const deploymentStrategies = ["rolling", "blue_green", "canary"] as const;
export type DeploymentStrategy = (typeof deploymentStrategies)[number];

/** Statuses that still change on their own: the detail page polls while one of these holds. */
export const activeStatuses: readonly DeploymentStatus[] = [
  "pending",
  "awaiting_approval",
  "queued",
  "committing",
  // Only on a cluster, and always followed by healthy, failed or superseded. (`committed` is final
  // for an environment without a cluster: `isRolloutMoving` covers it on a cluster.)
  "fetched",
  "applied",
  "running",
];

export function isActive(status: DeploymentStatus): boolean {
  return activeStatuses.includes(status);
}

type Tone = "neutral" | "info" | "success" | "warning" | "danger";

export const statusTones: Record<DeploymentStatus, Tone> = {
  pending: "neutral",
  awaiting_approval: "warning",
  queued: "info",
  committing: "info",
  committed: "success",
  fetched: "info",
  applied: "info",
  healthy: "success",
  superseded: "neutral",
  running: "info",
  succeeded: "success",
  rejected: "danger",
  expired: "neutral",
  cancelled: "neutral",
  failed: "danger",
  rolled_back: "warning",
};

export const methodTones: Record<DeploymentMethod, Tone> = {
  "gitops-ui": "info",
  "gitops-git": "neutral",
  manual: "warning",
  rollback: "warning",
};

/** Steps of the progress view; each has a label under `deployments.steps`. */
export const stepStates = ["waiting", "active", "done", "failed", "stopped", "untracked"] as const;
export type StepState = (typeof stepStates)[number];

/**
 * The Git commit step, the one step the platform tracks today: waiting (for approval or to start),
 * active (queued or pushing), done (a commit exists), failed, or stopped (rejected, expired, cancelled).
 */
export function gitStepState(deployment: Pick<DeploymentDetail, "status" | "commitSha">): StepState {
  switch (deployment.status) {
    case "pending":
    case "awaiting_approval":
      return "waiting";
    case "queued":
    case "committing":
    case "running":
      return "active";
    case "committed":
    case "fetched":
    case "applied":
    case "healthy":
    case "succeeded":
      return "done";
    case "superseded":
      return "stopped";
    case "rolled_back":
      return deployment.commitSha ? "done" : "stopped";
    case "failed":
      return "failed";
    case "rejected":
    case "expired":
    case "cancelled":
      return "stopped";
  }
}

/** What a manual deployment may report next, as the server's state machine allows it. */
export const manualEvents = ["start", "succeed", "fail", "cancel"] as const;
export type ManualEvent = (typeof manualEvents)[number];

export function allowedManualEvents(status: DeploymentStatus): ManualEvent[] {
  if (status === "pending") return ["start", "fail", "cancel"];
  if (status === "running") return ["succeed", "fail", "cancel"];
  return [];
}

export function shortSha(sha: string | null): string {
  return sha ? sha.slice(0, 7) : "";
}

export function firstLine(text: string | null): string {
  return (text ?? "").split("\n", 1)[0] ?? "";
}

export function isDeploymentStatus(value: string): value is DeploymentStatus {
  return statusList.some((status) => status === value);
}

/** A duration as the message `deployments.duration.<unit>` renders it. */
export function durationParts(ms: number): { key: "seconds" | "minutes" | "hours"; params: Record<string, number> } {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return { key: "hours", params: { hours, minutes } };
  if (minutes > 0) return { key: "minutes", params: { minutes, seconds } };
  return { key: "seconds", params: { seconds } };
}
