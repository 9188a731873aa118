import type { Executor } from "@juanie/db";
import { sql } from "drizzle-orm";

/** Every job the platform runs, with its payload. Handlers live in jobs/tasks.ts. */
export interface JobPayloads {
  /** The token travels only in the queue row (deleted when the job completes) so the e-mail can carry the link. */
  /** `sealedToken`: the invitation link's token, encrypted with the platform's secret key. */
  "invitation.notify": { invitationId: string; sealedToken: string };
  "project.initialize": { projectId: string };
  /** Commit and push a deployment (queue `repo:<id>`: one write per repository at a time). */
  "deployment.commit": { deploymentId: string };
  /** Record pushed commits of an environment's branch (queue `repo:<id>`). */
  /** `appliedSha`: a revision Flux applied that has no deployment yet: recorded even if it did not touch the path. */
  "environment.sync": { environmentId: string; appliedSha?: string };
  /** Install, upgrade or uninstall Flux in a cluster (queue `cluster:<id>`). */
  "flux.operation": { operationId: string };
  /** Apply an environment's Flux objects (Secret, GitRepository, Kustomization) to its cluster (queue `cluster:<id>`). */
  "environment.gitops.apply": { environmentId: string };
  /** Remove an environment's Flux objects from a cluster (the environment may be gone: its names travel here). */
  "environment.gitops.remove": { clusterId: string; name: string; fluxNamespace: string; environmentId: string | null };
}
export type JobName = keyof JobPayloads;

/**
 * Adds a job in the caller's transaction (graphile-worker's `add_job` SQL function), so the job
 * exists exactly when the state change that asked for it was committed.
 */
export async function enqueueJob<N extends JobName>(
  tx: Executor,
  name: N,
  payload: JobPayloads[N],
  opts: { jobKey?: string; queueName?: string; maxAttempts?: number } = {},
): Promise<void> {
  await tx.execute(
    sql`select graphile_worker.add_job(${name}, ${JSON.stringify(payload)}::json, queue_name => ${opts.queueName ?? null}, job_key => ${opts.jobKey ?? null}, max_attempts => ${opts.maxAttempts ?? 10})`,
  );
}
