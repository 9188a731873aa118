import { describe, expect, it } from "vitest";
import { environmentPathProblem } from "./paths.ts";

describe("environmentPathProblem", () => {
  it.each([
    "k8s/overlays/production",
    "k8s/overlays/production/",
    "deploy",
    "apps/shop/k8s",
    "k8s/.github-like",
    "my.git.dir",
  ])("accepts %s", (path) => {
    expect(environmentPathProblem(path)).toBeNull();
  });

  it.each([
    ["/etc", /no leading '\/'/],
    ["k8s\\overlays", /'\/' between directories/],
    ["k8s/\u0000", /control characters/],
    ["k8s/%2E%2E/x", /URL-encoded/],
    ["k8s/%2fetc", /URL-encoded/],
    ["..", /stay inside/],
    ["k8s/../..", /stay inside/],
    ["k8s//x", /empty segments/],
    [".git", /\.git directory/],
    ["k8s/.Git/config", /\.git directory/],
    [".git.", /\.git directory/],
    [".git ", /\.git directory/],
    ["GIT~1/hooks", /\.git directory/],
  ])("refuses %s", (path, rule) => {
    expect(environmentPathProblem(path)).toMatch(rule);
  });
});
