import type { DeploymentDetail } from "@juanie/contracts";
import { describe, expect, it } from "vitest";
import { isRolloutMoving, rolloutSteps } from "./rolloutSteps.ts";

type Rollout = NonNullable<DeploymentDetail["rollout"]>;

function rollout(overrides: Partial<Rollout> = {}): Rollout {
  return {
    cluster: { id: "c1", name: "dev", simulated: true },
    namespace: "shop-development",
    committedAt: null,
    fetchedAt: null,
    appliedAt: null,
    healthyAt: null,
    reason: null,
    message: null,
    workloads: [],
    ...overrides,
  };
}

const states = (d: Parameters<typeof rolloutSteps>[0]) => rolloutSteps(d).map((s) => s.state);

describe("rolloutSteps", () => {
  it("follows a deployment from the commit to healthy", () => {
    const sha = "0a1b2c3";
    expect(states({ status: "queued", commitSha: null, rollout: rollout() })).toEqual([
      "active",
      "pending",
      "pending",
      "pending",
    ]);
    const committedAt = "2026-12-01T10:00:00.000Z";
    expect(states({ status: "committed", commitSha: sha, rollout: rollout({ committedAt }) })).toEqual([
      "done",
      "active",
      "pending",
      "pending",
    ]);
    const fetched = rollout({ committedAt, fetchedAt: "2026-12-01T10:00:01.000Z" });
    expect(states({ status: "fetched", commitSha: sha, rollout: fetched })).toEqual([
      "done",
      "done",
      "active",
      "pending",
    ]);
    const applied = { ...fetched, appliedAt: "2026-12-01T10:00:02.000Z" };
    expect(states({ status: "applied", commitSha: sha, rollout: applied })).toEqual(["done", "done", "done", "active"]);
    const healthy = { ...applied, healthyAt: "2026-12-01T10:00:05.000Z" };
    const steps = rolloutSteps({ status: "healthy", commitSha: sha, rollout: healthy });
    expect(steps.map((s) => s.state)).toEqual(["done", "done", "done", "done"]);
    expect(steps[3]).toEqual({ name: "healthy", state: "done", at: "2026-12-01T10:00:05.000Z" });
  });

  it("trusts the status when a step's time is missing (events coalesced)", () => {
    expect(states({ status: "healthy", commitSha: "0a1b2c3", rollout: rollout() })).toEqual([
      "done",
      "done",
      "done",
      "done",
    ]);
  });

  it("marks the step where Flux failed, after a successful commit", () => {
    const failed = rollout({
      committedAt: "2026-12-01T10:00:00.000Z",
      fetchedAt: "2026-12-01T10:00:01.000Z",
      appliedAt: "2026-12-01T10:00:02.000Z",
      reason: "HealthCheckFailed",
      message: "Deployment/shop/web: ImagePullBackOff",
    });
    expect(states({ status: "failed", commitSha: "0a1b2c3", rollout: failed })).toEqual([
      "done",
      "done",
      "done",
      "failed",
    ]);
    // Flux applied, then the workloads never became ready within the timeout.
    const unhealthy = rollout({
      committedAt: "2026-12-01T10:00:00.000Z",
      fetchedAt: "2026-12-01T10:00:01.000Z",
      reason: "HealthCheckFailed",
      message: "health check failed after 5m0s: timeout waiting for: [Deployment/shop/web status: 'InProgress']",
    });
    expect(states({ status: "failed", commitSha: "0a1b2c3", rollout: unhealthy })).toEqual([
      "done",
      "done",
      "done",
      "failed",
    ]);
    const invalid = { ...unhealthy, reason: "BuildFailed", message: "kustomize build failed" };
    expect(states({ status: "failed", commitSha: "0a1b2c3", rollout: invalid })).toEqual([
      "done",
      "done",
      "failed",
      "pending",
    ]);
    expect(states({ status: "failed", commitSha: null, rollout: rollout() })).toEqual([
      "failed",
      "pending",
      "pending",
      "pending",
    ]);
  });

  it("leaves the remaining steps pending when a newer deployment superseded it", () => {
    const superseded = rollout({ committedAt: "2026-12-01T10:00:00.000Z" });
    expect(states({ status: "superseded", commitSha: "0a1b2c3", rollout: superseded })).toEqual([
      "done",
      "pending",
      "pending",
      "pending",
    ]);
  });

  it("keeps following only deployments still moving on a cluster", () => {
    expect(isRolloutMoving({ status: "applied", commitSha: "a", rollout: rollout() })).toBe(true);
    expect(isRolloutMoving({ status: "committed", commitSha: "a", rollout: null })).toBe(false);
    expect(isRolloutMoving({ status: "healthy", commitSha: "a", rollout: rollout() })).toBe(false);
  });
});
