import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { unifiedDiff } from "./unified-diff.ts";

const run = promisify(execFile);

const before = {
  "k8s/overlays/prod/kustomization.yaml":
    'resources:\n  - ../../base\nimages:\n  - name: app\n    newTag: "1.0"\nreplicas:\n  - name: app\n    count: 3\n',
  "k8s/old.yaml": "a: 1\nb: 2\n",
  "k8s/untouched.yaml": "x: 1\n",
};
const after = {
  "k8s/overlays/prod/kustomization.yaml":
    'resources:\n  - ../../base\nimages:\n  - name: app\n    newTag: "1.1"\nreplicas:\n  - name: app\n    count: 3\npatches:\n  - path: deployment-patch.yaml\n',
  "k8s/overlays/prod/deployment-patch.yaml": "kind: Deployment\n",
  "k8s/old.yaml": null,
  "k8s/untouched.yaml": "x: 1\n",
};

describe("unifiedDiff", () => {
  it("prints modified, new and deleted files the way git does, in path order", () => {
    expect(unifiedDiff(before, after)).toBe(`diff --git a/k8s/old.yaml b/k8s/old.yaml
deleted file mode 100644
--- a/k8s/old.yaml
+++ /dev/null
@@ -1,2 +0,0 @@
-a: 1
-b: 2
diff --git a/k8s/overlays/prod/deployment-patch.yaml b/k8s/overlays/prod/deployment-patch.yaml
new file mode 100644
--- /dev/null
+++ b/k8s/overlays/prod/deployment-patch.yaml
@@ -0,0 +1 @@
+kind: Deployment
diff --git a/k8s/overlays/prod/kustomization.yaml b/k8s/overlays/prod/kustomization.yaml
--- a/k8s/overlays/prod/kustomization.yaml
+++ b/k8s/overlays/prod/kustomization.yaml
@@ -2,7 +2,9 @@
   - ../../base
 images:
   - name: app
-    newTag: "1.0"
+    newTag: "1.1"
 replicas:
   - name: app
     count: 3
+patches:
+  - path: deployment-patch.yaml
`);
  });

  it("marks a missing newline at the end of a file", () => {
    expect(unifiedDiff({ f: "a\nb" }, { f: "a\nc" })).toBe(`diff --git a/f b/f
--- a/f
+++ b/f
@@ -1,2 +1,2 @@
 a
-b
\\ No newline at end of file
+c
\\ No newline at end of file
`);
  });

  it("prints an empty new file as a header only, and nothing for equal files", () => {
    expect(unifiedDiff({}, { "e.yaml": "" })).toBe("diff --git a/e.yaml b/e.yaml\nnew file mode 100644\n");
    expect(unifiedDiff({ a: "1\n" }, { a: "1\n" })).toBe("");
  });

  it("produces a patch git apply accepts", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "juanie-diff-"));
    try {
      for (const [file, content] of Object.entries(before)) {
        await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await writeFile(path.join(dir, file), content);
      }
      await writeFile(path.join(dir, "change.patch"), unifiedDiff(before, after));
      await run("git", ["init", "-q"], { cwd: dir });
      await run("git", ["apply", "change.patch"], { cwd: dir });
      for (const [file, content] of Object.entries(after)) {
        const actual = await readFile(path.join(dir, file), "utf8").catch(() => null);
        expect(actual, file).toBe(content);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
