import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitServer, startGitServer } from "../../../test/git-server.ts";
import { GitEngine } from "./git-engine.ts";
import { GitError, type GitRemote } from "./run-git.ts";
import { canRunSshd, type SshTestServer, startSshTestServer } from "./ssh-test-server.ts";

// End to end over a real OpenSSH server on loopback; skipped where openssh-server is not installed.
describe.skipIf(!(await canRunSshd()))("GitEngine over SSH", () => {
  let sshd: SshTestServer;
  let repos: GitServer; // only used to create and inspect bare repositories on disk
  let cacheDir: string;
  let engine: GitEngine;
  const identity = { name: "Juanie", email: "juanie@platform.example" };

  const sshUrl = (name: string) => `ssh://${sshd.user}@127.0.0.1:${sshd.port}${repos.root}/${name}.git`;
  const withKey = (url: string, privateKey: string, knownHosts?: string): GitRemote => ({
    url,
    credentials: { kind: "ssh", privateKey, ...(knownHosts ? { knownHosts } : {}) },
  });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => e as GitError,
    );

  beforeAll(async () => {
    sshd = await startSshTestServer();
    repos = await startGitServer({ token: "unused" });
    cacheDir = await mkdtemp(path.join(os.tmpdir(), "juanie-git-ssh-cache-"));
    engine = new GitEngine({ cacheDir, identity, timeoutMs: 20_000 });
  });

  afterAll(async () => {
    await sshd?.close();
    await repos?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it("checks write access and trusts the host key on first use, per remote", async () => {
    await repos.createRepo("ssh-access", { withInitialCommit: true });
    const url = sshUrl("ssh-access");
    const access = await engine.checkAccess(withKey(url, sshd.privateKey), { write: true });
    expect(access.branches.map((b) => b.name)).toEqual(["main"]);
    const knownHosts = await readFile(
      path.join(cacheDir, createHash("sha256").update(url).digest("hex").slice(0, 32), "known_hosts"),
      "utf8",
    );
    expect(knownHosts).toContain(sshd.knownHosts.split(" ")[2]);
    // The pinned key is what the platform hands to Flux's source-controller.
    expect(await engine.knownHosts(withKey(url, sshd.privateKey))).toContain(sshd.knownHosts.split(" ")[2]);
    expect(await engine.knownHosts(withKey(sshUrl("never-contacted"), sshd.privateKey))).toBe("");
  });

  it("commits and pushes with a deploy key, with the given known_hosts checked strictly", async () => {
    await repos.createRepo("ssh-commit", { withInitialCommit: true });
    const remote = withKey(sshUrl("ssh-commit"), sshd.privateKey, sshd.knownHosts);
    const result = await engine.commit(remote, {
      branch: "main",
      message: "Deploy over SSH",
      trailers: { "Requested-by": "ada <ada@example.com>" },
      edit: async () => ({ "app.yaml": "image: web:7\n" }),
    });
    expect((await repos.git("ssh-commit", ["rev-parse", "main"])).trim()).toBe(result.sha);
    expect(await repos.git("ssh-commit", ["show", "main:app.yaml"])).toBe("image: web:7\n");
    expect((await engine.log(remote, "main", { limit: 1 }))[0]?.trailers).toEqual({
      "Requested-by": "ada <ada@example.com>",
    });
  });

  it("classifies SSH failures", async () => {
    await repos.createRepo("ssh-errors", { withInitialCommit: true });
    const url = sshUrl("ssh-errors");

    const stranger = await failure(engine.checkAccess(withKey(url, sshd.strangerKey), { write: false }));
    expect(stranger?.reason).toBe("auth_failed");

    expect((await engine.checkAccess(withKey(url, sshd.readOnlyKey), { write: false })).empty).toBe(false);
    const readOnly = await failure(engine.checkAccess(withKey(url, sshd.readOnlyKey), { write: true }));
    expect(readOnly?.reason).toBe("no_write_access");

    const wrongHost = sshd.knownHosts.replace(
      /ssh-ed25519 \S+/,
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    );
    const spoofed = await failure(engine.checkAccess(withKey(url, sshd.privateKey, wrongHost), { write: false }));
    expect(spoofed?.reason).toBe("auth_failed");
    expect(spoofed?.detail).toMatch(/Host key verification failed/);

    const missing = await failure(
      engine.checkAccess(withKey(sshUrl("ssh-missing"), sshd.privateKey), { write: false }),
    );
    expect(missing?.reason).toBe("not_found");

    const closed = await failure(
      engine.checkAccess(withKey(`ssh://${sshd.user}@127.0.0.1:1/x.git`, sshd.privateKey), { write: false }),
    );
    expect(closed?.reason).toBe("network");

    for (const error of [stranger, readOnly, spoofed, missing, closed]) {
      expect(error).toBeInstanceOf(GitError);
      expect(`${error?.message}${error?.detail}`).not.toContain("PRIVATE KEY");
    }
  });

  it("leaves no private key on disk in the cache", async () => {
    const files: string[] = [];
    const walk = async (dir: string) => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile()) files.push((await readFile(full)).toString("latin1"));
      }
    };
    await walk(cacheDir);
    const keyBody = sshd.privateKey.split("\n")[1] ?? "";
    expect(keyBody.length).toBeGreaterThan(20);
    expect(files.some((content) => content.includes("PRIVATE KEY") || content.includes(keyBody))).toBe(false);
  });
});
