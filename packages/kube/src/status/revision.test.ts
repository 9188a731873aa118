import { describe, expect, it } from "vitest";
import { parseRevision, revisionHasSha, sameSha } from "./revision.ts";

const SHA1 = "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1";
const SHA256 = "43ad78c94b2655429d84f21488f29d7cca9cd45b7f54d2b27e16bbec8eff9228";

describe("parseRevision", () => {
  it.each([
    ["main@sha1:<sha>", `main@sha1:${SHA1}`, {}, { ref: "main", sha: SHA1 }],
    ["refs/heads/main@sha1:<sha>", `refs/heads/main@sha1:${SHA1}`, {}, { ref: "main", sha: SHA1 }],
    ["tag", `v1.0.1@sha1:${SHA1}`, {}, { ref: "v1.0.1", sha: SHA1 }],
    ["uppercase hex", `main@sha1:${SHA1.toUpperCase()}`, {}, { ref: "main", sha: SHA1 }],
    ["detached sha1:<sha>", `sha1:${SHA1}`, {}, { ref: null, sha: SHA1 }],
    ["old main/<sha>", `main/${SHA1}`, {}, { ref: "main", sha: SHA1 }],
    ["old refs/heads/main/<sha>", `refs/heads/main/${SHA1}`, {}, { ref: "main", sha: SHA1 }],
    ["bare sha", SHA1, {}, { ref: null, sha: SHA1 }],
    ["SHA-256 Git repository", `main@sha256:${SHA256}`, { sourceKind: "GitRepository" }, { ref: "main", sha: SHA256 }],
    [
      "OCI tag + digest",
      `latest@sha256:${SHA256}`,
      { sourceKind: "OCIRepository" },
      { ref: "latest", sha: null, digest: `sha256:${SHA256}` },
    ],
    [
      "Helm chart version + digest",
      `6.0.1@sha256:${SHA256}`,
      {},
      { ref: "6.0.1", sha: null, digest: `sha256:${SHA256}` },
    ],
    ["HelmRepository index digest", `sha256:${SHA256}`, {}, { ref: null, sha: null, digest: `sha256:${SHA256}` }],
    ["blake3 digest", "blake3:abc123", {}, { ref: null, sha: null, digest: "blake3:abc123" }],
    ["plain chart version", "6.0.1", {}, { ref: "6.0.1", sha: null }],
    ["empty", "", {}, { ref: null, sha: null }],
  ])("%s", (_name, rev, opts, expected) => {
    expect(parseRevision(rev, opts)).toEqual(expected);
  });

  it("treats null and undefined as no revision", () => {
    expect(parseRevision(null)).toEqual({ ref: null, sha: null });
    expect(parseRevision(undefined)).toEqual({ ref: null, sha: null });
  });
});

describe("revisionHasSha / sameSha", () => {
  it("matches the commit in every format, including abbreviated ids", () => {
    for (const rev of [`main@sha1:${SHA1}`, `main/${SHA1}`, `sha1:${SHA1}`]) {
      expect(revisionHasSha(rev, SHA1)).toBe(true);
      expect(revisionHasSha(rev, SHA1.slice(0, 7))).toBe(true);
      expect(revisionHasSha(rev, "0000000")).toBe(false);
    }
    expect(revisionHasSha("6.0.1", SHA1)).toBe(false);
  });

  it("never matches ids shorter than 7 digits", () => {
    expect(sameSha(SHA1, SHA1.slice(0, 6))).toBe(false);
    expect(sameSha(SHA1, SHA1.toUpperCase())).toBe(true);
  });
});
