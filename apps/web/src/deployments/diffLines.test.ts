import { describe, expect, it } from "vitest";
import { diffLines } from "./diffLines.ts";

describe("diffLines", () => {
  it("classifies the lines of a unified diff", () => {
    const diff = [
      "diff --git a/k8s/overlays/production/deployment.yaml b/k8s/overlays/production/deployment.yaml",
      "index 3b18e51..a9c4f2d 100644",
      "--- a/k8s/overlays/production/deployment.yaml",
      "+++ b/k8s/overlays/production/deployment.yaml",
      "@@ -5,3 +5,3 @@ metadata:",
      " spec:",
      "-  replicas: 2",
      "+  replicas: 3",
      "",
    ].join("\n");
    expect(diffLines(diff).map((line) => line.kind)).toEqual([
      "file",
      "file",
      "file",
      "file",
      "hunk",
      "context",
      "remove",
      "add",
    ]);
  });
});
