import { describe, expect, it } from "vitest";
import {
  type DeploymentEvent,
  type DeploymentStatus,
  deploymentEvents,
  deploymentStatuses,
  isTerminal,
  transitionDeployment,
} from "./state.ts";

/** Every allowed transition; any (status, event) pair not listed must be refused. */
const allowed: [DeploymentStatus, DeploymentEvent, DeploymentStatus][] = [
  ["pending", "submit", "queued"],
  ["pending", "request_approval", "awaiting_approval"],
  ["pending", "observe", "committed"],
  ["pending", "start", "running"],
  ["pending", "cancel", "cancelled"],
  ["pending", "fail", "failed"],
  ["awaiting_approval", "approve", "queued"],
  ["awaiting_approval", "reject", "rejected"],
  ["awaiting_approval", "expire", "expired"],
  ["awaiting_approval", "cancel", "cancelled"],
  ["queued", "start_commit", "committing"],
  ["queued", "cancel", "cancelled"],
  ["queued", "commit_failed", "failed"],
  ["committing", "commit_succeeded", "committed"],
  ["committing", "commit_failed", "failed"],
  ["committing", "requeue", "queued"],
  ["committing", "cancel", "cancelled"],
  ["committed", "roll_back", "rolled_back"],
  ["committed", "fetch", "fetched"],
  ["committed", "apply", "applied"],
  ["committed", "become_healthy", "healthy"],
  ["committed", "rollout_fail", "failed"],
  ["committed", "supersede", "superseded"],
  ["fetched", "apply", "applied"],
  ["fetched", "become_healthy", "healthy"],
  ["fetched", "rollout_fail", "failed"],
  ["fetched", "supersede", "superseded"],
  ["fetched", "roll_back", "rolled_back"],
  ["applied", "become_healthy", "healthy"],
  ["applied", "rollout_fail", "failed"],
  ["applied", "supersede", "superseded"],
  ["applied", "roll_back", "rolled_back"],
  ["healthy", "roll_back", "rolled_back"],
  ["failed", "apply", "applied"],
  ["failed", "become_healthy", "healthy"],
  ["running", "succeed", "succeeded"],
  ["running", "fail", "failed"],
  ["running", "cancel", "cancelled"],
  ["succeeded", "roll_back", "rolled_back"],
];

describe("deployment state machine", () => {
  const table = deploymentStatuses.flatMap((from) => deploymentEvents.map((event) => [from, event] as const));

  it.each(table)("%s --%s-->", (from, event) => {
    const expected = allowed.find(([f, e]) => f === from && e === event)?.[2];
    const t = transitionDeployment(from, event);
    if (expected) {
      expect(t).toEqual({ ok: true, to: expected });
    } else {
      expect(t.ok).toBe(false);
      if (!t.ok) expect(t.error).toMatch(/^a deployment that is .+ cannot .+$/);
    }
  });

  it("nothing leaves a terminal status", () => {
    const terminal = deploymentStatuses.filter(isTerminal);
    expect(terminal.sort()).toEqual(["cancelled", "expired", "rejected", "rolled_back", "superseded"]);
  });

  it("a deployment that waits for approval can never be pushed without an approval", () => {
    // From awaiting_approval, the only road to committing passes through approve → queued.
    const next = deploymentEvents
      .map((e) => transitionDeployment("awaiting_approval", e))
      .flatMap((t) => (t.ok ? [t.to] : []));
    expect(next).not.toContain("committing");
    expect(next).not.toContain("committed");
  });
});
