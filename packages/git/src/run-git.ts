import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RemoteTransport } from "./validation.ts";

export type GitCredentials =
  | { kind: "token"; token: string; username?: string }
  | { kind: "ssh"; privateKey: string; knownHosts?: string }
  | { kind: "none" };

export interface GitRemote {
  url: string;
  credentials: GitCredentials;
}

export type GitErrorReason =
  | "auth_failed"
  | "not_found"
  | "no_write_access"
  | "network"
  | "non_fast_forward"
  | "invalid_url"
  | "branch_not_found"
  | "timeout"
  | "unknown";

const REASON_TEXT: Record<GitErrorReason, string> = {
  auth_failed: "Authentication to the Git repository failed",
  not_found: "The Git repository was not found",
  no_write_access: "The credentials may read but not write the Git repository",
  network: "The Git server could not be reached",
  non_fast_forward: "The branch changed on the remote while the commit was being pushed",
  invalid_url: "The Git repository URL is not allowed",
  branch_not_found: "The branch does not exist on the remote",
  timeout: "The Git command timed out",
  unknown: "The Git command failed",
};

export class GitError extends Error {
  readonly reason: GitErrorReason;
  /** Git's stderr, with every credential removed. */
  readonly detail: string;

  constructor(reason: GitErrorReason, detail: string) {
    const summary = detail.split("\n").find((line) => line.trim() && !line.startsWith("hint:"));
    super(summary ? `${REASON_TEXT[reason]}: ${summary.trim()}` : REASON_TEXT[reason]);
    this.name = "GitError";
    this.reason = reason;
    this.detail = detail;
  }
}

/** Stderr patterns of git, curl, OpenSSH, GitHub and GitLab, most specific first. */
const CLASSIFIERS: [GitErrorReason, RegExp][] = [
  [
    "non_fast_forward",
    /\[rejected\].*\((non-fast-forward|fetch first|stale info)\)|Updates were rejected because|\[remote rejected\].*(cannot lock ref|incorrect old value|failed to update ref)/i,
  ],
  [
    "no_write_access",
    /Permission to \S+ denied|not allowed to push|Write access to repository not granted|marked as read only|protected branch|GH006/i,
  ],
  [
    "auth_failed",
    /Authentication failed|could not read (Username|Password)|returned error: 401|Invalid username or (password|token)|HTTP Basic: Access denied|Permission denied \(|Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|Load key .*: (invalid format|error in libcrypto)|Bad credentials/i,
  ],
  [
    "not_found",
    /repository '.*' not found|Repository not found|does not appear to be a git repository|returned error: 404|project you were looking for could not be found/i,
  ],
  ["branch_not_found", /couldn't find remote ref|Remote branch .* not found/i],
  [
    "invalid_url",
    /transport '.*' not allowed|Unable to find remote helper|unsupported protocol|protocol '.*' is not supported|URL using bad\/illegal format|ssh variant .* does not support/i,
  ],
  [
    "network",
    /Could not resolve host|Could not resolve hostname|Failed to connect|Couldn't connect to server|Connection refused|Connection timed out|Connection reset|Network is unreachable|No route to host|Temporary failure in name resolution|Name or service not known|Operation timed out|Empty reply from server|\bSSL\b|\bTLS\b|gnutls|RPC failed|early EOF|the remote end hung up unexpectedly|Connection closed by|kex_exchange_identification/i,
  ],
];

/**
 * Maps git's stderr to a reason. `write` says whether the command was a push: an HTTP 403 on a push
 * means read-only credentials, on a fetch it means no access at all.
 */
export function classifyGitError(output: string, opts: { write?: boolean } = {}): GitErrorReason {
  for (const [reason, pattern] of CLASSIFIERS) {
    if (pattern.test(output)) return reason;
    if (reason === "no_write_access" && /returned error: 403/.test(output)) {
      return opts.write ? "no_write_access" : "auth_failed";
    }
  }
  return "unknown";
}

/** The strings that must never leave this module: the token, `user:token`, its base64 and the header. */
export function credentialSecrets(credentials: GitCredentials): string[] {
  if (credentials.kind === "token") {
    const userPass = `${credentials.username || "x-access-token"}:${credentials.token}`;
    const base64 = Buffer.from(userPass).toString("base64");
    return [credentials.token, userPass, base64, `Basic ${base64}`];
  }
  if (credentials.kind === "ssh") return [credentials.privateKey.trim()];
  return [];
}

export function sanitize(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret) out = out.split(secret).join("[redacted]");
  }
  return out
    .replace(/(authorization:\s*)(?:(?:basic|bearer|token)\s+)?\S+/gi, "$1[redacted]")
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s:]*:[^/@\s]*@/gi, "$1[redacted]@")
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, "[redacted]");
}

