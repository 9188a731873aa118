import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseWebhook, verifyGitHubSignature, verifyGitLabToken } from "./index.ts";

// Note: these functions never limit the body size; the HTTP server in front of them must (its body limit).

const secret = "whsec-0123456789";
const sha1 = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const sha2 = "a10867b14bb761a232cd80139fbd4c0d33264240";
const sha3 = "3b9c9a4b1f1e5c7d2a6e8f0b4c2d6e8a0b1c3d5e";
const zero = "0000000000000000000000000000000000000000";

/** A GitHub push delivery as GitHub sends it (trimmed of fields nothing reads). */
function gitHubPush(overrides: Record<string, unknown> = {}) {
  const commit = (id: string, message: string, files: { added?: string[]; modified?: string[] }) => ({
    id,
    tree_id: "f".repeat(40),
    distinct: true,
    message,
    timestamp: "2025-06-01T12:00:00+02:00",
    url: `https://github.com/acme/deploy/commit/${id}`,
    author: { name: "Ada Lovelace", email: "ada@example.com", username: "ada" },
    committer: { name: "GitHub", email: "noreply@github.com", username: "web-flow" },
    added: files.added ?? [],
    removed: [],
    modified: files.modified ?? [],
  });
  const commits = [
    commit(sha2, "Bump api to v2\n\nLonger body.", { modified: ["envs/prod/api.yaml"] }),
    commit(sha3, "Add worker", { added: ["envs/prod/worker.yaml"] }),
  ];
  return {
    ref: "refs/heads/main",
    before: sha1,
    after: sha3,
    repository: {
      id: 123,
      node_id: "R_kgDO",
      name: "deploy",
      full_name: "acme/deploy",
      private: true,
      owner: { name: "acme", login: "acme" },
      html_url: "https://github.com/acme/deploy",
      url: "https://github.com/acme/deploy",
      git_url: "git://github.com/acme/deploy.git",
      ssh_url: "git@github.com:acme/deploy.git",
      clone_url: "https://github.com/acme/deploy.git",
      default_branch: "main",
      created_at: 1717000000,
    },
    pusher: { name: "ada", email: "ada@example.com" },
    sender: { login: "ada", id: 1, type: "User" },
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `https://github.com/acme/deploy/compare/${sha1.slice(0, 12)}...${sha3.slice(0, 12)}`,
    commits,
    head_commit: commits[1],
    ...overrides,
  };
}

/** A GitLab "Push Hook" delivery as GitLab sends it. */
function gitLabPush(overrides: Record<string, unknown> = {}) {
  const commit = (id: string, message: string, files: { added?: string[]; modified?: string[] }) => ({
    id,
    message,
    title: message.split("\n")[0],
    timestamp: "2025-06-01T12:00:00+02:00",
    url: `https://gitlab.example.com/platform/team-a/deploy/-/commit/${id}`,
    author: { name: "Ada Lovelace", email: "ada@example.com" },
    added: files.added ?? [],
    modified: files.modified ?? [],
    removed: [],
  });
  return {
    object_kind: "push",
    event_name: "push",
    before: sha1,
    after: sha3,
    ref: "refs/heads/main",
    ref_protected: true,
    checkout_sha: sha3,
    message: null,
    user_id: 4,
    user_name: "Ada Lovelace",
    user_username: "ada",
    user_email: "",
    user_avatar: null,
    project_id: 15,
    project: {
      id: 15,
      name: "deploy",
      description: "",
      web_url: "https://gitlab.example.com/platform/team-a/deploy",
      avatar_url: null,
      git_ssh_url: "git@gitlab.example.com:platform/team-a/deploy.git",
      git_http_url: "https://gitlab.example.com/platform/team-a/deploy.git",
      namespace: "team-a",
      visibility_level: 0,
      path_with_namespace: "platform/team-a/deploy",
      default_branch: "main",
      homepage: "https://gitlab.example.com/platform/team-a/deploy",
      url: "git@gitlab.example.com:platform/team-a/deploy.git",
      ssh_url: "git@gitlab.example.com:platform/team-a/deploy.git",
      http_url: "https://gitlab.example.com/platform/team-a/deploy.git",
    },
    commits: [
      commit(sha2, "Bump api to v2\n\nLonger body.", { modified: ["envs/prod/api.yaml"] }),
      commit(sha3, "Add worker", { added: ["envs/prod/worker.yaml"] }),
    ],
    total_commits_count: 2,
    push_options: {},
    repository: {
      name: "deploy",
      url: "git@gitlab.example.com:platform/team-a/deploy.git",
      description: "",
      homepage: "https://gitlab.example.com/platform/team-a/deploy",
      git_http_url: "https://gitlab.example.com/platform/team-a/deploy.git",
      git_ssh_url: "git@gitlab.example.com:platform/team-a/deploy.git",
      visibility_level: 0,
    },
    ...overrides,
  };
}

