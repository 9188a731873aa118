import { describe, expect, it } from "vitest";
import { deploymentStepRefused } from "./messages.ts";
import { deploymentEvents, deploymentStatuses, transitionDeployment } from "./state.ts";

describe("deploymentStepRefused", () => {
  it("says a finished deployment is finished, in a sentence", () => {
    expect(deploymentStepRefused("rejected", "approve").message).toBe("This deployment was already rejected");
    expect(deploymentStepRefused("rejected", "reject").fieldErrors).toEqual({ deploymentId: ["was already rejected"] });
    expect(deploymentStepRefused("expired", "approve").message).toBe("This deployment has expired: request it again");
    expect(deploymentStepRefused("committed", "cancel").message).toBe("This deployment was already committed");
  });

  it("says what an unfinished deployment cannot do now", () => {
    expect(deploymentStepRefused("queued", "approve").message).toBe(
      "This deployment is queued and cannot be approved now",
    );
    expect(deploymentStepRefused("awaiting_approval", "start_commit").message).toBe(
      "This deployment is awaiting approval and cannot be committed now",
    );
  });

  it("has a sentence for every refused step of the state machine", () => {
    for (const from of deploymentStatuses) {
      for (const event of deploymentEvents) {
        if (transitionDeployment(from, event).ok) continue;
        const message = deploymentStepRefused(from, event).message;
        expect(message).toMatch(/^This deployment (was|has|is) [a-z ,:]+[a-z]$/);
        expect(message).not.toContain("undefined");
      }
    }
  });
});
