import type { Repository } from "@juanie/contracts";
import { type Executor, environments, repositories } from "@juanie/db";
import { GitError, type GitRemote, validateRemoteUrl } from "@juanie/git";
import { newRepositoryLayout } from "@juanie/manifests";
import { ProviderError, type ProviderKind, repositoryFullName } from "@juanie/providers";
import { and, asc, eq } from "drizzle-orm";
import { authorizeProject } from "../access/authorize.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { ConflictError, InputError, isUniqueViolation, NotFoundError } from "../shared/errors.ts";
import { randomToken } from "../shared/ids.ts";
import { mutate } from "../shared/mutation.ts";

export type RepositoryRow = typeof repositories.$inferSelect;

const defaultApiUrl: Record<ProviderKind, string> = { github: "https://api.github.com", gitlab: "https://gitlab.com" };

export function webhookUrl(publicUrl: string, repo: Pick<RepositoryRow, "id" | "provider">): string {
  const kind = repo.provider === "git" ? "generic" : repo.provider;
  return `${publicUrl.replace(/\/$/, "")}/api/webhooks/${kind}/${repo.id}`;
}

export function toRepository(deps: Pick<GitOpsDeps, "config">, r: RepositoryRow): Repository {
  return {
    id: r.id,
    projectId: r.projectId,
    provider: r.provider,
    url: r.url,
    fullName: r.fullName,
    webUrl: r.webUrl,
    authType: r.authType,
    defaultBranch: r.defaultBranch,
    webhookRegistered: r.webhookId !== null,
    webhookUrl: webhookUrl(deps.config.publicUrl, r),
    syncStatus: r.syncStatus,
    syncError: r.syncError,
    lastSyncedAt: r.lastSyncedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  };
}

/** The remote with its decrypted credentials, for the Git engine only. */
export function remoteOf(deps: Pick<GitOpsDeps, "secrets">, r: RepositoryRow): GitRemote {
  const secret = deps.secrets.decrypt(r.credential);
  return {
    url: r.url,
    credentials:
      r.authType === "token"
        ? { kind: "token", token: secret, username: r.username ?? undefined }
        : { kind: "ssh", privateKey: secret },
  };
}

/** Translates what Git said into a message that names the field to fix. Never echoes a secret. */
export function gitFailure(err: unknown, what = "the repository"): InputError {
  if (!(err instanceof GitError)) throw err;
  const byReason: Record<string, [string, string]> = {
    auth_failed: ["credential", "was refused by the Git host (authentication failed)"],
    no_write_access: ["credential", "can read the repository but cannot push to it (no write access)"],
    not_found: ["url", `does not name a repository the credentials can see (${what} was not found)`],
    network: ["url", "cannot be reached (network error)"],
    timeout: ["url", "did not answer in time"],
    invalid_url: ["url", err.message],
    branch_not_found: ["branch", "does not exist in the repository"],
  };
  const [field, rule] = byReason[err.reason] ?? ["url", `could not be used: ${err.message}`];
  return InputError.field(field, rule);
}

function providerFailure(err: unknown): InputError {
  if (!(err instanceof ProviderError)) throw err;
  const byReason: Record<string, [string, string]> = {
    auth_failed: ["credential", "was refused by the provider API (authentication failed)"],
    not_found: ["url", "was not found by the provider API"],
    forbidden: ["credential", "lacks the permission this needs"],
    conflict: ["name", "is already taken on the provider"],
  };
  const [field, rule] = byReason[err.reason] ?? ["apiUrl", `the provider API failed: ${err.message}`];
  return InputError.field(field, rule);
}

export async function listRepositories(deps: GitOpsDeps, actor: Actor, projectId: string): Promise<Repository[]> {
  await authorizeProject(deps.db, actor, "project.read", projectId);
  const rows = await deps.db
    .select()
    .from(repositories)
    .where(eq(repositories.projectId, projectId))
    .orderBy(asc(repositories.createdAt));
  return rows.map((r) => toRepository(deps, r));
}

export async function loadRepository(db: Executor, repositoryId: string): Promise<RepositoryRow> {
  const [repo] = await db.select().from(repositories).where(eq(repositories.id, repositoryId));
  if (!repo) throw new NotFoundError("Repository");
  return repo;
}

