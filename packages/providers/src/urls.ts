import type { ProviderKind } from "./types.ts";

interface Remote {
  /** Lower-case host name without port. */
  host: string;
  /** Path segments, still percent-decoded, before any `.git`/`/-/` clean-up. */
  segments: string[];
  http: boolean;
}

const urlScheme = /^([a-z][a-z0-9+.-]*):\/\//i;
const remoteSchemes = new Set(["http:", "https:", "ssh:", "git:", "git+ssh:", "ssh+git:"]);
// user@host:path — Git's scp-like syntax (no scheme, a colon before the first slash).
const scpLike = /^(?:[^@/\s]+@)?([^:/\s]+):(.*)$/;
const segmentPattern = /^[A-Za-z0-9_.-]+$/;

/** One path segment of a repository name: letters, digits, `_`, `.`, `-`, and never `.` or `..`. */
export function isNameSegment(segment: string): boolean {
  return segmentPattern.test(segment) && segment !== "." && segment !== "..";
}

function parseRemote(cloneUrl: string): Remote | null {
  const text = cloneUrl.trim();
  if (!text) return null;
  let host: string;
  let path: string;
  let http = false;
  if (urlScheme.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return null;
    }
    if (!remoteSchemes.has(url.protocol)) return null;
    host = url.hostname;
    path = url.pathname;
    http = url.protocol === "http:" || url.protocol === "https:";
  } else {
    const m = scpLike.exec(text);
    if (!m) return null;
    host = m[1] ?? "";
    path = m[2] ?? "";
    // "C:\repo" or "C:/repo" is a Windows path, not a host called C.
    if (host.length < 2) return null;
  }
  host = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (!host) return null;
  const segments: string[] = [];
  for (const raw of path.split("/")) {
    if (raw === "") continue;
    try {
      segments.push(decodeURIComponent(raw));
    } catch {
      return null;
    }
  }
  return { host, segments, http };
}

/** The path prefix a self-hosted instance lives under (`https://example.com/gitlab` → `["gitlab"]`). */
function basePrefix(providerBase: string | undefined): { host: string; segments: string[] } | null {
  if (!providerBase) return null;
  try {
    const url = new URL(providerBase);
    const segments = url.pathname.split("/").filter(Boolean);
    const n = segments.length;
    if (n >= 2 && segments[n - 2] === "api" && /^v\d+$/.test(segments[n - 1] ?? "")) segments.length = n - 2;
    return { host: url.hostname.toLowerCase(), segments };
  } catch {
    return null;
  }
}

/**
 * From a clone URL (https, ssh://, git://, or scp-like `git@host:group/project.git`) the repository's full
 * name: `owner/repo` on GitHub, `group/sub/project` on GitLab. Web URLs work too (GitLab `…/project/-/tree/main`,
 * github.com `…/repo/tree/main`). Pass the provider's base URL when a self-hosted GitLab lives under a path
 * (`https://example.com/gitlab`) so that prefix is not taken for a group. Credentials in the URL are ignored.
 * `null` when the URL names no repository.
 */
export function repositoryFullName(cloneUrl: string, providerBase?: string): string | null {
  const remote = parseRemote(cloneUrl);
  if (!remote) return null;
  let segments = remote.segments;
  const cut = segments.indexOf("-");
  if (cut >= 0) segments = segments.slice(0, cut);
  const base = basePrefix(providerBase);
  if (remote.http && base && base.host === remote.host && base.segments.length > 0) {
    const prefix = base.segments;
    if (prefix.every((s, i) => segments[i] === s)) segments = segments.slice(prefix.length);
  }
  // On github.com a repository is always owner/repo; anything after is a page of it (…/tree/main).
  if (isGitHubDotCom(remote.host)) segments = segments.slice(0, 2);
  const last = segments.length - 1;
  if (last >= 0 && segments[last]?.endsWith(".git")) {
    segments = [...segments.slice(0, last), (segments[last] ?? "").slice(0, -".git".length)];
  }
  if (segments.length < 2) return null;
  if (!segments.every(isNameSegment)) return null;
  return segments.join("/");
}

function isGitHubDotCom(host: string): boolean {
  return host === "github.com" || host === "www.github.com" || host === "ssh.github.com";
}

/**
 * A best guess from the host name: github.com → github; gitlab.com or any host containing "gitlab" → gitlab;
 * any other host containing "github" (GitHub Enterprise is usually `github.company.com`) → github. Else null:
 * ask the user.
 */
export function guessProvider(cloneUrl: string): ProviderKind | null {
  const remote = parseRemote(cloneUrl);
  if (!remote) return null;
  const host = remote.host;
  if (isGitHubDotCom(host)) return "github";
  if (host.includes("gitlab")) return "gitlab";
  if (host.includes("github")) return "github";
  return null;
}

function trimWebUrl(webUrl: string): string {
  return webUrl.replace(/\/+$/, "").replace(/\.git$/, "");
}

export function gitHubCommitUrl(webUrl: string, sha: string): string {
  return `${trimWebUrl(webUrl)}/commit/${encodeURIComponent(sha)}`;
}

export function gitLabCommitUrl(webUrl: string, sha: string): string {
  return `${trimWebUrl(webUrl)}/-/commit/${encodeURIComponent(sha)}`;
}
