import {
  type SuggestionCheck,
  type SuggestionChecks,
  suggestedEnvironmentNames,
  suggestedEnvironments,
} from "@juanie/contracts";
import { type Executor, repositories } from "@juanie/db";
import { type Branch, GitError, type GitRemote, isValidBranchName } from "@juanie/git";
import { holdsKubernetesObject, isKustomizationFile, isYamlFile } from "@juanie/manifests";
import { and, eq } from "drizzle-orm";
import { authorizeProject } from "../access/authorize.ts";
import { gitFailure, type RepositoryRow, remoteOf } from "../repositories/service.ts";
import type { Actor, GitOpsDeps } from "../shared/deps.ts";
import { ConflictError, InputError } from "../shared/errors.ts";
import { mutate } from "../shared/mutation.ts";

type SuggestionName = (typeof suggestedEnvironmentNames)[number];
type Suggestion = (typeof suggestedEnvironments)[number];

/** At most this many YAML files of a path without a kustomization are read to find one Kubernetes object. */
const MAX_MANIFESTS_READ = 50;

function suggestionNamed(name: SuggestionName): Suggestion {
  const found = suggestedEnvironments.find((s) => s.name === name);
  if (!found) throw InputError.field("name", `must be one of ${suggestedEnvironmentNames.join(", ")}`);
  return found;
}

async function projectRepository(db: Executor, projectId: string, repositoryId: string): Promise<RepositoryRow> {
  const [repo] = await db
    .select()
    .from(repositories)
    .where(and(eq(repositories.id, repositoryId), eq(repositories.projectId, projectId)));
  if (!repo) throw InputError.field("repositoryId", "must be a repository connected to this project");
  return repo;
}

/** Why Git could not answer, in words for the user (credentials never appear in a GitError). */
function unreachable(err: unknown): string {
  if (!(err instanceof GitError)) throw err;
  return err.message;
}

/** One suggestion against the branches the remote has: does its path hold something Flux can apply? */
async function checkOne(deps: GitOpsDeps, remote: GitRemote, branches: Branch[], s: Suggestion) {
  const result: SuggestionCheck = {
    name: s.name,
    branch: s.branch,
    path: s.path,
    status: "unknown",
    found: null,
    file: null,
    fileCount: 0,
    reason: null,
  };
  if (!branches.some((b) => b.name === s.branch)) return { ...result, status: "missing-branch" as const };
  let read = 0;
  let listing: { files: string[]; contents: Record<string, string> };
  try {
    // The kustomization is found by its name; other YAML files are read (a bounded number) only when
    // there is none, to find one Kubernetes object among them.
    listing = await deps.git.filesUnder(remote, s.branch, s.path, (file) => {
      if (isKustomizationFile(file) || !isYamlFile(file) || read >= MAX_MANIFESTS_READ) return false;
      read++;
      return true;
    });
  } catch (err) {
    if (err instanceof GitError && err.reason === "branch_not_found") {
      return { ...result, status: "missing-branch" as const };
    }
    return { ...result, reason: unreachable(err) };
  }
  const { files, contents } = listing;
  if (!files.length) return { ...result, status: "missing-path" as const };
  const kustomization = files.find((f) => isKustomizationFile(f) && f.slice(0, f.lastIndexOf("/")) === s.path);
  if (kustomization)
    return { ...result, status: "verified" as const, found: "kustomization" as const, file: kustomization };
  const manifest = files.find((f) => contents[f] !== undefined && holdsKubernetesObject(contents[f] ?? ""));
  if (manifest) return { ...result, status: "verified" as const, found: "manifests" as const, file: manifest };
  return { ...result, status: "no-manifests" as const, fileCount: files.length };
}

async function runChecks(deps: GitOpsDeps, repo: RepositoryRow): Promise<SuggestionChecks> {
  const remote = remoteOf(deps, repo);
  let access: Awaited<ReturnType<GitOpsDeps["git"]["checkAccess"]>>;
  try {
    access = await deps.git.checkAccess(remote, { write: false });
  } catch (err) {
    const reason = unreachable(err);
    return {
      repositoryId: repo.id,
      defaultBranch: repo.defaultBranch,
      checks: suggestedEnvironments.map((s) => ({
        name: s.name,
        branch: s.branch,
        path: s.path,
        status: "unknown",
        found: null,
        file: null,
        fileCount: 0,
        reason,
      })),
    };
  }
  const checks: SuggestionCheck[] = [];
  // One at a time: every check works in the same cached clone, under its lock.
  for (const s of suggestedEnvironments) checks.push(await checkOne(deps, remote, access.branches, s));
  return { repositoryId: repo.id, defaultBranch: defaultBranchOf(access.branches, access.defaultBranch, repo), checks };
}