export interface ConnectRepositoryInput {
  projectId: string;
  provider: "github" | "gitlab" | "git";
  url: string;
  apiUrl?: string;
  credential:
    | { type: "token"; token: string; username?: string }
    | { type: "ssh_key"; privateKey: string; knownHosts?: string };
  registerWebhook: boolean;
}

/**
 * Checks read and write access with the real Git protocol before anything is stored, adds provider
 * metadata when an API is available, and stores the credential encrypted.
 */
export async function connectRepository(
  deps: GitOpsDeps,
  actor: Actor,
  input: ConnectRepositoryInput,
): Promise<Repository> {
  return mutate(deps, { actor }, { action: "repository.connect", resourceType: "repository" }, async (tx, audit) => {
    await authorizeProject(tx, actor, "repository.manage", input.projectId, audit);
    // After the authorization (an outsider learns nothing), inside the mutation (a refused URL is audited).
    const checked = validateRemoteUrl(input.url, {
      allowLocal: deps.gitops.allowLocalRepositories,
      allowInsecureHttp: deps.gitops.allowLocalRepositories,
    });
    if (!checked.ok) throw InputError.field("url", checked.message);
    if ((checked.transport === "ssh") !== (input.credential.type === "ssh_key")) {
      throw InputError.field(
        "credential",
        checked.transport === "ssh" ? "must be a deploy key for an SSH URL" : "must be a token for an HTTPS URL",
      );
    }
    const [dupe] = await tx
      .select({ id: repositories.id })
      .from(repositories)
      .where(and(eq(repositories.projectId, input.projectId), eq(repositories.url, input.url)));
    if (dupe)
      throw new ConflictError("This repository is already connected to the project", { url: ["is already connected"] });
    const secret = input.credential.type === "token" ? input.credential.token : input.credential.privateKey;
    const remote: GitRemote = {
      url: input.url,
      credentials:
        input.credential.type === "token"
          ? { kind: "token", token: input.credential.token, username: input.credential.username }
          : { kind: "ssh", privateKey: input.credential.privateKey, knownHosts: input.credential.knownHosts },
    };
    const access = await deps.git.checkAccess(remote, { write: true }).catch((err: unknown) => {
      throw gitFailure(err);
    });
    const provider = input.provider === "git" ? null : input.provider;
    const fullName = repositoryFullName(input.url);
    let webUrl: string | null = null;
    let defaultBranch = access.defaultBranch ?? "main";
    const apiUrl = provider ? (input.apiUrl ?? defaultApiUrl[provider]) : null;
    if (provider && fullName && input.credential.type === "token") {
      // Metadata is a bonus: plain Git already proved access, so a failing API only costs the extras.
      try {
        const meta = await deps
          .providers({ kind: provider, apiUrl: apiUrl!, token: input.credential.token })
          .getRepository(fullName);
        webUrl = meta.webUrl;
        defaultBranch = access.defaultBranch ?? meta.defaultBranch;
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        deps.logger.warn({ reason: err.reason, repository: fullName }, "provider metadata unavailable");
      }
    }
    const id = crypto.randomUUID();
    const hookSecret = randomToken(24);
    let webhookId: string | null = null;
    if (input.registerWebhook) {
      if (!provider || !fullName || input.credential.type !== "token") {
        throw InputError.field("registerWebhook", "needs a GitHub or GitLab repository connected with a token");
      }
      const hook = await deps
        .providers({ kind: provider, apiUrl: apiUrl!, token: input.credential.token })
        .registerWebhook(fullName, { url: webhookUrl(deps.config.publicUrl, { id, provider }), secret: hookSecret })
        .catch((err: unknown) => {
          throw providerFailure(err);
        });
      webhookId = hook.id;
    }
    try {
      const [row] = await tx
        .insert(repositories)
        .values({
          id,
          projectId: input.projectId,
          provider: input.provider,
          url: input.url,
          fullName,
          webUrl,
          apiUrl,
          authType: input.credential.type,
          username: input.credential.type === "token" ? (input.credential.username ?? null) : null,
          credential: deps.secrets.encrypt(secret),
          defaultBranch,
          webhookSecret: deps.secrets.encrypt(hookSecret),
          webhookId,
          syncStatus: "ok",
          lastSyncedAt: deps.clock.now(),
        })
        .returning();
      audit.resourceId = row!.id;
      audit.changes = {
        after: { provider: row!.provider, url: row!.url, authType: row!.authType, defaultBranch, webhook: !!webhookId },
      };
      return toRepository(deps, row!);
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ConflictError("This repository is already connected to the project", {
          url: ["is already connected"],
        });
      throw err;
    }
  });
}

