import { describe, expect, it } from "vitest";
import { createProviderAdapter, guessProvider, ProviderError, repositoryFullName } from "./index.ts";

describe("repositoryFullName", () => {
  it.each([
    ["https://github.com/acme/app.git", "acme/app"],
    ["https://github.com/acme/app", "acme/app"],
    ["https://github.com/acme/app/", "acme/app"],
    ["http://github.com/Acme/My.App.git", "Acme/My.App"],
    ["git@github.com:org/repo.git", "org/repo"],
    ["git@github.com:org/repo", "org/repo"],
    ["ssh://git@github.com/org/repo.git", "org/repo"],
    ["ssh://git@ssh.github.com:443/org/repo.git", "org/repo"],
    ["git://github.com/org/repo.git", "org/repo"],
    ["https://x-access-token:secret@github.com/org/repo.git", "org/repo"],
    ["https://gitlab.com/group/project.git", "group/project"],
    ["https://gitlab.com/group/sub/project", "group/sub/project"],
    ["ssh://git@host:22/group/sub/proj.git", "group/sub/proj"],
    ["ssh://git@gitlab.example.com:2222/group/sub/proj.git", "group/sub/proj"],
    ["git@gitlab.example.com:group/sub/deeper/proj.git", "group/sub/deeper/proj"],
    ["https://gitlab.internal.corp/platform/team-a/deploy-config.git", "platform/team-a/deploy-config"],
    ["https://gitlab.example.com/group/proj/-/tree/main/deploy", "group/proj"],
    ["https://gitlab.example.com:8443/group/proj.git", "group/proj"],
    ["  https://github.com/acme/app.git  ", "acme/app"],
    ["https://github.com/acme/app/tree/main/deploy", "acme/app"],
  ])("%s → %s", (url, expected) => {
    expect(repositoryFullName(url)).toBe(expected);
  });

  it.each([
    [""],
    ["not a url"],
    ["https://github.com/"],
    ["https://github.com/acme"],
    ["git@gitlab.com:just-one.git"],
    ["file:///srv/git/app.git"],
    ["/srv/git/app.git"],
    ["C:/repos/app"],
    ["https://gitlab.com/group/../etc"],
    ["https://gitlab.com/group/has%20space"],
    ["ftp://example.com/a/b"],
  ])("%s → null", (url) => {
    expect(repositoryFullName(url)).toBeNull();
  });

  it("strips a self-hosted GitLab's relative URL root when told the base", () => {
    const url = "https://example.com/gitlab/group/sub/proj.git";
    expect(repositoryFullName(url)).toBe("gitlab/group/sub/proj");
    expect(repositoryFullName(url, "https://example.com/gitlab")).toBe("group/sub/proj");
    expect(repositoryFullName(url, "https://example.com/gitlab/api/v4")).toBe("group/sub/proj");
    // SSH paths never carry the relative root; another host's base changes nothing.
    expect(repositoryFullName("git@example.com:gitlab/proj.git", "https://example.com/gitlab")).toBe("gitlab/proj");
    expect(repositoryFullName(url, "https://other.example/gitlab")).toBe("gitlab/group/sub/proj");
    // GitHub Enterprise's API base has no web prefix.
    expect(repositoryFullName("https://ghe.corp/acme/app.git", "https://ghe.corp/api/v3")).toBe("acme/app");
  });
});

describe("guessProvider", () => {
  it.each([
    ["https://github.com/acme/app.git", "github"],
    ["git@github.com:org/repo.git", "github"],
    ["https://gitlab.com/group/project.git", "gitlab"],
    ["git@gitlab.com:group/sub/project.git", "gitlab"],
    ["https://gitlab.example.com/group/proj.git", "gitlab"],
    ["ssh://git@my-gitlab.corp:2222/group/proj.git", "gitlab"],
    ["https://github.corp.example/acme/app.git", "github"],
    ["https://git.example.com/acme/app.git", null],
    ["https://bitbucket.org/acme/app.git", null],
    ["nonsense", null],
  ])("%s → %s", (url, expected) => {
    expect(guessProvider(url)).toBe(expected);
  });
});

describe("createProviderAdapter", () => {
  it("turns unusable configuration into rejected calls, without any request", async () => {
    const cases = [
      createProviderAdapter({ kind: "github", apiUrl: "not a url", token: "t" }),
      createProviderAdapter({ kind: "gitlab", apiUrl: "ftp://gitlab.example.com", token: "t" }),
      createProviderAdapter({ kind: "github", apiUrl: "https://api.github.com", token: "" }),
    ];
    for (const adapter of cases) {
      await expect(adapter.getRepository("acme/app")).rejects.toBeInstanceOf(ProviderError);
      await expect(adapter.registerWebhook("acme/app", { url: "https://x", secret: "s" })).rejects.toMatchObject({
        reason: "invalid",
      });
    }
    await expect(cases[2]?.listBranches("acme/app")).rejects.toThrow(/no access token/);
  });

  it("builds commit links the way each host does", () => {
    const gh = createProviderAdapter({ kind: "github", apiUrl: "https://api.github.com", token: "t" });
    const gl = createProviderAdapter({ kind: "gitlab", apiUrl: "https://gitlab.example.com", token: "t" });
    expect(gh.commitUrl("https://github.com/acme/app", "abc123")).toBe("https://github.com/acme/app/commit/abc123");
    expect(gh.commitUrl("https://github.com/acme/app/", "abc123")).toBe("https://github.com/acme/app/commit/abc123");
    expect(gl.commitUrl("https://gitlab.example.com/g/sub/p", "abc123")).toBe(
      "https://gitlab.example.com/g/sub/p/-/commit/abc123",
    );
  });
});