const raw = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2));
const sign = (body: Buffer, key = secret) => `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;

describe("verifyGitHubSignature", () => {
  const body = raw(gitHubPush());

  it("accepts the HMAC-SHA256 of the raw body", () => {
    expect(verifyGitHubSignature(body, sign(body), secret)).toBe(true);
    expect(verifyGitHubSignature(body, sign(body).toUpperCase().replace("SHA256=", "sha256="), secret)).toBe(true);
  });

  it("rejects a signature made with another secret or over other bytes", () => {
    expect(verifyGitHubSignature(body, sign(body, "another-secret"), secret)).toBe(false);
    const tampered = Buffer.from(body.toString().replace("Ada Lovelace", "Mallory"));
    expect(verifyGitHubSignature(tampered, sign(body), secret)).toBe(false);
  });

  it("is computed over the bytes received, not over re-serialized JSON", () => {
    // A framework that parsed and re-stringified the body would produce different bytes (here: no indentation).
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
    expect(reserialized.equals(body)).toBe(false);
    expect(verifyGitHubSignature(reserialized, sign(body), secret)).toBe(false);
    expect(verifyGitHubSignature(body, sign(reserialized), secret)).toBe(false);
  });

  it("rejects a missing, empty, malformed or differently-prefixed header", () => {
    const hex = createHmac("sha256", secret).update(body).digest("hex");
    const sha1Sig = `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`;
    for (const header of [
      undefined,
      "",
      hex,
      `sha1=${hex}`,
      sha1Sig,
      `sha512=${hex}`,
      `sha256=${hex.slice(2)}`,
      `sha256=${hex}00`,
      `sha256=${"z".repeat(64)}`,
    ]) {
      expect(verifyGitHubSignature(body, header, secret)).toBe(false);
    }
  });

  it("never accepts anything when no secret is configured", () => {
    const unsigned = `sha256=${createHmac("sha256", "").update(body).digest("hex")}`;
    expect(verifyGitHubSignature(body, unsigned, "")).toBe(false);
  });
});

describe("verifyGitLabToken", () => {
  it("accepts exactly the secret", () => {
    expect(verifyGitLabToken(secret, secret)).toBe(true);
  });

  it("rejects a wrong, longer, shorter, missing or empty token", () => {
    for (const header of ["wrong", `${secret}x`, secret.slice(0, -1), secret.toUpperCase(), undefined, ""]) {
      expect(verifyGitLabToken(header, secret)).toBe(false);
    }
    expect(verifyGitLabToken("", "")).toBe(false);
  });
});

describe("parseWebhook (GitHub)", () => {
  const headers = (event: string | undefined) => ({
    "x-github-event": event,
    "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "content-type": "application/json",
  });

  it("turns a push into a push event", () => {
    const result = parseWebhook("github", headers("push"), raw(gitHubPush()));
    expect(result).toEqual({
      kind: "push",
      event: {
        provider: "github",
        deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        branch: "main",
        before: sha1,
        after: sha3,
        repository: {
          fullName: "acme/deploy",
          cloneUrls: [
            "https://github.com/acme/deploy.git",
            "git@github.com:acme/deploy.git",
            "git://github.com/acme/deploy.git",
          ],
          webUrl: "https://github.com/acme/deploy",
        },
        pusher: "ada",
        commits: [
          {
            sha: sha2,
            message: "Bump api to v2\n\nLonger body.",
            authorName: "Ada Lovelace",
            authorEmail: "ada@example.com",
            timestamp: "2025-06-01T12:00:00+02:00",
            url: `https://github.com/acme/deploy/commit/${sha2}`,
            added: [],
            modified: ["envs/prod/api.yaml"],
            removed: [],
          },
          {
            sha: sha3,
            message: "Add worker",
            authorName: "Ada Lovelace",
            authorEmail: "ada@example.com",
            timestamp: "2025-06-01T12:00:00+02:00",
            url: `https://github.com/acme/deploy/commit/${sha3}`,
            added: ["envs/prod/worker.yaml"],
            modified: [],
            removed: [],
          },
        ],
        headCommit: expect.objectContaining({ sha: sha3, message: "Add worker" }),
        totalCommits: 2,
        forced: false,
        deleted: false,
      },
    });
  });

  it("keeps branch names with slashes and reports force pushes", () => {
    const result = parseWebhook(
      "github",
      headers("push"),
      raw(gitHubPush({ ref: "refs/heads/release/2025-06", forced: true })),
    );
    expect(result.kind === "push" && result.event.branch).toBe("release/2025-06");
    expect(result.kind === "push" && result.event.forced).toBe(true);
  });

  it("reports a branch deletion without commits", () => {
    const result = parseWebhook(
      "github",
      headers("push"),
      raw(gitHubPush({ ref: "refs/heads/feature/x", after: zero, deleted: true, commits: [], head_commit: null })),
    );
    expect(result).toMatchObject({
      kind: "push",
      event: { branch: "feature/x", after: zero, deleted: true, commits: [], headCommit: null, totalCommits: 0 },
    });
  });

  it("answers a ping", () => {
    const ping = {
      zen: "Keep it logically awesome.",
      hook_id: 42,
      hook: { type: "Repository", id: 42, events: ["push"] },
    };
    expect(parseWebhook("github", headers("ping"), raw(ping))).toEqual({ kind: "ping" });
  });

  it("ignores tag pushes and other events", () => {
    const tag = parseWebhook("github", headers("push"), raw(gitHubPush({ ref: "refs/tags/v1.2.0" })));
    expect(tag).toEqual({ kind: "ignored", reason: "tag push" });
    expect(parseWebhook("github", headers("pull_request"), raw({ action: "opened" }))).toMatchObject({
      kind: "ignored",
    });
    expect(parseWebhook("github", headers("push"), raw(gitHubPush({ ref: "refs/notes/commits" })))).toMatchObject({
      kind: "ignored",
    });
  });

  it("calls malformed JSON and missing fields invalid, saying why", () => {
    expect(parseWebhook("github", headers("push"), Buffer.from('{"ref": "refs/heads/main",'))).toEqual({
      kind: "invalid",
      reason: "body is not valid JSON",
    });
    expect(parseWebhook("github", headers("push"), Buffer.from("[1, 2]"))).toEqual({
      kind: "invalid",
      reason: "body is not a JSON object",
    });
    expect(parseWebhook("github", headers(undefined), raw(gitHubPush()))).toEqual({
      kind: "invalid",
      reason: "missing X-GitHub-Event header",
    });
    const cases: [Record<string, unknown>, string][] = [
      [{ ref: undefined }, "push payload has no ref"],
      [{ before: "nope" }, "push payload has no valid before SHA"],
      [{ after: undefined }, "push payload has no valid after SHA"],
      [{ repository: { name: "deploy" } }, "push payload has no repository.full_name"],
      [{ commits: "many" }, "push payload has no commits list"],
      [{ commits: [{ message: "no id" }] }, "commits[0] has no valid id"],
      [{ commits: [{ id: sha2, message: "x", added: [1] }] }, "commits[0] has a malformed file list"],
    ];
    for (const [override, reason] of cases) {
      expect(parseWebhook("github", headers("push"), raw(gitHubPush(override)))).toEqual({ kind: "invalid", reason });
    }
  });

  it("reads form-encoded deliveries (a hook configured with content type x-www-form-urlencoded)", () => {
    const body = Buffer.from(new URLSearchParams({ payload: JSON.stringify(gitHubPush()) }).toString());
    const result = parseWebhook(
      "github",
      { ...headers("push"), "content-type": "application/x-www-form-urlencoded" },
      body,
    );
    expect(result).toMatchObject({ kind: "push", event: { repository: { fullName: "acme/deploy" } } });
  });

  it("accepts header names in any case", () => {
    const result = parseWebhook("github", { "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1" }, raw(gitHubPush()));
    expect(result).toMatchObject({ kind: "push", event: { deliveryId: "d-1" } });
  });
});

