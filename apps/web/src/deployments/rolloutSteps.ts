import type { DeploymentDetail } from "@juanie/contracts";
import { gitStepState } from "./deploymentVocabulary.ts";

/** The four steps of a deployment to a cluster; each has a label under `deployments.rollout.steps`. */
export const rolloutStepNames = ["commit", "fetched", "applied", "healthy"] as const;
export type RolloutStepName = (typeof rolloutStepNames)[number];
export type RolloutStepState = "done" | "active" | "failed" | "pending";

export interface RolloutStep {
  name: RolloutStepName;
  state: RolloutStepState;
  /** When the step was reached (ISO), as Flux reported it. */
  at: string | null;
}

type RolloutSource = Pick<DeploymentDetail, "status" | "commitSha" | "rollout">;

/** How far each status has gone: a step is done when its time is known or the status is past it. */
const reached: Partial<Record<DeploymentDetail["status"], number>> = {
  committed: 0,
  fetched: 1,
  applied: 2,
  healthy: 3,
};

/** Statuses that still move on the cluster side: the page keeps following them. */
export function isRolloutMoving(deployment: RolloutSource): boolean {
  return Boolean(deployment.rollout) && ["committed", "fetched", "applied"].includes(deployment.status);
}

/**
 * Git commit → Flux fetched → applied → healthy, from the deployment's status and the times Flux
 * reported. The first step not done is `active` while the rollout moves, `failed` when the
 * deployment failed there (Flux's reason and message belong to it), and `pending` otherwise
 * (superseded, cancelled, waiting for approval).
 */
export function rolloutSteps(deployment: RolloutSource): RolloutStep[] {
  const r = deployment.rollout;
  const times = [r?.committedAt ?? null, r?.fetchedAt ?? null, r?.appliedAt ?? null, r?.healthyAt ?? null];
  const git = gitStepState(deployment);
  const committed =
    git === "done" || times[0] !== null || (deployment.status === "failed" && deployment.commitSha !== null);
  const rank = reached[deployment.status] ?? -1;
  // Flux's HealthCheckFailed comes after a successful apply: the health step is the one that failed.
  const appliedBeforeFailure = deployment.status === "failed" && r?.reason === "HealthCheckFailed";
  const done = rolloutStepNames.map((name, i) => {
    if (i === 0) return committed;
    return times[i] !== null || rank >= i || (name === "applied" && appliedBeforeFailure);
  });
  const firstOpen = done.indexOf(false);
  return rolloutStepNames.map((name, i) => {
    let state: RolloutStepState = "pending";
    if (done[i]) state = "done";
    else if (i === firstOpen) {
      if (deployment.status === "failed") state = "failed";
      else if (i === 0) state = git === "active" ? "active" : "pending";
      else if (isRolloutMoving(deployment)) state = "active";
    }
    return { name, state, at: times[i] ?? null };
  });
}
