import { isSafeRepoPath, isUnder, normalizeRepoPath } from "./paths.ts";

/**
 * A synchronous, read-only view of one revision of a repository. Paths are repository-relative with
 * `/` separators.
 */
export interface RepoFiles {
  /** The file's text, or `null` when there is no such file. */
  read(path: string): string | null;
  /** Every file below `dir` (recursively), as repository-relative paths; `''` lists the whole tree. */
  list(dir: string): string[];
}

/** A RepoFiles over an in-memory record of path → content (keys may start with `./`). */
export function filesFromRecord(files: Record<string, string>): RepoFiles {
  const byPath = new Map<string, string>();
  for (const [path, content] of Object.entries(files)) {
    if (isSafeRepoPath(path)) byPath.set(normalizeRepoPath(path), content);
  }
  const sorted = [...byPath.keys()].sort();
  return {
    read: (path) => (isSafeRepoPath(path) ? (byPath.get(normalizeRepoPath(path)) ?? null) : null),
    list: (dir) => {
      if (!isSafeRepoPath(dir)) return [];
      const d = normalizeRepoPath(dir);
      return sorted.filter((p) => p !== d && isUnder(p, d));
    },
  };
}

/**
 * `files` with `changes` laid over it (`null` deletes a file): the tree as it would be after a commit,
 * for dry runs and for re-reading the values a plan produces.
 */
export function filesWithChanges(files: RepoFiles, changes: Record<string, string | null>): RepoFiles {
  const overlay = new Map<string, string | null>();
  for (const [path, content] of Object.entries(changes)) {
    if (isSafeRepoPath(path)) overlay.set(normalizeRepoPath(path), content);
  }
  return {
    read: (path) => {
      const p = normalizeRepoPath(path);
      return overlay.has(p) ? (overlay.get(p) ?? null) : files.read(path);
    },
    list: (dir) => {
      const d = normalizeRepoPath(dir);
      const all = new Set(files.list(dir));
      for (const [p, content] of overlay) {
        if (p === d || !isUnder(p, d)) continue;
        if (content === null) all.delete(p);
        else all.add(p);
      }
      return [...all].sort();
    },
  };
}

/**
 * Reads the YAML files (and kustomization files) below `dir` through an asynchronous source, such as
 * the git engine's edit callback, into a RepoFiles that planDeploy can use. Read the whole Kubernetes
 * directory (`k8s`), not only the environment's: overlays refer to their base.
 */
export async function snapshotRepoFiles(
  source: { list(dir: string): Promise<string[]>; read(path: string): Promise<string | null> },
  dir = "",
): Promise<RepoFiles> {
  const record: Record<string, string> = {};
  for (const path of await source.list(dir)) {
    if (!/(\.ya?ml|\/Kustomization|^Kustomization)$/i.test(path)) continue;
    const content = await source.read(path);
    if (content !== null) record[path] = content;
  }
  return filesFromRecord(record);
}
