import type { Repository } from "@juanie/contracts";
import { type Executor, environments, repositories } from "@juanie/db";
import { GitError, type GitRemote, validateRemoteUrl } from "@juanie/git";
import { deploySpecRules, hasTagOrDigest, isImageReference, newRepositoryLayout } from "@juanie/manifests";
import { type CreatedRepository, ProviderError, type ProviderKind, repositoryFullName } from "@juanie/providers";
import { and, asc, eq } from "drizzle-orm";
import { authorizeProject } from "../access/authorize.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { ConflictError, InputError, isUniqueViolation, NotFoundError } from "../shared/errors.ts";
import { randomToken } from "../shared/ids.ts";
import { type AuditDraft, mutate } from "../shared/mutation.ts";

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
  if (r.authType === "none") return { url: r.url, credentials: { kind: "none" } };
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
  if (err.reason === "not_found") return InputError.field(field, rule, { rule: "git_not_found" });
  return InputError.field(field, rule);
}

export function providerFailure(err: unknown): InputError {
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
  credential: RepositoryCredential | { type: "none" };
  registerWebhook: boolean;
}

export type RepositoryCredential =
  | { type: "token"; token: string; username?: string }
  | { type: "ssh_key"; privateKey: string; knownHosts?: string };

/** The credential as the Git engine takes it. */
function gitCredentials(c: ConnectRepositoryInput["credential"]): GitRemote["credentials"] {
  if (c.type === "token") return { kind: "token", token: c.token, username: c.username };
  if (c.type === "ssh_key") return { kind: "ssh", privateKey: c.privateKey, knownHosts: c.knownHosts };
  return { kind: "none" };
}

// ---------------------------------------------------------------------------------------------
// Network first, then the transaction
// ---------------------------------------------------------------------------------------------

type ProjectAccess = Awaited<ReturnType<typeof authorizeProject>>;
type RepositoryAccess = ProjectAccess & { repo: RepositoryRow };

/**
 * Work on the network (Git, a provider API) done before the transaction that records it, with the access
 * decision it was done under. null: the actor was not authorized and nothing was done (the transaction then
 * denies and audits as usual). Otherwise its result, or its error, to be thrown inside the transaction where it
 * is audited as failed.
 */
type Prepared<A, T> = { access: A; ok: true; value: T } | { access: A; ok: false; error: unknown } | null;

/** Authorizes (without an audit entry), then does the network work: no transaction is open meanwhile. */
async function beforeTx<A, T>(authorize: () => Promise<A>, work: (access: A) => Promise<T>): Promise<Prepared<A, T>> {
  let access: A;
  try {
    access = await authorize();
  } catch {
    return null;
  }
  try {
    return { access, ok: true, value: await work(access) };
  } catch (error) {
    return { access, ok: false, error };
  }
}

/**
 * Inside the transaction: what was done before it, with the audit entry filled in as the authorization would
 * have; its error is re-thrown (audited as failed). When nothing was done, `authorize` runs the authorization
 * again with the audit draft, so that the denial is audited. The decision is the one taken just before, as for
 * any check made ahead of a write under read-committed isolation.
 */
async function preparedInTx<A extends ProjectAccess & { repo?: RepositoryRow }, T>(
  prepared: Prepared<A, T>,
  audit: AuditDraft,
  authorize: () => Promise<unknown>,
): Promise<{ access: A; value: T }> {
  if (!prepared) {
    await authorize();
    // Allowed now, but not a moment ago: nothing was checked, so nothing may be stored.
    throw new ConflictError("Your access to the project changed meanwhile: please try again").because(
      "changed_meanwhile",
    );
  }
  audit.organizationId = prepared.access.project.organizationId;
  audit.projectId = prepared.access.project.id;
  audit.resourceId ??= prepared.access.repo?.id ?? prepared.access.project.id;
  if (!prepared.ok) throw prepared.error;
  return { access: prepared.access, value: prepared.value };
}

export async function authorizeRepository(
  db: Executor,
  actor: Actor,
  repositoryId: string,
  audit?: AuditDraft,
): Promise<RepositoryAccess> {
  const repo = await loadRepository(db, repositoryId);
  if (audit) audit.resourceId = repo.id;
  const access = await authorizeProject(db, actor, "repository.manage", repo.projectId, audit);
  return { ...access, repo };
}

interface WebhookRef {
  repositoryId: string;
  provider: ProviderKind;
  apiUrl: string;
  /** Read inside the best-effort part (decrypting a stored credential may fail too). */
  token: () => string;
  fullName: string;
  webhookId: string;
}

