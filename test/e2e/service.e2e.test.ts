import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../helpers.ts";

/**
 * `npm start` as a user runs it in a terminal, stopped with Ctrl-C: the npm process gets SIGINT (from a
 * process manager, or forwarded), or the whole foreground process group does (a terminal's Ctrl-C).
 * Within 10 s npm has exited and no process it started, the embedded PostgreSQL included, is left.
 */

const root = fileURLToPath(new URL("../..", import.meta.url));

/** A live process (a zombie its parent has not reaped yet counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Every process under `pid` (children, their children, …), from /proc. */
function descendants(pid: number): { pid: number; cmd: string }[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  const found: { pid: number; cmd: string }[] = [];
  const walk = (p: number) => {
    for (const [child, ppid] of parent) {
      if (ppid !== p) continue;
      let cmd = "";
      try {
        cmd = readFileSync(`/proc/${child}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      } catch {}
      found.push({ pid: child, cmd });
      walk(child);
    }
  };
  walk(pid);
  return found;
}

interface Started {
  npm: ChildProcess;
  dataDir: string;
  output: () => string;
  exited: Promise<void>;
  /** Its processes once ready (an orphan that outlived npm is no longer found under it). */
  tree: { pid: number; cmd: string }[];
}

const running: Started[] = [];
const tmpDirs: string[] = [];

afterEach(async () => {
  // A failed test leaves nothing behind either.
  for (const s of running.splice(0)) {
    const left = [...s.tree, ...(s.npm.pid ? descendants(s.npm.pid) : [])];
    for (const pid of [s.npm.pid, ...left.map((p) => p.pid)]) {
      try {
        if (pid) process.kill(pid, "SIGKILL");
      } catch {}
    }
    const pidFile = path.join(s.dataDir, "postgres", "postmaster.pid");
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, "utf8").split("\n")[0]), "SIGQUIT");
      } catch {}
    }
  }
  for (const dir of tmpDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function npmStart(): Promise<Started & { url: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "juanie-npm-start-"));
  tmpDirs.push(dataDir);
  // As root, PostgreSQL runs as its own user, which must be able to enter the directory.
  await chmod(dataDir, 0o755);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUANIE_DATA_DIR: dataDir,
    PORT: String(port),
    JUANIE_EMBEDDED_PG_PORT: String(await freePort()),
  };
  // As a user runs it: the embedded PostgreSQL and the default log level.
  delete env.DATABASE_URL;
  delete env.LOG_LEVEL;
  const chunks: string[] = [];
  // Its own process group, as a terminal's foreground job.
  const npm = spawn("npm", ["start"], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  npm.stdout?.on("data", (d: Buffer) => chunks.push(d.toString()));
  npm.stderr?.on("data", (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<void>((resolve) => npm.once("exit", () => resolve()));
  const started: Started = { npm, dataDir, output: () => chunks.join(""), exited, tree: [] };
  running.push(started);
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (npm.exitCode !== null || npm.signalCode !== null) throw new Error(`npm start exited: ${started.output()}`);
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`npm start not ready after 120 s: ${started.output()}`);
    await sleep(100);
  }
  started.tree = descendants(npm.pid!);
  return Object.assign(started, { url });
}

/** Polls until `check` holds or `ms` have passed; the last result. */
async function within(ms: number, check: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}

describe("npm start stops like a service", () => {
  const cases = [
    ["SIGINT", "the npm process"],
    ["SIGINT", "the process group (a terminal's Ctrl-C)"],
    ["SIGTERM", "the npm process"],
  ] as const;
  for (const [signal, target] of cases) {
    it(`${signal} to ${target}: npm exits within 10 s, no process of it (PostgreSQL included) remains, nothing is logged but the start line`, async () => {
      const server = await npmStart();
      const npmPid = server.npm.pid!;
      const tree = descendants(npmPid);
      const pidFile = path.join(server.dataDir, "postgres", "postmaster.pid");
      const postmaster = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
      // What is being stopped: the server and the PostgreSQL it started.
      expect(tree.map((p) => p.pid)).toContain(postmaster);
      expect(tree.some((p) => p.cmd.includes("scripts/start.mjs"))).toBe(true);

      const signalled = Date.now();
      process.kill(target === "the npm process" ? npmPid : -npmPid, signal);
      const npmExited = await Promise.race([server.exited.then(() => true), sleep(10_000).then(() => false)]);
      const remaining = () => [npmPid, ...tree.map((p) => p.pid)].filter(alive);
      const allGone = await within(Math.max(0, 10_000 - (Date.now() - signalled)), () => remaining().length === 0);

      expect(npmExited, `npm still running 10 s after ${signal}:\n${server.output()}`).toBe(true);
      expect(
        allGone,
        `left running: ${tree
          .filter((p) => alive(p.pid))
          .map((p) => `${p.pid} ${p.cmd}`)
          .join("; ")}`,
      ).toBe(true);
      expect(alive(postmaster)).toBe(false);
      // PostgreSQL shut down cleanly: it removed its lock file itself.
      expect(existsSync(pidFile)).toBe(false);
      // A normal stop: npm reports success (or, hit by the Ctrl-C itself, ends by that signal).
      if (target === "the npm process") expect(server.npm.exitCode).toBe(0);
      else expect(server.npm.exitCode === 0 || server.npm.signalCode === signal).toBe(true);

      // npm's own header (and the build's output when sources changed since the last build), then the
      // one line saying where Juanie runs and how to get in; nothing after it, no FATAL or error lines.
      const lines = server
        .output()
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("> "));
      const startLine = lines.findIndex((l) => l.startsWith("Juanie is running at"));
      expect(lines[startLine]).toBe(
        `Juanie is running at ${server.url} (listening on http://127.0.0.1:${new URL(server.url).port}): open it to create the administrator account. Ctrl-C stops it.`,
      );
      expect(lines.slice(startLine + 1)).toEqual([]);
      const before = lines.slice(0, startLine);
      if (before.length) expect(before[0]).toBe("Building Juanie (first start or sources changed)…");
      expect(lines.filter((l) => /FATAL|"level":(50|60)|npm (error|ERR)/.test(l))).toEqual([]);
      running.splice(running.indexOf(server), 1);
    });
  }
});
