// Manual deployments: made outside the platform, recorded here, their progress reported by hand.
import type { DeploymentDetail } from "@juanie/contracts";
import { authorizeEnvironment } from "../environments/access.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { mutate } from "../shared/mutation.ts";
import { deploymentRefused } from "./messages.ts";
import { getDeployment } from "./queries.ts";
import { applyEvent, insertDeployment, loadForUpdate } from "./service.ts";

export async function createManualDeployment(
  deps: GitOpsDeps,
  actor: Actor,
  input: {
    environmentId: string;
    version: string;
    commitSha?: string;
    branch?: string;
    strategy: "rolling" | "blue_green" | "canary";
  },
): Promise<DeploymentDetail> {
  const id = await mutate(
    deps,
    { actor },
    { action: "deployment.manual", resourceType: "deployment" },
    async (tx, audit) => {
      const { env } = await authorizeEnvironment(tx, actor, "deployment.create", input.environmentId, audit);
      const d = await insertDeployment(
        tx,
        {
          projectId: env.projectId,
          environmentId: env.id,
          method: "manual",
          status: "pending",
          request: { version: input.version, strategy: input.strategy },
          version: input.version,
          strategy: input.strategy,
          branch: input.branch ?? null,
          commitSha: null,
          commitMessage: input.commitSha ? `manual deployment of ${input.commitSha}` : null,
          baseSha: input.commitSha ?? null,
          requestedById: actor.user.id,
        },
        `recorded by ${actor.user.username}`,
      );
      audit.resourceId = d.id;
      audit.changes = { after: { environment: env.name, version: input.version, strategy: input.strategy } };
      return d.id;
    },
  );
  return getDeployment(deps, actor, id);
}

export async function reportManualDeployment(
  deps: GitOpsDeps,
  actor: Actor,
  input: { deploymentId: string; event: "start" | "succeed" | "fail" | "cancel"; message?: string },
): Promise<DeploymentDetail> {
  await mutate(
    deps,
    { actor },
    { action: "deployment.manual_status", resourceType: "deployment" },
    async (tx, audit) => {
      const d = await loadForUpdate(tx, input.deploymentId);
      audit.resourceId = d.id;
      await authorizeEnvironment(tx, actor, "deployment.create", d.environmentId, audit);
      if (d.method !== "manual") throw deploymentRefused("is not a manual deployment: its status follows Git");
      const row = await applyEvent(tx, d, input.event, {
        now: deps.clock.now(),
        message: input.message ?? null,
        set: input.event === "fail" ? { error: input.message ?? "failed" } : {},
      });
      audit.changes = { before: { status: d.status }, after: { status: row.status } };
    },
  );
  return getDeployment(deps, actor, input.deploymentId);
}