/**
 * Deletes a webhook the platform registered. Best effort: a hook already gone counts as deleted, any other
 * failure is logged (without the token) and left for someone to remove by hand.
 */
async function deleteWebhook(deps: GitOpsDeps, hook: WebhookRef, why: string): Promise<void> {
  try {
    await deps
      .providers({ kind: hook.provider, apiUrl: hook.apiUrl, token: hook.token(), timeoutMs: 10_000 })
      .deleteWebhook(hook.fullName, hook.webhookId);
  } catch (err) {
    if (err instanceof ProviderError && err.reason === "not_found") return;
    deps.logger.warn(
      {
        repositoryId: hook.repositoryId,
        provider: hook.provider,
        repository: hook.fullName,
        webhookId: hook.webhookId,
        // The adapters' messages never contain the token; anything else is only named.
        reason: err instanceof ProviderError ? err.reason : "unexpected",
        error: err instanceof ProviderError ? err.message : err instanceof Error ? err.name : "unknown",
      },
      `could not delete the provider webhook (${why}): remove it on the provider by hand`,
    );
  }
}

// ---------------------------------------------------------------------------------------------

interface CheckedConnection {
  provider: ProviderKind | null;
  fullName: string | null;
  webUrl: string | null;
  apiUrl: string | null;
  defaultBranch: string;
  webhookId: string | null;
}

/**
 * Everything a connection needs from the network, outside any transaction: read and write access with the
 * real Git protocol, the provider's metadata, and the webhook (registered last: nothing after it can fail but
 * the transaction, whose failure deletes it again).
 */
async function checkConnection(
  deps: GitOpsDeps,
  input: ConnectRepositoryInput,
  created: { id: string; hookSecret: string },
): Promise<CheckedConnection> {
  // After the authorization (an outsider learns nothing), and audited (a refused URL is a failed attempt).
  const checked = validateRemoteUrl(input.url, {
    allowLocal: deps.gitops.allowLocalRepositories,
    allowInsecureHttp: deps.gitops.allowLocalRepositories,
  });
  if (!checked.ok) throw InputError.field("url", checked.message);
  // A local repository is reached through the file system: there is nobody to authenticate to.
  if (input.credential.type === "none" && checked.transport !== "file") {
    throw InputError.field(
      "credential",
      checked.transport === "ssh"
        ? "is required: a deploy key for an SSH URL"
        : "is required: a token for an HTTPS URL",
    );
  }
  if (input.credential.type !== "none" && (checked.transport === "ssh") !== (input.credential.type === "ssh_key")) {
    throw InputError.field(
      "credential",
      checked.transport === "ssh" ? "must be a deploy key for an SSH URL" : "must be a token for an HTTPS URL",
    );
  }
  // Before any network call; the unique index settles a race with another connection of the same URL.
  const [dupe] = await deps.db
    .select({ id: repositories.id })
    .from(repositories)
    .where(and(eq(repositories.projectId, input.projectId), eq(repositories.url, input.url)));
  if (dupe) throw alreadyConnected();
  const provider = input.provider === "git" ? null : input.provider;
  const fullName = repositoryFullName(input.url);
  const apiUrl = provider ? (input.apiUrl ?? defaultApiUrl[provider]) : null;
  const api =
    provider && apiUrl && input.credential.type === "token"
      ? { kind: provider, apiUrl, token: input.credential.token }
      : null;
  if (input.registerWebhook && !(api && fullName)) {
    throw InputError.field("registerWebhook", "needs a GitHub or GitLab repository connected with a token");
  }
  const remote: GitRemote = { url: input.url, credentials: gitCredentials(input.credential) };
  const access = await deps.git.checkAccess(remote, { write: true }).catch((err: unknown) => {
    throw gitFailure(err);
  });
  let webUrl: string | null = null;
  let defaultBranch = access.defaultBranch ?? "main";
  if (api && fullName) {
    // Metadata is a bonus: plain Git already proved access, so a failing API only costs the extras.
    try {
      const meta = await deps.providers(api).getRepository(fullName);
      webUrl = meta.webUrl;
      defaultBranch = access.defaultBranch ?? meta.defaultBranch;
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      deps.logger.warn({ reason: err.reason, repository: fullName }, "provider metadata unavailable");
    }
  }
  let webhookId: string | null = null;
  if (input.registerWebhook && api && fullName) {
    const hook = await deps
      .providers(api)
      .registerWebhook(fullName, {
        url: webhookUrl(deps.config.publicUrl, { id: created.id, provider: input.provider }),
        secret: created.hookSecret,
      })
      .catch((err: unknown) => {
        throw providerFailure(err);
      });
    webhookId = hook.id;
  }
  return { provider, fullName, webUrl, apiUrl, defaultBranch, webhookId };
}

