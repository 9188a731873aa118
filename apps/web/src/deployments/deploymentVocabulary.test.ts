import { describe, expect, it } from "vitest";
import {
  allowedManualEvents,
  deploymentStatuses,
  durationParts,
  firstLine,
  gitStepState,
  isActive,
  isDeploymentStatus,
  shortSha,
} from "./deploymentVocabulary.ts";

describe("gitStepState", () => {
  it.each([
    ["pending", null, "waiting"],
    ["awaiting_approval", null, "waiting"],
    ["queued", null, "active"],
    ["committing", null, "active"],
    ["committed", "abc1234", "done"],
    ["succeeded", "abc1234", "done"],
    ["rolled_back", "abc1234", "done"],
    ["failed", null, "failed"],
    ["rejected", null, "stopped"],
    ["expired", null, "stopped"],
    ["cancelled", null, "stopped"],
  ] as const)("%s → %s", (status, commitSha, state) => {
    expect(gitStepState({ status, commitSha })).toBe(state);
  });
});

describe("deployment vocabulary", () => {
  it("polls exactly while a deployment can still move on its own or by a person", () => {
    expect(deploymentStatuses.filter(isActive)).toEqual([
      "pending",
      "awaiting_approval",
      "queued",
      "committing",
      "fetched",
      "applied",
      "running",
    ]);
  });

  it("offers the manual transitions the server's state machine allows", () => {
    expect(allowedManualEvents("pending")).toEqual(["start", "fail", "cancel"]);
    expect(allowedManualEvents("running")).toEqual(["succeed", "fail", "cancel"]);
    expect(allowedManualEvents("succeeded")).toEqual([]);
  });

  it("formats durations, SHAs and messages", () => {
    expect(durationParts(4_400)).toEqual({ key: "seconds", params: { seconds: 4 } });
    expect(durationParts(83_000)).toEqual({ key: "minutes", params: { minutes: 1, seconds: 23 } });
    expect(durationParts(3_900_000)).toEqual({ key: "hours", params: { hours: 1, minutes: 5 } });
    expect(shortSha("0123456789abcdef")).toBe("0123456");
    expect(shortSha(null)).toBe("");
    expect(firstLine("subject\n\nbody")).toBe("subject");
    expect(isDeploymentStatus("committed")).toBe(true);
    expect(isDeploymentStatus("healthy")).toBe(true);
    expect(isDeploymentStatus("deployed")).toBe(false);
  });
});
