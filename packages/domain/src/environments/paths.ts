/**
 * Why an environment path cannot be used, or null when it can. The path names a directory inside the
 * repository that the platform reads and writes: it must stay inside the working tree in every spelling
 * (no `..`, no absolute path, no backslash, no percent-encoding that a later decoding would turn into one)
 * and never reach Git's own `.git` directory.
 */
export function environmentPathProblem(path: string): string | null {
  if (path.startsWith("/")) return "must be a relative path inside the repository (no leading '/')";
  if (path.includes("\\")) return "must use '/' between directories, not '\\'";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return "must not contain control characters";
  if (/%[0-9a-f]{2}/i.test(path)) return "must be written plainly, without URL-encoded characters such as '%2e'";
  const segments = path.replace(/\/+$/, "").split("/");
  if (segments.some((s) => s === "..")) return "must stay inside the repository (no '..')";
  if (segments.some((s) => s === "")) return "must not contain empty segments ('//')";
  // Git refuses these in any case, and `git~1` is `.git`'s short name on NTFS.
  if (segments.some((s) => /^\.git\.*$/i.test(s.trimEnd()) || /^git~\d+$/i.test(s))) {
    return "must not point into the repository's .git directory";
  }
  return null;
}
