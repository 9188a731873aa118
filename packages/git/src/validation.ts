export type RemoteTransport = "https" | "http" | "ssh" | "file";

export type RemoteUrlCheck = { ok: true; transport: RemoteTransport } | { ok: false; message: string };

/**
 * Decides whether a user-supplied remote URL may be handed to git. Git understands far more than a
 * platform should accept: `ext::` runs commands, `-...` becomes an option, local paths read the
 * server's own disk, and `user:password@` would put a secret into `.git/config`.
 */
export function validateRemoteUrl(
  url: string,
  opts: { allowLocal?: boolean; allowInsecureHttp?: boolean } = {},
): RemoteUrlCheck {
  const refuse = (message: string): RemoteUrlCheck => ({ ok: false, message });
  if (typeof url !== "string" || url.length === 0) return refuse("The repository URL is empty.");
  if (url.length > 2048) return refuse("The repository URL is longer than 2048 characters.");
  if (url.startsWith("-"))
    return refuse("The repository URL must not start with '-' (it would be read as a git option).");
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)) {
    return refuse("Remote helper URLs such as 'ext::' or 'fd::' are not allowed.");
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters
  if (/[\s\u0000-\u001f\u007f]/.test(url)) {
    return refuse("The repository URL must not contain whitespace or control characters.");
  }

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme === "file") {
      return opts.allowLocal ? { ok: true, transport: "file" } : refuse("Local file:// repositories are not allowed.");
    }
    if (scheme !== "https" && scheme !== "http" && scheme !== "ssh") {
      return refuse(`The '${scheme}://' transport is not supported; use https:// or ssh://.`);
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return refuse("The repository URL cannot be parsed.");
    }
    if (!parsed.hostname) return refuse("The repository URL has no host.");
    if (parsed.hostname.startsWith("-") || parsed.username.startsWith("-")) {
      return refuse("The host or user of the repository URL must not start with '-'.");
    }
    if (parsed.password) return refuse("The repository URL must not contain a password; pass credentials separately.");
    if (scheme === "ssh") return { ok: true, transport: "ssh" };
    if (parsed.username) return refuse("The repository URL must not contain credentials; pass a token separately.");
    if (scheme === "http" && !opts.allowInsecureHttp) {
      return refuse("Unencrypted http:// is not allowed; use https://.");
    }
    return { ok: true, transport: scheme };
  }

  // Git reads "host:path" (a colon before any slash) as scp-like SSH syntax.
  const scp = /^(?:([^@/:]+)@)?([^@/:]+):(.*)$/.exec(url);
  if (scp) {
    const [, user = "", host = "", repoPath = ""] = scp;
    if (user.startsWith("-") || host.startsWith("-")) {
      return refuse("The host or user of the repository URL must not start with '-'.");
    }
    if (!repoPath) return refuse("The repository URL has no repository path after ':'.");
    return { ok: true, transport: "ssh" };
  }
  return opts.allowLocal ? { ok: true, transport: "file" } : refuse("Local repository paths are not allowed.");
}

/**
 * The rules of `git check-ref-format --branch` (git 2.39, refs.c `check_refname_format` applied to
 * `refs/heads/<name>`), so a name the UI accepts is a name git accepts.
 */
export function isValidBranchName(name: string): boolean {
  if (typeof name !== "string" || name.length === 0) return false;
  if (name.startsWith("-") || name === "HEAD") return false;
  if (name.endsWith(".")) return false;
  for (const component of name.split("/")) {
    if (component.length === 0 || component.startsWith(".") || component.endsWith(".lock")) return false;
  }
  if (name.includes("..") || name.includes("@{")) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what git forbids
  return !/[\u0000-\u0020\u007f~^:?*[\\]/.test(name);
}
