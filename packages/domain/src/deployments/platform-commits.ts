import { deployments, type Executor } from "@juanie/db";
import { and, eq, inArray } from "drizzle-orm";

/**
 * Which of `shas` are commits the platform itself made for a deployment to this repository, by the SHA it
 * recorded — never by a `Juanie-Deployment:` trailer, which anyone can type into a commit message.
 */
export async function recordedPlatformCommits(
  db: Executor,
  repositoryId: string,
  shas: string[],
): Promise<Set<string>> {
  if (!shas.length) return new Set();
  const rows = await db
    .select({ sha: deployments.commitSha })
    .from(deployments)
    .where(
      and(
        eq(deployments.repositoryId, repositoryId),
        inArray(deployments.method, ["gitops-ui", "rollback"]),
        inArray(deployments.commitSha, shas),
      ),
    );
  return new Set(rows.flatMap((r) => (r.sha ? [r.sha] : [])));
}
