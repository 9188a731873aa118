import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitServer, startGitServer } from "../../../test/git-server.ts";
import { GitEngine } from "./git-engine.ts";
import type { GitRemote } from "./run-git.ts";

/** What crash recovery relies on: the commit is named before it is pushed, and the branch can be asked for it. */

const TOKEN = "tok-push-record-4e1b";
let server: GitServer;
let cacheDir: string;
let engine: GitEngine;
const remote = (url: string): GitRemote => ({ url, credentials: { kind: "token", token: TOKEN } });

beforeAll(async () => {
  server = await startGitServer({ token: TOKEN });
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "juanie-git-record-"));
  engine = new GitEngine({ cacheDir, identity: { name: "Juanie", email: "j@example.com" }, allowInsecureHttp: true });
});

afterAll(async () => {
  engine.close();
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
});

describe("beforePush and findOnBranch", () => {
  it("names the commit before the push, and finds it on the branch afterwards", async () => {
    const url = await server.createRepo("record", { withInitialCommit: true });
    const named: string[] = [];
    const result = await engine.commit(remote(url), {
      branch: "main",
      message: "chore: one",
      edit: async () => ({ "a.txt": "a\n" }),
      beforePush: async (sha) => {
        named.push(sha);
        // Not pushed yet when it is named.
        expect(await server.git("record", ["rev-parse", "main"])).not.toContain(sha);
      },
    });
    expect(named).toEqual([result.sha]);
    expect(await engine.findOnBranch(remote(url), "main", ["0".repeat(40), result.sha!])).toBe(result.sha);
    // An older commit of the branch is on it too; another branch, or a commit never pushed, is not.
    expect(await engine.findOnBranch(remote(url), "main", [result.parent])).toBe(result.parent);
    expect(await engine.findOnBranch(remote(url), "nowhere", [result.sha!])).toBeNull();
    expect(await engine.findOnBranch(remote(url), "main", ["0".repeat(40)])).toBeNull();
    expect(await engine.findOnBranch(remote(url), "main", [])).toBeNull();
  });

  it("a failing beforePush stops the push: nothing lands, and the commit is not on the branch", async () => {
    const url = await server.createRepo("refused", { withInitialCommit: true });
    const before = (await server.git("refused", ["rev-parse", "main"])).trim();
    let named = "";
    await expect(
      engine.commit(remote(url), {
        branch: "main",
        message: "chore: two",
        edit: async () => ({ "b.txt": "b\n" }),
        beforePush: async (sha) => {
          named = sha;
          throw new Error("taken away meanwhile");
        },
      }),
    ).rejects.toThrow("taken away meanwhile");
    expect((await server.git("refused", ["rev-parse", "main"])).trim()).toBe(before);
    expect(await engine.findOnBranch(remote(url), "main", [named])).toBeNull();
  });
});