/** Environment variables of the platform process that could redirect or weaken git. */
const DROPPED_ENV = /^(GIT_|SSH_AUTH_SOCK$|SSH_ASKPASS|DISPLAY$)/;
const KEPT_GIT_ENV = new Set(["GIT_SSL_CAINFO", "GIT_SSL_CAPATH"]);

/**
 * The environment every git process runs with: no prompts, no credential helpers, no user or system
 * config (so `url.insteadOf`, helpers or hooks of the host cannot interfere), only the allowed transports.
 */
export function baseGitEnv(opts: { home: string; allowedProtocols: string[] }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && (!DROPPED_ENV.test(key) || KEPT_GIT_ENV.has(key))) env[key] = value;
  }
  return {
    ...env,
    HOME: opts.home,
    LC_ALL: "C",
    LANGUAGE: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    SSH_ASKPASS_REQUIRE: "never",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ALLOW_PROTOCOL: opts.allowedProtocols.join(":"),
    GIT_LITERAL_PATHSPECS: "1",
    GIT_NO_REPLACE_OBJECTS: "1",
  };
}

/** Options in front of every git command (`-c` wins over any repository config). */
export const GIT_GLOBAL_ARGS = [
  "credential.helper=",
  "core.askPass=",
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "gc.autoDetach=false",
  "init.defaultBranch=main",
].flatMap((setting) => ["-c", setting]);

export interface GitAuth {
  env: Record<string, string>;
  secrets: string[];
  /** Removes the temporary SSH key; safe to call twice. */
  dispose(): Promise<void>;
}

/** POSIX single-quoting: GIT_SSH_COMMAND is run by a shell, so every path in it is quoted. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Credentials for one network command. HTTPS: an Authorization header through GIT_CONFIG_* variables
 * (never a URL, argv or file). SSH: the key in a 0600 file in a private temporary directory that
 * `dispose` deletes, and a known_hosts file (the given one, strictly; else trust-on-first-use per remote).
 * `keyDir` (mode 0700) holds those directories: a process killed meanwhile leaves its key there, where the
 * next start removes it (`GitEngine.sweepCredentialFiles`); never in the shared temporary directory.
 */