describe("parseWebhook (GitLab)", () => {
  const headers = (event: string | undefined, extra: Record<string, string> = {}) => ({
    "x-gitlab-event": event,
    "x-gitlab-event-uuid": "2f2b6d2c-5b2b-4f8a-9a2e-2a3c1a7d9f10",
    "x-gitlab-token": secret,
    "content-type": "application/json",
    ...extra,
  });

  it("parses a Push Hook into the same event shape as GitHub's", () => {
    const result = parseWebhook("gitlab", headers("Push Hook"), raw(gitLabPush()));
    expect(result).toEqual({
      kind: "push",
      event: {
        provider: "gitlab",
        deliveryId: "2f2b6d2c-5b2b-4f8a-9a2e-2a3c1a7d9f10",
        branch: "main",
        before: sha1,
        after: sha3,
        repository: {
          fullName: "platform/team-a/deploy",
          cloneUrls: [
            "https://gitlab.example.com/platform/team-a/deploy.git",
            "git@gitlab.example.com:platform/team-a/deploy.git",
          ],
          webUrl: "https://gitlab.example.com/platform/team-a/deploy",
        },
        pusher: "ada",
        commits: [
          {
            sha: sha2,
            message: "Bump api to v2\n\nLonger body.",
            authorName: "Ada Lovelace",
            authorEmail: "ada@example.com",
            timestamp: "2025-06-01T12:00:00+02:00",
            url: `https://gitlab.example.com/platform/team-a/deploy/-/commit/${sha2}`,
            added: [],
            modified: ["envs/prod/api.yaml"],
            removed: [],
          },
          {
            sha: sha3,
            message: "Add worker",
            authorName: "Ada Lovelace",
            authorEmail: "ada@example.com",
            timestamp: "2025-06-01T12:00:00+02:00",
            url: `https://gitlab.example.com/platform/team-a/deploy/-/commit/${sha3}`,
            added: ["envs/prod/worker.yaml"],
            modified: [],
            removed: [],
          },
        ],
        headCommit: expect.objectContaining({ sha: sha3 }),
        totalCommits: 2,
        forced: false,
        deleted: false,
      },
    });
  });

  it("prefers the Idempotency-Key, which stays the same when GitLab retries a delivery", () => {
    const result = parseWebhook("gitlab", headers("Push Hook", { "idempotency-key": "key-1" }), raw(gitLabPush()));
    expect(result).toMatchObject({ kind: "push", event: { deliveryId: "key-1" } });
  });

  it("says how many commits the push had when GitLab sent only the first 20", () => {
    const result = parseWebhook("gitlab", headers("Push Hook"), raw(gitLabPush({ total_commits_count: 57 })));
    expect(result).toMatchObject({ kind: "push", event: { totalCommits: 57 } });
  });

  it("reports a branch deletion (after = 0000…, checkout_sha null)", () => {
    const result = parseWebhook(
      "gitlab",
      headers("Push Hook"),
      raw(
        gitLabPush({
          ref: "refs/heads/feature/x",
          after: zero,
          checkout_sha: null,
          commits: [],
          total_commits_count: 0,
        }),
      ),
    );
    expect(result).toMatchObject({
      kind: "push",
      event: { branch: "feature/x", deleted: true, commits: [], headCommit: null, totalCommits: 0 },
    });
  });

  it("ignores tag pushes and other events", () => {
    expect(parseWebhook("gitlab", headers("Tag Push Hook"), raw(gitLabPush({ object_kind: "tag_push" })))).toEqual({
      kind: "ignored",
      reason: "tag push",
    });
    expect(parseWebhook("gitlab", headers("Push Hook"), raw(gitLabPush({ ref: "refs/tags/v1" })))).toEqual({
      kind: "ignored",
      reason: "tag push",
    });
    expect(parseWebhook("gitlab", headers("Merge Request Hook"), raw({ object_kind: "merge_request" }))).toMatchObject({
      kind: "ignored",
    });
  });

  it("reads a push delivered by a system hook", () => {
    expect(parseWebhook("gitlab", headers("System Hook"), raw(gitLabPush()))).toMatchObject({ kind: "push" });
    expect(parseWebhook("gitlab", headers("System Hook"), raw({ event_name: "project_create" }))).toMatchObject({
      kind: "ignored",
    });
  });

  it("calls malformed JSON and missing fields invalid", () => {
    expect(parseWebhook("gitlab", headers("Push Hook"), Buffer.from("not json"))).toEqual({
      kind: "invalid",
      reason: "body is not valid JSON",
    });
    expect(parseWebhook("gitlab", headers(undefined), raw(gitLabPush()))).toEqual({
      kind: "invalid",
      reason: "missing X-Gitlab-Event header",
    });
    expect(parseWebhook("gitlab", headers("Push Hook"), raw(gitLabPush({ project: undefined })))).toEqual({
      kind: "invalid",
      reason: "push payload has no project.path_with_namespace",
    });
  });

  it("treats null file lists (older GitLab) as empty", () => {
    const commits = [
      {
        id: sha3,
        message: "x",
        timestamp: "t",
        url: "u",
        author: { name: "a", email: "e" },
        added: null,
        modified: null,
        removed: null,
      },
    ];
    const result = parseWebhook("gitlab", headers("Push Hook"), raw(gitLabPush({ commits })));
    expect(result).toMatchObject({ kind: "push", event: { commits: [{ added: [], modified: [], removed: [] }] } });
  });
});
