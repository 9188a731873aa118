import { deploymentApprovals, type deployments, type Executor, users } from "@juanie/db";
import { and, asc, eq, inArray } from "drizzle-orm";
import { type EnvironmentRow, eligibleApprovers } from "../environments/access.ts";
import { InputError } from "../shared/errors.ts";

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

/**
 * How many approvals a request to this environment can get at most: the people who may approve deployments
 * to it, less one — the requester (who needs the deploy permission too, and never approves their own).
 */
export async function possibleApprovals(db: Executor, env: Pick<EnvironmentRow, "id" | "projectId">): Promise<number> {
  return Math.max(0, (await eligibleApprovers(db, env)).length - 1);
}

/** The field error of a rule no request can meet, with the count of people who can approve. */
export function unmeetableRule(possible: number): InputError {
  const who = possible === 1 ? "only 1 person" : `only ${possible} people`;
  return InputError.field(
    "minApprovals",
    `must be at most ${possible}: ${who} other than the requester can approve deployments to this environment${possible === 0 ? " (give another member the deploy permission, or turn approvals off)" : ""}`,
    { rule: quorumRule(possible), params: { max: possible } },
  ).because(quorumRule(possible), { max: possible });
}

function quorumRule(possible: number): string {
  if (possible === 0) return "approvals.no_approver";
  return possible === 1 ? "approvals.quorum_one" : "approvals.quorum_unreachable";
}

/** Refuses an approval rule that no request could meet (approvals on, more of them than people who can give them). */
export async function assertRuleCanBeMet(
  db: Executor,
  env: Pick<EnvironmentRow, "id" | "projectId">,
  rule: { approvalRequired: boolean; minApprovals: number },
): Promise<void> {
  if (!rule.approvalRequired) return;
  const possible = await possibleApprovals(db, env);
  if (rule.minApprovals > possible) throw unmeetableRule(possible);
}

export interface ApprovalBlocked {
  /** Approvals still needed. */
  needed: number;
  /** Approvals still possible: people who may approve and have not decided yet. */
  possible: number;
  /** Who could still approve (display names). */
  approvers: string[];
}

/**
 * A waiting request that can no longer reach its quorum (members left or lost the permission): how many
 * approvals it still needs, how many it can still get, and from whom. Null when it can still be completed.
 */
export async function approvalBlocked(
  db: Executor,
  d: DeploymentRow,
  env: EnvironmentRow,
): Promise<ApprovalBlocked | null> {
  if (d.status !== "awaiting_approval") return null;
  const quorum = await countApprovals(db, d, env);
  const needed = Math.max(0, quorum.required - quorum.counted.length);
  const decided = new Set(
    (
      await db
        .select({ userId: deploymentApprovals.userId })
        .from(deploymentApprovals)
        .where(eq(deploymentApprovals.deploymentId, d.id))
    ).map((a) => a.userId),
  );
  const open = (await eligibleApprovers(db, env)).filter((id) => id !== d.requestedById && !decided.has(id));
  if (open.length >= needed) return null;
  const people = open.length
    ? await db
        .select({ displayName: users.displayName, username: users.username })
        .from(users)
        .where(inArray(users.id, open))
        .orderBy(asc(users.username))
    : [];
  return { needed, possible: open.length, approvers: people.map((u) => u.displayName || u.username) };
}