export async function openGitAuth(
  remote: GitRemote,
  transport: RemoteTransport,
  opts: { knownHostsFile: string; connectTimeoutSeconds: number; keyDir: string },
): Promise<GitAuth> {
  const { credentials } = remote;
  const secrets = credentialSecrets(credentials);
  if (credentials.kind === "token") {
    if (transport !== "https" && transport !== "http") {
      throw new GitError("invalid_url", "A token can only be used with an https:// repository URL.");
    }
    const basic = Buffer.from(`${credentials.username || "x-access-token"}:${credentials.token}`).toString("base64");
    return {
      env: {
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: "http.extraHeader",
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
      },
      secrets,
      dispose: async () => {},
    };
  }
  if (credentials.kind === "ssh" && transport !== "ssh") {
    throw new GitError("invalid_url", "An SSH key can only be used with an ssh:// or git@host:path repository URL.");
  }
  if (transport !== "ssh") return { env: {}, secrets, dispose: async () => {} };

  const sshArgs = [
    "ssh",
    "-F",
    "/dev/null",
    ...[
      "BatchMode=yes",
      "IdentitiesOnly=yes",
      "IdentityAgent=none",
      "PasswordAuthentication=no",
      "KbdInteractiveAuthentication=no",
      "GlobalKnownHostsFile=/dev/null",
      `ConnectTimeout=${opts.connectTimeoutSeconds}`,
      "LogLevel=ERROR",
    ].flatMap((option) => ["-o", option]),
  ];
  let tempDir: string | undefined;
  let knownHostsFile = opts.knownHostsFile;
  let strict = "accept-new";
  if (credentials.kind === "ssh") {
    await mkdir(opts.keyDir, { recursive: true, mode: 0o700 });
    tempDir = await mkdtemp(path.join(opts.keyDir, "juanie-ssh-"));
    try {
      const keyFile = path.join(tempDir, "key");
      // OpenSSH refuses keys without a final newline, and keys pasted into a browser come with CRLF.
      const key = `${credentials.privateKey.replace(/\r\n/g, "\n").trim()}\n`;
      await writeFile(keyFile, key, { mode: 0o600, flag: "wx" });
      sshArgs.push("-i", shellQuote(keyFile));
      if (credentials.knownHosts) {
        knownHostsFile = path.join(tempDir, "known_hosts");
        await writeFile(knownHostsFile, `${credentials.knownHosts.trim()}\n`, { mode: 0o600, flag: "wx" });
        strict = "yes";
      }
    } catch (error) {
      await rm(tempDir, { recursive: true, force: true });
      throw error;
    }
  }
  sshArgs.push("-o", `StrictHostKeyChecking=${strict}`, "-o", `UserKnownHostsFile=${shellQuote(knownHostsFile)}`);
  const dir = tempDir;
  return {
    env: { GIT_SSH_COMMAND: sshArgs.join(" "), GIT_SSH_VARIANT: "ssh" },
    secrets,
    dispose: async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RunGitOptions {
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  secrets?: readonly string[];
  input?: string | Buffer;
  /** A push: decides how an HTTP 403 is classified. */
  write?: boolean;
  /** Exit codes that are not failures (e.g. 1 for `diff --exit-code`). */
  okCodes?: number[];
}

export interface GitOutput {
  stdout: Buffer;
  stderr: string;
  code: number;
}

const MAX_STDERR = 64 * 1024;

/**
 * Runs `git <args>` (an argument array, no shell). On failure throws a GitError whose message and
 * detail are sanitized; on timeout kills the whole process group (git, git-remote-https, ssh).
 */
export function runGit(args: string[], opts: RunGitOptions): Promise<GitOutput> {
  const secrets = opts.secrets ?? [];
  return new Promise((resolve, reject) => {
    const child = spawn("git", [...GIT_GLOBAL_ARGS, ...args], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    const stdout: Buffer[] = [];
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, opts.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.toString();
    });
    child.stdin.on("error", () => {}); // git may exit before reading all of its input
    child.stdin.end(opts.input ?? "");
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new GitError("unknown", sanitize(`cannot run git: ${error.message}`, secrets)));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout);
      if (timedOut) {
        const detail = sanitize(`git ${args[0]} did not finish within ${opts.timeoutMs} ms\n${stderr}`, secrets);
        reject(new GitError("timeout", detail.trim()));
        return;
      }
      const exit = code ?? -1;
      if (exit === 0 || opts.okCodes?.includes(exit)) {
        resolve({ stdout: out, stderr, code: exit });
        return;
      }
      // `push --porcelain` reports rejected refs on stdout.
      const rejected = out
        .toString()
        .split("\n")
        .filter((line) => line.startsWith("!"))
        .join("\n");
      const raw = [stderr.trim(), rejected].filter(Boolean).join("\n");
      const detail = sanitize(raw, secrets);
      // Classified before redaction: a secret that happens to occur in git's words must not hide the reason.
      reject(new GitError(classifyGitError(raw, { write: opts.write ?? false }), detail || `git ${args[0]} failed`));
    });
  });
}

function killGroup(pid: number | undefined) {
  if (!pid) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}
