import { rm, stat } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  baseGitEnv,
  classifyGitError,
  credentialSecrets,
  GIT_GLOBAL_ARGS,
  GitError,
  type GitErrorReason,
  openGitAuth,
  runGit,
  sanitize,
} from "./run-git.ts";

/** Stderr as printed by git 2.39 against the local server (captured), GitHub, GitLab and OpenSSH. */
const samples: [string, string, GitErrorReason, boolean?][] = [
  [
    "bad token over HTTPS (git 2.39, captured)",
    "fatal: could not read Username for 'http://127.0.0.1:39473': terminal prompts disabled\n",
    "auth_failed",
  ],
  [
    "bad token on GitHub",
    "remote: Invalid username or token. Password authentication is not supported for Git operations.\nfatal: Authentication failed for 'https://github.com/acme/deploy.git/'\n",
    "auth_failed",
  ],
  [
    "bad token on GitLab",
    "remote: HTTP Basic: Access denied. The provided password or token is incorrect or your account has 2FA enabled and you must use a personal access token instead of a password.\nfatal: Authentication failed for 'https://gitlab.com/acme/deploy.git/'\n",
    "auth_failed",
  ],
  [
    "401 from a proxy",
    "fatal: unable to access 'https://git.example.com/x.git/': The requested URL returned error: 401\n",
    "auth_failed",
  ],
  [
    "wrong SSH key",
    "git@github.com: Permission denied (publickey).\r\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n",
    "auth_failed",
  ],
  [
    "unknown SSH host key with strict checking",
    "No ED25519 host key is known for github.com and you have requested strict checking.\r\nHost key verification failed.\r\nfatal: Could not read from remote repository.\n",
    "auth_failed",
  ],
  [
    "missing repository (git 2.39, captured)",
    "fatal: repository 'http://127.0.0.1:39473/nope.git/' not found\n",
    "not_found",
  ],
  [
    "missing repository on GitHub",
    "remote: Repository not found.\nfatal: repository 'https://github.com/acme/nope.git/' not found\n",
    "not_found",
  ],
  [
    "missing repository over SSH on GitHub",
    "ERROR: Repository not found.\nfatal: Could not read from remote repository.\n",
    "not_found",
  ],
  [
    "missing repository over SSH on a plain server",
    "fatal: '/srv/git/nope.git' does not appear to be a git repository\nfatal: Could not read from remote repository.\n",
    "not_found",
  ],
  [
    "GitLab missing project",
    "remote: The project you were looking for could not be found or you don't have permission to view it.\nfatal: repository 'https://gitlab.com/acme/nope.git/' not found\n",
    "not_found",
  ],
  [
    "read-only token pushing (git 2.39, captured)",
    "fatal: unable to access 'http://127.0.0.1:39473/r1.git/': The requested URL returned error: 403\n",
    "no_write_access",
    true,
  ],
  [
    "read-only token pushing to GitHub",
    "remote: Permission to acme/deploy.git denied to ci-bot.\nfatal: unable to access 'https://github.com/acme/deploy.git/': The requested URL returned error: 403\n",
    "no_write_access",
    true,
  ],
  [
    "read-only GitHub deploy key",
    "ERROR: The key you are authenticating with has been marked as read only.\nfatal: Could not read from remote repository.\n",
    "no_write_access",
    true,
  ],
  [
    "GitLab protected branch",
    "remote: GitLab: You are not allowed to push code to protected branches on this project.\nTo https://gitlab.com/acme/deploy.git\n ! [remote rejected] main -> main (pre-receive hook declined)\nerror: failed to push some refs to 'https://gitlab.com/acme/deploy.git'\n",
    "no_write_access",
    true,
  ],
  [
    "GitHub protected branch",
    "remote: error: GH006: Protected branch update failed for refs/heads/main.\n ! [remote rejected] main -> main (protected branch hook declined)\n",
    "no_write_access",
    true,
  ],
  [
    "403 while reading means no access at all",
    "fatal: unable to access 'https://git.example.com/x.git/': The requested URL returned error: 403\n",
    "auth_failed",
    false,
  ],
  [
    "refused port (git 2.39, captured)",
    "fatal: unable to access 'http://127.0.0.1:1/x.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server\n",
    "network",
  ],
  [
    "unknown host (git 2.39, captured)",
    "fatal: unable to access 'http://nonexistent.invalid/x.git/': Could not resolve host: nonexistent.invalid\n",
    "network",
  ],
  [
    "SSH port closed",
    "ssh: connect to host 127.0.0.1 port 2222: Connection refused\r\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n",
    "network",
  ],
  [
    "TLS failure",
    "fatal: unable to access 'https://git.example.com/x.git/': SSL certificate problem: self-signed certificate\n",
    "network",
  ],
  [
    "concurrent push (porcelain, git 2.39, captured)",
    "error: failed to push some refs to 'http://127.0.0.1:39473/r1.git'\nhint: Updates were rejected because the tip of your current branch is behind\n!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)\n",
    "non_fast_forward",
    true,
  ],
  ["lease no longer holds", "!\t9f1c:refs/heads/main\t[rejected] (stale info)\n", "non_fast_forward", true],
  ["remote moved first", " ! [rejected]        main -> main (fetch first)\n", "non_fast_forward", true],
  [
    "race lost on the server",
    " ! [remote rejected] main -> main (cannot lock ref 'refs/heads/main': is at 1234 but expected 5678)\n",
    "non_fast_forward",
    true,
  ],
  ["missing branch (git 2.39, captured)", "fatal: couldn't find remote ref refs/heads/nobranch\n", "branch_not_found"],
  ["transport refused", "fatal: transport 'ext' not allowed\n", "invalid_url"],
  ["something else", "fatal: bad object 1234\n", "unknown"],
];

