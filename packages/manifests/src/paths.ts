import { ManifestError } from "./errors.ts";

/**
 * Whether `path` may name a place inside a repository: relative, no `..` segments, no leading `/`,
 * no backslashes or control characters. `''` and `'.'` are the repository root.
 */
export function isSafeRepoPath(path: string): boolean {
  if (typeof path !== "string") return false;
  if (path === "" || path === ".") return true;
  if (path.startsWith("/") || path.includes("\\")) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return false;
  const segments = path.endsWith("/") ? path.slice(0, -1).split("/") : path.split("/");
  return segments.every((s) => s !== "" && s !== "..");
}

/** `path` without `.` segments and trailing `/`; `''` for the root. Call only on safe paths. */
export function normalizeRepoPath(path: string): string {
  return path
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}

/**
 * `relative` resolved against the directory `dir`, as a repository path, or `null` when it climbs
 * out of the repository (or is absolute, or has a backslash or control character).
 */
export function resolveRepoPath(dir: string, relative: string): string | null {
  if (relative.startsWith("/") || relative.includes("\\")) return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(relative)) return null;
  const out: string[] = normalizeRepoPath(dir) === "" ? [] : normalizeRepoPath(dir).split("/");
  for (const segment of relative.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length === 0) return null;
      out.pop();
    } else {
      out.push(segment);
    }
  }
  return out.join("/");
}

export function joinRepoPath(dir: string, name: string): string {
  const d = normalizeRepoPath(dir);
  return d === "" ? name : `${d}/${name}`;
}

export function dirnameOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** Whether `path` is `dir` itself or lies below it. */
export function isUnder(path: string, dir: string): boolean {
  const d = normalizeRepoPath(dir);
  return d === "" || path === d || path.startsWith(`${d}/`);
}

/** The normalized environment path, or a ManifestError on the `path` field. */
export function checkEnvPath(envPath: string): string {
  if (!isSafeRepoPath(envPath)) {
    throw new ManifestError(
      `path: must be a relative path inside the repository without '..' segments, like k8s/overlays/production (got ${JSON.stringify(envPath)})`,
      { field: "path" },
    );
  }
  return normalizeRepoPath(envPath);
}
