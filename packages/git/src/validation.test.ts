import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isValidBranchName, validateRemoteUrl } from "./validation.ts";

const run = promisify(execFile);

describe("validateRemoteUrl", () => {
  it.each([
    ["ext::sh -c touch% /tmp/pwned", /remote helper/i],
    ["ext::sh", /remote helper/i],
    ["fd::17", /remote helper/i],
    ["file:///etc", /file:\/\//i],
    ["/tmp/repo", /local/i],
    ["./repo", /local/i],
    ["repo", /local/i],
    ["--upload-pack=touch /tmp/x", /start with '-'/],
    ["-oProxyCommand=touch /tmp/x", /start with '-'/],
    ["ssh://-oProxyCommand=touch%20x/repo.git", /must not start with '-'/],
    ["-oProxyCommand=x:repo.git", /start with '-'/],
    ["git@-oProxyCommand=x:repo.git", /must not start with '-'/],
    ["https://user:pass@example.com/x.git", /password/],
    ["https://ghp_abc@example.com/x.git", /credentials/],
    ["ssh://git:secret@example.com/x.git", /password/],
    ["http://example.com/x.git", /http:\/\//],
    ["https://example.com/x.git\n", /whitespace or control/],
    ["https://example.com/x\n.git", /whitespace or control/],
    ["https://example.com/x .git", /whitespace or control/],
    ["https://example.com/x\u0000.git", /whitespace or control/],
    ["git://example.com/x.git", /not supported/],
    ["ftp://example.com/x.git", /not supported/],
    ["", /empty/],
  ])("refuses %j", (url, message) => {
    const result = validateRemoteUrl(url);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it.each([
    ["https://github.com/acme/deploy.git", "https"],
    ["https://gitlab.example.com:8443/group/sub/deploy", "https"],
    ["ssh://git@github.com/acme/deploy.git", "ssh"],
    ["ssh://git@gitlab.example.com:2222/acme/deploy.git", "ssh"],
    ["git@github.com:acme/deploy.git", "ssh"],
    ["gitlab.example.com:acme/deploy.git", "ssh"],
  ])("accepts %s as %s", (url, transport) => {
    expect(validateRemoteUrl(url)).toEqual({ ok: true, transport });
  });

  it("accepts http:// and local repositories only when allowed", () => {
    expect(validateRemoteUrl("http://127.0.0.1:8080/x.git", { allowInsecureHttp: true })).toEqual({
      ok: true,
      transport: "http",
    });
    expect(validateRemoteUrl("file:///srv/git/x.git", { allowLocal: true })).toEqual({ ok: true, transport: "file" });
    expect(validateRemoteUrl("/srv/git/x.git", { allowLocal: true })).toEqual({ ok: true, transport: "file" });
    // Allowing local repositories does not allow the dangerous forms.
    expect(validateRemoteUrl("ext::sh -c id", { allowLocal: true }).ok).toBe(false);
    expect(validateRemoteUrl("--upload-pack=id", { allowLocal: true }).ok).toBe(false);
  });
});

describe("isValidBranchName agrees with `git check-ref-format --branch`", () => {
  let outside: string;
  beforeAll(async () => {
    // Outside any repository, so git does not expand @{-1} from someone's reflog.
    outside = await mkdtemp(path.join(os.tmpdir(), "juanie-refname-"));
  });
  afterAll(() => rm(outside, { recursive: true, force: true }));

  const names = [
    "main",
    "master",
    "env/production",
    "feature/JIRA-123_fix",
    "release-1.2.3",
    "v1.0",
    "a/b/c/d",
    "日本語",
    "emoji-🚀",
    "@",
    "a@b",
    "a@{b",
    "@{-1}",
    "",
    "-main",
    "main-",
    "HEAD",
    "head",
    "refs/heads/main",
    "a..b",
    "a.",
    "a/.b",
    ".a",
    "a./b",
    "a/b.lock",
    "a.lock/b",
    "a.locked",
    "a//b",
    "/a",
    "a/",
    "a b",
    "a\tb",
    "a~1",
    "a^",
    "a:b",
    "a?",
    "a*",
    "a[1]",
    "a\\b",
    "a\u007fb",
    "a\u0001b",
    "a{b}",
    "a}b",
    "a-{b",
    "x/-y",
    "a/./b",
    "a/../b",
  ];

  it.each(names)("%j", async (name) => {
    const gitSays = await run("git", ["check-ref-format", "--branch", name], {
      cwd: outside,
      env: { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(outside) },
    }).then(
      () => true,
      () => false,
    );
    expect(isValidBranchName(name)).toBe(gitSays);
  });
});