describe("classifyGitError", () => {
  it.each(samples)("%s", (_name, stderr, reason, write) => {
    expect(classifyGitError(stderr, { write: write ?? false })).toBe(reason);
  });
});

describe("sanitize", () => {
  const credentials = { kind: "token" as const, token: "glpat-Secret123", username: "oauth2" };
  const base64 = Buffer.from("oauth2:glpat-Secret123").toString("base64");

  it("removes the token, user:token, its base64 and any Authorization header", () => {
    const text = [
      "token glpat-Secret123",
      `header Authorization: Basic ${base64}`,
      "other authorization: Bearer abc.def.ghi",
      "url https://oauth2:glpat-Secret123@gitlab.com/x.git",
      "url https://someone:other@host/x.git",
      `raw ${base64}`,
    ].join("\n");
    const clean = sanitize(text, credentialSecrets(credentials));
    expect(clean).not.toContain("glpat-Secret123");
    expect(clean).not.toContain(base64);
    expect(clean).not.toContain("abc.def.ghi");
    expect(clean).not.toContain("other@");
    expect(clean).toContain("[redacted]");
  });

  it("removes private keys", () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAsecret\n-----END OPENSSH PRIVATE KEY-----";
    expect(sanitize(`before ${key} after`, [])).toBe("before [redacted] after");
  });
});

describe("baseGitEnv", () => {
  it("disables prompts, helpers, user config and other transports, and drops the platform's GIT_ variables", () => {
    process.env.GIT_DIR = "/somewhere/else";
    process.env.GIT_SSH_COMMAND = "evil";
    process.env.SSH_AUTH_SOCK = "/tmp/agent.sock";
    try {
      const env = baseGitEnv({ home: "/cache", allowedProtocols: ["https", "ssh"] });
      expect(env).toMatchObject({
        HOME: "/cache",
        GIT_TERMINAL_PROMPT: "0",
        GIT_ASKPASS: "",
        SSH_ASKPASS: "",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_ALLOW_PROTOCOL: "https:ssh",
        LC_ALL: "C",
      });
      expect(env.GIT_DIR).toBeUndefined();
      expect(env.GIT_SSH_COMMAND).toBeUndefined();
      expect(env.SSH_AUTH_SOCK).toBeUndefined();
      expect(env.PATH).toBe(process.env.PATH);
    } finally {
      delete process.env.GIT_DIR;
      delete process.env.GIT_SSH_COMMAND;
      delete process.env.SSH_AUTH_SOCK;
    }
    expect(GIT_GLOBAL_ARGS.join(" ")).toContain("-c credential.helper= ");
    expect(GIT_GLOBAL_ARGS.join(" ")).toContain("-c core.hooksPath=/dev/null");
  });
});

