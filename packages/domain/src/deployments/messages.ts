import { InputError } from "../shared/errors.ts";
import type { DeploymentEvent, DeploymentStatus } from "./state.ts";

/** How a finished deployment's status reads in a sentence ("This deployment was already …"). */
const finished: Partial<Record<DeploymentStatus, string>> = {
  rejected: "was already rejected",
  expired: "has expired: request it again",
  cancelled: "was already cancelled",
  failed: "has already failed",
  committed: "was already committed",
  succeeded: "has already succeeded",
  rolled_back: "was already rolled back",
  healthy: "is already healthy",
  superseded: "was superseded by a newer revision",
};

const verbs: Record<DeploymentEvent, string> = {
  submit: "be submitted",
  request_approval: "wait for approval",
  approve: "be approved",
  reject: "be rejected",
  expire: "expire",
  cancel: "be cancelled",
  start_commit: "be committed",
  commit_succeeded: "be marked committed",
  commit_failed: "be marked failed",
  requeue: "be queued again",
  observe: "be recorded",
  start: "be started",
  succeed: "be marked succeeded",
  fail: "be marked failed",
  roll_back: "be rolled back",
  fetch: "be marked fetched",
  apply: "be marked applied",
  become_healthy: "be marked healthy",
  rollout_fail: "be marked failed",
  supersede: "be marked superseded",
};

/**
 * The refusal of a step the deployment's status does not allow, as a sentence a person reads
 * ("This deployment was already rejected"), with the same rule on the `deploymentId` field.
 */
export function deploymentStepRefused(status: DeploymentStatus, event: DeploymentEvent): InputError {
  const rule = finished[status] ?? `is ${status.replace("_", " ")} and cannot ${verbs[event]} now`;
  const e = new InputError(`This deployment ${rule}`, { deploymentId: [rule] });
  e.issues = [{ field: "deploymentId", rule: "deployments.step_refused", params: { status }, message: rule }];
  return e.because("deployments.step_refused", { status });
}

/** A refusal about the deployment itself, as a sentence, with the same rule on the `deploymentId` field. */
export function deploymentRefused(rule: string): InputError {
  return new InputError(`This deployment ${rule}`, { deploymentId: [rule] });
}