/** Branches and recent commits through Git itself (works for any host); refreshes the sync status. */
export async function getRepositoryDetails(deps: GitOpsDeps, actor: Actor, repositoryId: string) {
  const repo = await loadRepository(deps.db, repositoryId);
  await authorizeProject(deps.db, actor, "project.read", repo.projectId);
  const remote = remoteOf(deps, repo);
  let branches: { name: string; sha: string }[] = [];
  let commits: { sha: string; subject: string; authorName: string; authoredAt: string; url: string | null }[] = [];
  let syncError: string | null = null;
  try {
    branches = await deps.git.listBranches(remote);
    if (branches.some((b) => b.name === repo.defaultBranch)) {
      const log = await deps.git.log(remote, repo.defaultBranch, { limit: 20 });
      commits = log.map((c) => ({
        sha: c.sha,
        subject: c.subject,
        authorName: c.authorName,
        authoredAt: c.authoredAt,
        url: commitUrl(repo, c.sha),
      }));
    }
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    syncError = gitFailure(err).message;
  }
  const [updated] = await deps.db
    .update(repositories)
    .set({ syncStatus: syncError ? "error" : "ok", syncError, lastSyncedAt: deps.clock.now() })
    .where(eq(repositories.id, repo.id))
    .returning();
  return { repository: toRepository(deps, updated!), branches, commits };
}

export function commitUrl(repo: Pick<RepositoryRow, "provider" | "webUrl">, sha: string): string | null {
  if (!repo.webUrl) return null;
  return repo.provider === "gitlab" ? `${repo.webUrl}/-/commit/${sha}` : `${repo.webUrl}/commit/${sha}`;
}

export async function disconnectRepository(deps: GitOpsDeps, actor: Actor, repositoryId: string): Promise<void> {
  await mutate(deps, { actor }, { action: "repository.disconnect", resourceType: "repository" }, async (tx, audit) => {
    const repo = await loadRepository(tx, repositoryId);
    audit.resourceId = repo.id;
    await authorizeProject(tx, actor, "repository.manage", repo.projectId, audit);
    const [used] = await tx
      .select({ name: environments.name })
      .from(environments)
      .where(eq(environments.repositoryId, repo.id));
    if (used) {
      throw InputError.field("repositoryId", `is used by environment "${used.name}": change its GitOps settings first`);
    }
    await tx.delete(repositories).where(eq(repositories.id, repo.id));
    audit.changes = { before: { url: repo.url, provider: repo.provider } };
  });
}

/** Replaces the token or key after checking it with Git. */
export async function updateRepositoryCredential(
  deps: GitOpsDeps,
  actor: Actor,
  input: { repositoryId: string; credential: ConnectRepositoryInput["credential"] },
): Promise<Repository> {
  return mutate(
    deps,
    { actor },
    { action: "repository.update_credential", resourceType: "repository" },
    async (tx, audit) => {
      const repo = await loadRepository(tx, input.repositoryId);
      audit.resourceId = repo.id;
      await authorizeProject(tx, actor, "repository.manage", repo.projectId, audit);
      if ((repo.authType === "token") !== (input.credential.type === "token")) {
        throw InputError.field(
          "credential",
          `must be a ${repo.authType === "token" ? "token" : "deploy key"} for this URL`,
        );
      }
      const secret = input.credential.type === "token" ? input.credential.token : input.credential.privateKey;
      const remote: GitRemote = {
        url: repo.url,
        credentials:
          input.credential.type === "token"
            ? { kind: "token", token: input.credential.token, username: input.credential.username }
            : { kind: "ssh", privateKey: input.credential.privateKey, knownHosts: input.credential.knownHosts },
      };
      await deps.git.checkAccess(remote, { write: true }).catch((err: unknown) => {
        throw gitFailure(err);
      });
      const [row] = await tx
        .update(repositories)
        .set({
          credential: deps.secrets.encrypt(secret),
          username: input.credential.type === "token" ? (input.credential.username ?? null) : null,
          syncStatus: "ok",
          syncError: null,
          updatedAt: deps.clock.now(),
        })
        .where(eq(repositories.id, repo.id))
        .returning();
      audit.changes = { after: { credential: "replaced" } };
      return toRepository(deps, row!);
    },
  );
}