describe("openGitAuth", () => {
  const keyDir = path.join(os.tmpdir(), `juanie-keys-test-${process.pid}`, ".credentials");
  const opts = { knownHostsFile: "/cache/ab12/known_hosts", connectTimeoutSeconds: 10, keyDir };
  afterAll(() => rm(path.dirname(keyDir), { recursive: true, force: true }));
  const privateKey =
    "-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1rZXktdjEAAAAA\r\n-----END OPENSSH PRIVATE KEY-----";

  it("passes a token as an http.extraHeader through GIT_CONFIG_* only", async () => {
    const auth = await openGitAuth(
      { url: "https://git.example.com/x.git", credentials: { kind: "token", token: "s3cret" } },
      "https",
      opts,
    );
    expect(auth.env).toEqual({
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from("x-access-token:s3cret").toString("base64")}`,
    });
    expect(auth.secrets).toContain("s3cret");
  });

  it("refuses a token for an SSH URL and a key for an HTTPS URL", async () => {
    await expect(
      openGitAuth({ url: "git@h:x.git", credentials: { kind: "token", token: "t" } }, "ssh", opts),
    ).rejects.toMatchObject({ reason: "invalid_url" });
    await expect(
      openGitAuth({ url: "https://h/x.git", credentials: { kind: "ssh", privateKey } }, "https", opts),
    ).rejects.toMatchObject({ reason: "invalid_url" });
  });

  it("writes the SSH key to a 0600 file in a private directory and deletes it on dispose", async () => {
    const auth = await openGitAuth(
      { url: "git@github.com:acme/x.git", credentials: { kind: "ssh", privateKey } },
      "ssh",
      opts,
    );
    const command = auth.env.GIT_SSH_COMMAND ?? "";
    const keyFile = /-i '([^']+)'/.exec(command)?.[1] ?? "";
    expect(command).toMatch(/^ssh -F \/dev\/null /);
    expect(command).toContain("-o IdentitiesOnly=yes");
    expect(command).toContain("-o BatchMode=yes");
    expect(command).toContain("-o StrictHostKeyChecking=accept-new");
    expect(command).toContain("-o UserKnownHostsFile='/cache/ab12/known_hosts'");
    expect(command).not.toContain("b3BlbnNzaC1rZXktdjEAAAAA");
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(keyFile))).mode & 0o777).toBe(0o700);
    // Only under the data directory's private key directory, which start-up sweeps.
    expect(path.dirname(path.dirname(keyFile))).toBe(keyDir);
    expect((await stat(keyDir)).mode & 0o777).toBe(0o700);
    await auth.dispose();
    await expect(stat(path.dirname(keyFile))).rejects.toThrow(/ENOENT/);
  });

  it("checks host keys strictly against the given known_hosts", async () => {
    const auth = await openGitAuth(
      {
        url: "ssh://git@github.com/acme/x.git",
        credentials: { kind: "ssh", privateKey, knownHosts: "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkV" },
      },
      "ssh",
      opts,
    );
    const command = auth.env.GIT_SSH_COMMAND ?? "";
    expect(command).toContain("-o StrictHostKeyChecking=yes");
    expect(command).not.toContain("/cache/ab12/known_hosts");
    const keyFile = /-i '([^']+)'/.exec(command)?.[1] ?? "";
    await auth.dispose();
    await expect(stat(keyFile)).rejects.toThrow(/ENOENT/);
  });

  it("deletes the key when the command using it fails", async () => {
    const auth = await openGitAuth(
      { url: "ssh://git@127.0.0.1:1/x.git", credentials: { kind: "ssh", privateKey } },
      "ssh",
      opts,
    );
    const keyFile = /-i '([^']+)'/.exec(auth.env.GIT_SSH_COMMAND ?? "")?.[1] ?? "";
    const failing = async () => {
      try {
        await runGit(["ls-remote", "ssh://git@127.0.0.1:1/x.git"], {
          cwd: "/",
          env: { ...baseGitEnv({ home: "/nonexistent", allowedProtocols: ["ssh"] }), ...auth.env },
          timeoutMs: 10_000,
        });
      } finally {
        await auth.dispose();
      }
    };
    await expect(failing()).rejects.toMatchObject({ reason: "network" });
    await expect(stat(keyFile)).rejects.toThrow(/ENOENT/);
  });
});

describe("runGit", () => {
  let server: net.Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it("kills a git that hangs and reports a timeout", async () => {
    const sockets: net.Socket[] = [];
    server = net.createServer((socket) => sockets.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const started = Date.now();
    const error = await runGit(["ls-remote", `http://127.0.0.1:${port}/x.git`], {
      cwd: "/",
      env: baseGitEnv({ home: "/nonexistent", allowedProtocols: ["http"] }),
      timeoutMs: 500,
    }).catch((e: unknown) => e);
    for (const socket of sockets) socket.destroy();
    expect(error).toBeInstanceOf(GitError);
    expect(error).toMatchObject({ reason: "timeout" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("refuses a transport not in GIT_ALLOW_PROTOCOL even if a URL slipped through", async () => {
    const error = await runGit(["ls-remote", "ext::sh -c false"], {
      cwd: "/",
      env: baseGitEnv({ home: "/nonexistent", allowedProtocols: ["https"] }),
      timeoutMs: 5_000,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "invalid_url" });
  });

  it("sanitizes what it throws", async () => {
    const error = await runGit(["ls-remote", "http://127.0.0.1:1/x.git"], {
      cwd: "/",
      env: baseGitEnv({ home: "/nonexistent", allowedProtocols: ["http"] }),
      timeoutMs: 5_000,
      secrets: ["127.0.0.1"],
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "network" });
    expect(String(error)).not.toContain("127.0.0.1");
    expect((error as GitError).detail).not.toContain("127.0.0.1");
  });

  it("classifies before it redacts: a secret that occurs in git's own words does not hide the reason", async () => {
    // "Failed to connect" / "Couldn't connect": redacted first, it would read "Failed to [redacted]".
    const error = await runGit(["ls-remote", "http://127.0.0.1:1/x.git"], {
      cwd: "/",
      env: baseGitEnv({ home: "/nonexistent", allowedProtocols: ["http"] }),
      timeoutMs: 5_000,
      secrets: ["connect"],
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "network" });
    expect((error as GitError).detail).not.toContain("connect");
  });
});
