import { deploymentApprovals, type deployments, type Executor } from "@juanie/db";
import { and, eq } from "drizzle-orm";
import { type EnvironmentRow, eligibleApprovers } from "../environments/access.ts";

type DeploymentRow = typeof deployments.$inferSelect;

export interface Quorum {
  /** Approvals the request needs: the rule in force when it was requested. */
  required: number;
  /** Approvers whose approval still counts (they may still approve deployments to the environment). */
  counted: string[];
  reached: boolean;
  /** For the timeline: who counted, and who no longer does. */
  message: string;
}

/**
 * Whether a waiting request has its approvals, decided when the last one arrives. Each approval is checked
 * again now: an approver who has since lost the deploy permission, or left the project, no longer counts
 * (their approval stays on record). The number needed is the request's own, taken when it was made (older
 * requests without one follow the environment).
 */
export async function countApprovals(tx: Executor, d: DeploymentRow, env: EnvironmentRow): Promise<Quorum> {
  const required = d.requiredApprovals ?? env.minApprovals;
  const approvals = await tx
    .select({ userId: deploymentApprovals.userId })
    .from(deploymentApprovals)
    .where(and(eq(deploymentApprovals.deploymentId, d.id), eq(deploymentApprovals.decision, "approved")));
  const eligible = new Set(await eligibleApprovers(tx, env));
  const counted = approvals.map((a) => a.userId).filter((id) => eligible.has(id) && id !== d.requestedById);
  const dropped = approvals.length - counted.length;
  return {
    required,
    counted,
    reached: counted.length >= required,
    message: `approved by ${counted.length} of ${required} required${dropped ? ` (${dropped} approval(s) no longer count: the approver lost the permission)` : ""}`,
  };
}
