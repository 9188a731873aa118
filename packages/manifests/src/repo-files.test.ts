import { describe, expect, it } from "vitest";
import { filesFromRecord, filesWithChanges, snapshotRepoFiles } from "./repo-files.ts";

describe("RepoFiles helpers", () => {
  const files = filesFromRecord({ "./k8s/a.yaml": "a", "k8s/sub/b.yml": "b", "README.md": "r", "../escape": "x" });

  it("reads and lists recursively, repository-relative", () => {
    expect(files.read("k8s/a.yaml")).toBe("a");
    expect(files.read("./k8s/a.yaml")).toBe("a");
    expect(files.read("k8s/../README.md")).toBeNull();
    expect(files.read("../escape")).toBeNull();
    expect(files.list("k8s")).toEqual(["k8s/a.yaml", "k8s/sub/b.yml"]);
    expect(files.list("")).toEqual(["README.md", "k8s/a.yaml", "k8s/sub/b.yml"]);
    expect(files.list("k8")).toEqual([]);
  });

  it("lays changes over a tree, null deleting", () => {
    const next = filesWithChanges(files, { "k8s/a.yaml": null, "k8s/c.yaml": "c", "README.md": "new" });
    expect(next.list("k8s")).toEqual(["k8s/c.yaml", "k8s/sub/b.yml"]);
    expect(next.read("k8s/a.yaml")).toBeNull();
    expect(next.read("README.md")).toBe("new");
    expect(next.read("k8s/sub/b.yml")).toBe("b");
  });

  it("snapshots the YAML files of an asynchronous source", async () => {
    const source = {
      list: async (dir: string) => files.list(dir),
      read: async (path: string) => files.read(path),
    };
    const snapshot = await snapshotRepoFiles(source, "");
    expect(snapshot.list("")).toEqual(["k8s/a.yaml", "k8s/sub/b.yml"]);
  });
});
