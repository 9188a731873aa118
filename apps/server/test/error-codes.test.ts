import { ConflictError, decide, deniedError, InputError, NotFoundError, UnauthenticatedError } from "@juanie/domain";
import { deploySpecSchema } from "@juanie/manifests";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { unmeetableRule } from "../../../packages/domain/src/deployments/approvals.ts";
import { deploymentStepRefused } from "../../../packages/domain/src/deployments/messages.ts";
import { details } from "../src/trpc/trpc.ts";

/** An error as the API answers it: the English message stays, stable names and parameters come along. */
const answer = (cause: Error) => details(new TRPCError({ code: "BAD_REQUEST", message: cause.message, cause }));

function zodError(schema: z.ZodType, input: unknown): z.ZodError {
  const result = schema.safeParse(input);
  if (result.success) throw new Error("expected a failure");
  return result.error;
}

describe("API error details", () => {
  it("input errors: the English message and field errors, and each issue with its rule and parameters", () => {
    const input = z.object({
      projectId: z.uuid({ message: "must be a UUID" }),
      replicas: z.number().int().max(100),
      spec: deploySpecSchema,
    });
    const d = answer(zodError(input, { projectId: "x", replicas: 101, spec: { image: "nginx" } }));
    expect(d.code).toBe("INVALID_INPUT");
    expect(d.message).toMatch(/^Invalid input: projectId: must be a UUID; replicas: /);
    expect(d.fieldErrors).toMatchObject({ projectId: ["must be a UUID"] });
    expect(d.issues).toEqual([
      { field: "projectId", rule: "uuid", message: "must be a UUID" },
      { field: "replicas", rule: "too_big", params: { max: 100 }, message: expect.any(String) },
      {
        field: "spec.image",
        rule: "deploy.imageTag",
        message: "must name a tag or a digest, like app:1.2.3 or app@sha256:…",
      },
    ]);
  });

  it("deploy form rules are named after the form's rules", () => {
    const d = answer(zodError(z.object({ spec: deploySpecSchema }), { spec: { replicas: 5000 } }));
    expect(d.issues).toEqual([
      { field: "spec.replicas", rule: "deploy.replicas", message: "must be an integer from 0 to 1000" },
    ]);
  });

  it("an approval rule that cannot be met: the reason, and the field issue, with the count", () => {
    const d = answer(unmeetableRule(2));
    expect(d).toMatchObject({
      code: "INVALID_INPUT",
      reason: "approvals.quorum_unreachable",
      params: { max: 2 },
      issues: [{ field: "minApprovals", rule: "approvals.quorum_unreachable", params: { max: 2 } }],
    });
    expect(d.message).toContain("must be at most 2: only 2 people other than the requester");
    expect(answer(unmeetableRule(0)).reason).toBe("approvals.no_approver");
    expect(answer(unmeetableRule(1)).reason).toBe("approvals.quorum_one");
  });

  it("not found, denied, conflicts and refused steps carry their names", () => {
    expect(answer(new NotFoundError("Team member"))).toEqual({
      code: "NOT_FOUND",
      message: "Team member not found",
      reason: "not_found",
      params: { entity: "team_member" },
    });

    const decision = decide({ isPlatformAdmin: false, orgRole: "member", projectRole: "viewer" }, "project.update");
    if (decision.allowed) throw new Error("expected a denial");
    expect(answer(deniedError(decision))).toEqual({
      code: "FORBIDDEN",
      message: "Forbidden: changing project settings requires project maintainer (you have project viewer)",
      requiredRole: "project maintainer",
      reason: "forbidden.action",
      params: { action: "project.update", role: "project maintainer", has: "project viewer" },
    });

    const taken = answer(new ConflictError('Project slug "web" is already taken', { slug: ["is already taken"] }));
    expect(taken.issues).toEqual([{ field: "slug", rule: "taken", message: "is already taken" }]);

    const refused = answer(deploymentStepRefused("rejected", "approve"));
    expect(refused).toMatchObject({ reason: "deployments.step_refused", params: { status: "rejected" } });
    expect(refused.message).toBe("This deployment was already rejected");

    expect(answer(new UnauthenticatedError()).reason).toBe("auth.sign_in_required");
    // A field error the catalog does not know keeps its English text, under the rule `message`.
    expect(answer(InputError.field("url", "could not be used: boom")).issues).toEqual([
      { field: "url", rule: "message", message: "could not be used: boom" },
    ]);
  });
});
