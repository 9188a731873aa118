import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ObjectStore, parseTreeObject, serializeTree } from "./object-store.ts";

const run = promisify(execFile);

let dir: string;
let gitDir: string;
let store: ObjectStore;
const identity = { GIT_AUTHOR_NAME: "a", GIT_AUTHOR_EMAIL: "a@b", GIT_COMMITTER_NAME: "a", GIT_COMMITTER_EMAIL: "a@b" };
const env = { PATH: process.env.PATH ?? "", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", ...identity };
const git = async (args: string[], input?: string) => {
  const child = execFile("git", args, { env: { ...env, GIT_DIR: gitDir } });
  const out = new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (chunk) => {
      text += chunk;
    });
    child.on("close", (code) => (code === 0 ? resolve(text.trim()) : reject(new Error(`git ${args[0]}: ${code}`))));
  });
  child.stdin?.on("error", () => {}); // git may exit without reading its input
  child.stdin?.end(input ?? "");
  return out;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "juanie-objects-"));
  gitDir = path.join(dir, "repo.git");
  await run("git", ["init", "--bare", "--quiet", gitDir]);
  store = new ObjectStore(gitDir, env);
});

afterAll(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

describe("ObjectStore", () => {
  it("writes objects git reads back with the same ids, and reads what git wrote", async () => {
    const blob = await store.write("blob", Buffer.from("replicas: 2\n"));
    expect(blob).toBe(await git(["hash-object", "--stdin"], "replicas: 2\n"));
    expect(await git(["cat-file", "-p", blob])).toBe("replicas: 2");
    const tree = await store.write(
      "tree",
      serializeTree([
        { mode: "100644", name: "b.yaml", oid: blob },
        { mode: "40000", name: "a", oid: await store.write("tree", Buffer.alloc(0)) },
      ]),
    );
    await git(["fsck", "--strict", "--no-dangling"]);
    expect(await git(["ls-tree", tree])).toMatch(/^040000 tree \S+\ta\n100644 blob \S+\tb\.yaml$/);

    const theirs = await git(["hash-object", "-w", "--stdin"], "written by git\n");
    const read = await store.read(theirs);
    expect(read?.type).toBe("blob");
    expect(read?.data.toString()).toBe("written by git\n");
    expect(parseTreeObject((await store.read(tree))!.data).map((e) => e.name)).toEqual(["a", "b.yaml"]);
  });

  it("finds objects that arrive in a new pack after its reader started, and says null for missing ones", async () => {
    await store.read(await store.write("blob", Buffer.from("warm up the reader\n")));
    const work = await mkdtemp(path.join(dir, "work-"));
    await run("git", ["init", "--quiet", work]);
    await run("git", ["-C", work, "commit", "--quiet", "--allow-empty", "-m", "packed"], {
      env: { ...process.env, ...identity },
    });
    const commit = (await run("git", ["-C", work, "rev-parse", "HEAD"])).stdout.trim();
    // A fetch stores what it receives as a pack.
    await git(["fetch", "--quiet", work, "HEAD"]);
    expect((await store.read(commit))?.type).toBe("commit");
    expect(await store.read("0".repeat(40))).toBeNull();
    await expect(store.read("not-an-id")).rejects.toThrow(/not a SHA-1 object id/);
  });

  it("starts a new reader when the old one died", async () => {
    const oid = await store.write("blob", Buffer.from("still readable\n"));
    store.close(); // as if the idle timer or a crash ended it
    expect((await store.read(oid))?.data.toString()).toBe("still readable\n");
  });

  it("keeps refs as git does: loose files that win over packed-refs", async () => {
    const blob = await store.write("blob", Buffer.from("x\n"));
    const tree = await store.write("tree", serializeTree([{ mode: "100644", name: "x", oid: blob }]));
    const commit = await git(["commit-tree", tree, "-m", "c"]);
    await store.writeRef("refs/juanie/branches/abc", commit);
    expect(await git(["rev-parse", "refs/juanie/branches/abc"])).toBe(commit);
    await git(["pack-refs", "--all"]);
    expect(await store.readRef("refs/juanie/branches/abc")).toBe(commit);
    expect(await store.readRef("refs/juanie/branches/none")).toBeNull();
  });
});