/** The remote's HEAD branch; else the repository's configured default when the remote has it; else null. */
function defaultBranchOf(branches: Branch[], head: string | null, repo: RepositoryRow): string | null {
  if (head) return head;
  return branches.some((b) => b.name === repo.defaultBranch) ? repo.defaultBranch : null;
}

/**
 * The suggested environments checked against a connected repository, through Git with the repository's
 * credential: the branch exists, the path exists on it and holds a kustomization or Kubernetes manifests.
 * For those who may manage the project's environments (the ones who see the suggestions).
 */
export async function checkSuggestedEnvironments(
  deps: GitOpsDeps,
  actor: Actor,
  input: { projectId: string; repositoryId: string },
): Promise<SuggestionChecks> {
  await authorizeProject(deps.db, actor, "environment.manage", input.projectId);
  const repo = await projectRepository(deps.db, input.projectId, input.repositoryId);
  return runChecks(deps, repo);
}

/**
 * Creates a suggestion's missing branch on the remote, pointing at the default branch's head (a push of a
 * new ref with the repository's credential; an existing branch is never moved), audited as
 * `repository.create_branch`; then answers the suggestions checked again. Environment managers only.
 */
export async function createSuggestedBranch(
  deps: GitOpsDeps,
  actor: Actor,
  input: { projectId: string; repositoryId: string; name: SuggestionName },
): Promise<SuggestionChecks> {
  const suggestion = suggestionNamed(input.name);
  // The push happens before the transaction that records it (no transaction stays open over the network).
  type Done = { repo: RepositoryRow; branch: string; from: string; sha: string };
  let prepared: { ok: true; value: Done } | { ok: false; error: unknown } | null = null;
  const allowed = await authorizeProject(deps.db, actor, "environment.manage", input.projectId).then(
    () => true,
    () => false,
  );
  if (allowed) {
    try {
      prepared = { ok: true, value: await pushBranch(deps, input, suggestion) };
    } catch (error) {
      prepared = { ok: false, error };
    }
  }
  const done = await mutate(
    deps,
    { actor },
    { action: "repository.create_branch", resourceType: "repository" },
    async (tx, audit) => {
      // A denial is thrown (and audited) here.
      await authorizeProject(tx, actor, "environment.manage", input.projectId, audit);
      if (!prepared) throw new ConflictError("Your access to the project changed meanwhile: please try again");
      const [repo] = await tx
        .select({ id: repositories.id })
        .from(repositories)
        .where(and(eq(repositories.id, input.repositoryId), eq(repositories.projectId, input.projectId)));
      if (repo) audit.resourceId = repo.id;
      if (!prepared.ok) throw prepared.error;
      const { branch, from, sha } = prepared.value;
      audit.changes = { after: { branch, from, commit: sha, environment: suggestion.name } };
      return prepared.value;
    },
  );
  return runChecks(deps, done.repo);
}

async function pushBranch(
  deps: GitOpsDeps,
  input: { projectId: string; repositoryId: string },
  suggestion: Suggestion,
): Promise<{ repo: RepositoryRow; branch: string; from: string; sha: string }> {
  const repo = await projectRepository(deps.db, input.projectId, input.repositoryId);
  const branch = suggestion.branch;
  if (!isValidBranchName(branch))
    throw InputError.field("name", `names the branch "${branch}", not a valid Git branch name`);
  const remote = remoteOf(deps, repo);
  const access = await deps.git.checkAccess(remote, { write: false }).catch((err: unknown) => {
    throw gitFailure(err);
  });
  if (access.branches.some((b) => b.name === branch)) {
    throw branchExists(branch);
  }
  const from = defaultBranchOf(access.branches, access.defaultBranch, repo);
  if (!from || !isValidBranchName(from)) {
    throw InputError.field("repositoryId", "has no default branch to create the branch from (the repository is empty)");
  }
  try {
    const { sha } = await deps.git.createBranch(remote, { branch, from });
    return { repo, branch, from, sha };
  } catch (err) {
    if (err instanceof GitError && err.reason === "non_fast_forward") {
      throw branchExists(branch);
    }
    throw gitFailure(err);
  }
}

function branchExists(branch: string): ConflictError {
  const e = new ConflictError(`The branch "${branch}" exists already`, {
    name: [`the branch "${branch}" exists already`],
  });
  e.issues = [
    { field: "name", rule: "branch_exists", params: { branch }, message: `the branch "${branch}" exists already` },
  ];
  return e.because("environments.branch_exists", { branch });
}
