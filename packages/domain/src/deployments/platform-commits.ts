import { deployments, type Executor } from "@juanie/db";
import { and, arrayOverlaps, eq, inArray, or } from "drizzle-orm";

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
  // The SHA it committed, or one it recorded just before pushing (a push a crash interrupted may still
  // have landed: recovery records it as the deployment's commit, push detection must not take it for a person's).
  const rows = await db
    .select({ sha: deployments.commitSha, pushed: deployments.pushShas })
    .from(deployments)
    .where(
      and(
        eq(deployments.repositoryId, repositoryId),
        inArray(deployments.method, ["gitops-ui", "rollback"]),
        or(inArray(deployments.commitSha, shas), arrayOverlaps(deployments.pushShas, shas)),
      ),
    );
  const wanted = new Set(shas);
  return new Set(rows.flatMap((r) => [...(r.sha ? [r.sha] : []), ...r.pushed].filter((sha) => wanted.has(sha))));
}