/**
 * Writes the starter layout (k8s/base + one overlay per environment) as the first commit of an
 * empty repository, or onto its default branch when the layout is missing.
 */
export async function initializeRepositoryLayout(
  deps: GitOpsDeps,
  actor: Actor,
  input: { repositoryId: string; image: string; port: number },
): Promise<{ commitSha: string | null }> {
  return mutate(deps, { actor }, { action: "repository.initialize", resourceType: "repository" }, async (tx, audit) => {
    const repo = await loadRepository(tx, input.repositoryId);
    audit.resourceId = repo.id;
    const { project } = await authorizeProject(tx, actor, "repository.manage", repo.projectId, audit);
    const files = newRepositoryLayout({
      appName: project.slug,
      image: input.image,
      port: input.port,
      environments: [
        { name: "development", replicas: 1 },
        { name: "staging", replicas: 2 },
        { name: "production", replicas: 3 },
      ],
    });
    const remote = remoteOf(deps, repo);
    const trailers = { "Requested-by": `${actor.user.username}` };
    const access = await deps.git.checkAccess(remote, { write: false }).catch((err: unknown) => {
      throw gitFailure(err);
    });
    let sha: string | null;
    try {
      if (access.empty) {
        sha = (
          await deps.git.initialize(remote, {
            branch: repo.defaultBranch,
            files,
            message: "chore: initialise Kubernetes layout (Juanie)",
          })
        ).sha;
      } else {
        const result = await deps.git.commit(remote, {
          branch: repo.defaultBranch,
          message: "chore: add Kubernetes layout (Juanie)",
          trailers,
          edit: async (current) => {
            const existing = await current.list("k8s");
            if (existing.length)
              throw InputError.field("repositoryId", "already has a k8s/ directory: nothing was changed");
            return files;
          },
        });
        sha = result.sha;
      }
    } catch (err) {
      if (err instanceof GitError) throw gitFailure(err);
      throw err;
    }
    audit.changes = { after: { files: Object.keys(files).length, commit: sha } };
    return { commitSha: sha };
  });
}

/** Creates the repository on GitHub/GitLab, pushes the starter layout and connects it. */
export async function createRepository(
  deps: GitOpsDeps,
  actor: Actor,
  input: {
    projectId: string;
    provider: "github" | "gitlab";
    apiUrl?: string;
    token: string;
    namespace?: string;
    name: string;
    private: boolean;
    image: string;
    port: number;
  },
): Promise<Repository> {
  const apiUrl = input.apiUrl ?? defaultApiUrl[input.provider];
  // Authorized before anything is created on the provider; a denial or a provider failure is audited here,
  // the success by the connection below.
  const created = await mutate(
    deps,
    { actor },
    { action: "repository.connect", resourceType: "repository" },
    async (tx, audit) => {
      await authorizeProject(tx, actor, "repository.manage", input.projectId, audit);
      const repo = await deps
        .providers({ kind: input.provider, apiUrl, token: input.token })
        .createRepository({ namespace: input.namespace, name: input.name, private: input.private })
        .catch((err: unknown) => {
          throw providerFailure(err);
        });
      audit.unchanged = true;
      return repo;
    },
  );
  const repo = await connectRepository(deps, actor, {
    projectId: input.projectId,
    provider: input.provider,
    url: created.cloneUrl,
    apiUrl,
    credential: { type: "token", token: input.token },
    registerWebhook: false,
  });
  await initializeRepositoryLayout(deps, actor, { repositoryId: repo.id, image: input.image, port: input.port });
  return repo;
}
