import { describe, expect, it } from "vitest";
import { isSafeRepoPath, resolveRepoPath } from "./paths.ts";

describe("isSafeRepoPath", () => {
  it.each([
    ["", true],
    [".", true],
    ["k8s", true],
    ["k8s/overlays/production", true],
    ["k8s/overlays/production/", true],
    ["./k8s", true],
    ["k8s/.hidden", true],
    ["..", false],
    ["../k8s", false],
    ["k8s/../..", false],
    ["k8s/..", false],
    ["/k8s", false],
    ["k8s\\overlays", false],
    ["k8s//x", false],
    ["k8s/\u0000", false],
    ["k8s\n", false],
    ["k8s\u007f", false],
  ])("%j → %s", (path, safe) => {
    expect(isSafeRepoPath(path)).toBe(safe);
  });
});

describe("resolveRepoPath", () => {
  it.each([
    ["k8s/overlays/prod", "../../base", "k8s/base"],
    ["k8s/overlays/prod", "./patch.yaml", "k8s/overlays/prod/patch.yaml"],
    ["", "k8s", "k8s"],
    ["k8s", "../..", null],
    ["k8s/a", "../../../x", null],
    ["k8s", "/etc/passwd", null],
    ["k8s", "a\\b", null],
  ])("%j + %j → %j", (dir, rel, expected) => {
    expect(resolveRepoPath(dir, rel)).toBe(expected);
  });
});
