import type { BranchProtection } from "@juanie/contracts";
import { repositories } from "@juanie/db";
import { ProviderError } from "@juanie/providers";
import { eq } from "drizzle-orm";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { authorizeEnvironment } from "./access.ts";

/**
 * Whether the Git host protects the environment's branch, as the repository's own credential sees it
 * (GitHub and GitLab report it on the branch). Unknown, with the reason, for plain Git, an SSH key (no API
 * token), or an API that refused: the environment settings then only explain how to protect the branch.
 */
export async function branchProtectionOf(
  deps: GitOpsDeps,
  actor: Actor,
  environmentId: string,
): Promise<BranchProtection> {
  const { env } = await authorizeEnvironment(deps.db, actor, "project.read", environmentId);
  const [repo] = env.repositoryId
    ? await deps.db.select().from(repositories).where(eq(repositories.id, env.repositoryId))
    : [];
  const base = { branch: env.branch, settingsUrl: null };
  if (!repo || !env.branch) {
    return { ...base, provider: "git", status: "unknown", reason: "The environment has no repository and branch yet." };
  }
  const settingsUrl = repo.webUrl ? settingsUrlOf(repo.provider, repo.webUrl) : null;
  if (repo.provider === "git" || !repo.apiUrl || !repo.fullName) {
    return {
      provider: repo.provider === "git" ? "git" : repo.provider,
      branch: env.branch,
      settingsUrl,
      status: "unknown",
      reason: "The repository is connected with plain Git: the platform cannot ask the host about branch protection.",
    };
  }
  if (repo.authType !== "token") {
    return {
      provider: repo.provider,
      branch: env.branch,
      settingsUrl,
      status: "unknown",
      reason:
        "The repository is connected with an SSH key: asking the host about branch protection needs an API token.",
    };
  }
  try {
    const api = deps.providers({
      kind: repo.provider,
      apiUrl: repo.apiUrl,
      token: deps.secrets.decrypt(repo.credential),
    });
    const branches = await api.listBranches(repo.fullName);
    const b = branches.find((x) => x.name === env.branch);
    if (!b) {
      return {
        provider: repo.provider,
        branch: env.branch,
        settingsUrl,
        status: "unknown",
        reason: `The branch ${env.branch} does not exist in the repository yet.`,
      };
    }
    return {
      provider: repo.provider,
      branch: env.branch,
      settingsUrl,
      status: b.protected ? "protected" : "unprotected",
      reason: null,
    };
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    return { provider: repo.provider, branch: env.branch, settingsUrl, status: "unknown", reason: err.message };
  }
}

function settingsUrlOf(provider: "github" | "gitlab" | "git", webUrl: string): string | null {
  const base = webUrl.replace(/\/+$/, "");
  if (provider === "github") return `${base}/settings/branches`;
  if (provider === "gitlab") return `${base}/-/settings/repository`;
  return null;
}