function alreadyConnected(): ConflictError {
  return new ConflictError("This repository is already connected to the project", { url: ["is already connected"] });
}

/**
 * Checks read and write access with the real Git protocol before anything is stored, adds provider
 * metadata when an API is available, and stores the credential encrypted. The network is used before the
 * transaction, which only writes.
 */
export async function connectRepository(
  deps: GitOpsDeps,
  actor: Actor,
  input: ConnectRepositoryInput,
): Promise<Repository> {
  const id = crypto.randomUUID();
  const hookSecret = randomToken(24);
  const prepared = await beforeTx(
    () => authorizeProject(deps.db, actor, "repository.manage", input.projectId),
    () => checkConnection(deps, input, { id, hookSecret }),
  );
  try {
    return await mutate(
      deps,
      { actor },
      { action: "repository.connect", resourceType: "repository" },
      async (tx, audit) => {
        const { value: c } = await preparedInTx(prepared, audit, () =>
          authorizeProject(tx, actor, "repository.manage", input.projectId, audit),
        );
        const credential = input.credential;
        const secret =
          credential.type === "token" ? credential.token : credential.type === "ssh_key" ? credential.privateKey : "";
        try {
          const [row] = await tx
            .insert(repositories)
            .values({
              id,
              projectId: input.projectId,
              provider: input.provider,
              url: input.url,
              fullName: c.fullName,
              webUrl: c.webUrl,
              apiUrl: c.apiUrl,
              authType: input.credential.type,
              username: input.credential.type === "token" ? (input.credential.username ?? null) : null,
              credential: deps.secrets.encrypt(secret),
              defaultBranch: c.defaultBranch,
              webhookSecret: deps.secrets.encrypt(hookSecret),
              webhookId: c.webhookId,
              syncStatus: "ok",
              lastSyncedAt: deps.clock.now(),
            })
            .returning();
          audit.resourceId = row!.id;
          audit.changes = {
            after: {
              provider: row!.provider,
              url: row!.url,
              authType: row!.authType,
              defaultBranch: c.defaultBranch,
              webhook: !!c.webhookId,
            },
          };
          return toRepository(deps, row!);
        } catch (err) {
          if (isUniqueViolation(err)) throw alreadyConnected();
          throw err;
        }
      },
    );
  } catch (err) {
    // Not stored (rolled back): the webhook registered for it would point at nothing.
    const c = prepared?.ok ? prepared.value : null;
    if (c?.webhookId && c.provider && c.apiUrl && c.fullName && input.credential.type === "token") {
      const token = input.credential.token;
      await deleteWebhook(
        deps,
        {
          repositoryId: id,
          provider: c.provider,
          apiUrl: c.apiUrl,
          token: () => token,
          fullName: c.fullName,
          webhookId: c.webhookId,
        },
        "the connection was not stored",
      );
    }
    throw err;
  }
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

/**
 * Disconnects a repository no environment uses. After the transaction, the webhook the platform registered
 * is deleted on the provider, best effort: a failure is logged and does not undo the disconnect.
 */
export async function disconnectRepository(deps: GitOpsDeps, actor: Actor, repositoryId: string): Promise<void> {
  const repo = await mutate(
    deps,
    { actor },
    { action: "repository.disconnect", resourceType: "repository" },
    async (tx, audit) => {
      const { repo } = await authorizeRepository(tx, actor, repositoryId, audit);
      const [used] = await tx
        .select({ name: environments.name })
        .from(environments)
        .where(eq(environments.repositoryId, repo.id));
      if (used) {
        throw InputError.field(
          "repositoryId",
          `is used by environment "${used.name}": change its GitOps settings first`,
        );
      }
      await tx.delete(repositories).where(eq(repositories.id, repo.id));
      audit.changes = { before: { url: repo.url, provider: repo.provider } };
      return repo;
    },
  );
  if (repo.webhookId && repo.provider !== "git" && repo.fullName && repo.apiUrl && repo.authType === "token") {
    await deleteWebhook(
      deps,
      {
        repositoryId: repo.id,
        provider: repo.provider,
        apiUrl: repo.apiUrl,
        token: () => deps.secrets.decrypt(repo.credential),
        fullName: repo.fullName,
        webhookId: repo.webhookId,
      },
      "the repository was disconnected",
    );
  }
}

/** Replaces the token or key after checking it with Git (before the transaction, which only writes). */
export async function updateRepositoryCredential(
  deps: GitOpsDeps,
  actor: Actor,
  input: { repositoryId: string; credential: RepositoryCredential },
): Promise<Repository> {
  const prepared = await beforeTx(
    () => authorizeRepository(deps.db, actor, input.repositoryId),
    async ({ repo }) => {
      if (repo.authType === "none") {
        throw InputError.field("credential", "is not used: this local repository is connected without one");
      }
      if ((repo.authType === "token") !== (input.credential.type === "token")) {
        throw InputError.field(
          "credential",
          `must be a ${repo.authType === "token" ? "token" : "deploy key"} for this URL`,
        );
      }
      const remote: GitRemote = { url: repo.url, credentials: gitCredentials(input.credential) };
      await deps.git.checkAccess(remote, { write: true }).catch((err: unknown) => {
        throw gitFailure(err);
      });
    },
  );
  return mutate(
    deps,
    { actor },
    { action: "repository.update_credential", resourceType: "repository" },
    async (tx, audit) => {
      const { access } = await preparedInTx(prepared, audit, () =>
        authorizeRepository(tx, actor, input.repositoryId, audit),
      );
      const secret = input.credential.type === "token" ? input.credential.token : input.credential.privateKey;
      const [row] = await tx
        .update(repositories)
        .set({
          credential: deps.secrets.encrypt(secret),
          username: input.credential.type === "token" ? (input.credential.username ?? null) : null,
          syncStatus: "ok",
          syncError: null,
          updatedAt: deps.clock.now(),
        })
        .where(eq(repositories.id, access.repo.id))
        .returning();
      if (!row) throw new NotFoundError("Repository"); // disconnected meanwhile
      audit.changes = { after: { credential: "replaced" } };
      return toRepository(deps, row);
    },
  );
}

/**
 * Writes the starter layout (k8s/base + one overlay per environment) as the first commit of an
 * empty repository, or onto its default branch when the layout is missing. The push happens before the
 * transaction, which only records it.
 */
/** The same rule as the deploy form: a layout that starts on an untagged image runs whatever `latest` is. */
function assertLayoutImage(image: string): void {
  if (!isImageReference(image)) throw InputError.field("image", deploySpecRules.image);
  if (!hasTagOrDigest(image)) throw InputError.field("image", deploySpecRules.imageTag);
}

export async function initializeRepositoryLayout(
  deps: GitOpsDeps,
  actor: Actor,
  input: { repositoryId: string; image: string; port: number },
): Promise<{ commitSha: string | null }> {
  const prepared = await beforeTx(
    () => authorizeRepository(deps.db, actor, input.repositoryId),
    async ({ repo, project }) => {
      assertLayoutImage(input.image);
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
      try {
        if (access.empty) {
          const { sha } = await deps.git.initialize(remote, {
            branch: repo.defaultBranch,
            files,
            message: "chore: initialise Kubernetes layout (Juanie)",
          });
          return { files: Object.keys(files).length, sha };
        }
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
        return { files: Object.keys(files).length, sha: result.sha };
      } catch (err) {
        if (err instanceof GitError) throw gitFailure(err);
        throw err;
      }
    },
  );
  return mutate(deps, { actor }, { action: "repository.initialize", resourceType: "repository" }, async (tx, audit) => {
    const { value } = await preparedInTx(prepared, audit, () =>
      authorizeRepository(tx, actor, input.repositoryId, audit),
    );
    audit.changes = { after: { files: value.files, commit: value.sha } };
    return { commitSha: value.sha };
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
  // Authorized before anything is created on the provider (outside any transaction); a denial or a provider
  // failure is audited here, the success by the connection below.
  const prepared = await beforeTx(
    () => authorizeProject(deps.db, actor, "repository.manage", input.projectId),
    () => {
      // Checked before the repository exists on the provider: nothing is left half made.
      assertLayoutImage(input.image);
      return deps
        .providers({ kind: input.provider, apiUrl, token: input.token })
        .createRepository({ namespace: input.namespace, name: input.name, private: input.private })
        .catch((err: unknown) => {
          throw providerFailure(err);
        });
    },
  );
  // Denied, or the provider failed: audited as such, and thrown.
  const created: CreatedRepository = prepared?.ok
    ? prepared.value
    : await mutate(deps, { actor }, { action: "repository.connect", resourceType: "repository" }, async (tx, audit) => {
        const { value } = await preparedInTx<ProjectAccess, CreatedRepository>(prepared, audit, () =>
          authorizeProject(tx, actor, "repository.manage", input.projectId, audit),
        );
        return value;
      });
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
