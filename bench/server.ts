// Starts, watches and stops the built server (`apps/server/dist/bin/main.js`) as a child process.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "./http.ts";

export interface ServerOptions {
  bundle: string;
  port: number;
  dataDir: string;
  pgPort: number;
  databaseUrl: string | undefined;
  logLevel: string;
  /** Extra environment variables of the server (e.g. JUANIE_ALLOW_LOCAL_REPOSITORIES). */
  env?: Record<string, string>;
}

export interface Server {
  pid: number;
  baseUrl: string;
  /** Spawn → first 200 from /readyz, in ms. */
  readyMs: number;
  stop(): Promise<void>;
}

const tail: string[] = [];
/** The server's last output lines, for error messages. */
export const serverOutput = () => tail.join("");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function waitExit(proc: ChildProcess, ms: number): Promise<boolean> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    proc.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The embedded PostgreSQL of a data dir, with the password the server generated into it. */
export function embeddedDatabaseUrl(dataDir: string, pgPort: number, database = "juanie"): string {
  const password = readFileSync(path.join(dataDir, "postgres.password"), "utf8").trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/${database}`;
}

/** A PostgreSQL left behind (server killed): fast shutdown through the pid in postmaster.pid. */
async function stopOrphanPostgres(dataDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return;
  }
  if (!pid || !alive(pid)) return;
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, "SIGKILL");
}

const live = new Set<() => Promise<void>>();
/** Stops every server still running (used on errors and Ctrl-C). */
export async function stopAll(): Promise<void> {
  for (const stop of [...live]) await stop();
}

export async function startServer(opts: ServerOptions, readyTimeoutMs: number): Promise<Server> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(opts.port),
    HOST: "127.0.0.1",
    JUANIE_DATA_DIR: opts.dataDir,
    JUANIE_EMBEDDED_PG_PORT: String(opts.pgPort),
    LOG_LEVEL: opts.logLevel,
    ...opts.env,
  };
  delete env.JUANIE_PUBLIC_URL;
  delete env.DATABASE_URL;
  if (opts.databaseUrl) env.DATABASE_URL = opts.databaseUrl;

  const started = performance.now();
  const proc = spawn(process.execPath, [opts.bundle], { env, stdio: ["ignore", "pipe", "pipe"] });
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString());
    if (tail.length > 40) tail.shift();
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  // BENCH_SERVER_LOG=file: everything the server prints, for looking into a slow run.
  if (process.env.BENCH_SERVER_LOG) {
    const file = createWriteStream(process.env.BENCH_SERVER_LOG, { flags: "a" });
    proc.stdout?.pipe(file);
    proc.stderr?.pipe(file);
  }

  const stop = async () => {
    live.delete(stop);
    proc.kill("SIGTERM");
    if (!(await waitExit(proc, 30_000))) {
      proc.kill("SIGKILL");
      await waitExit(proc, 5_000);
    }
    if (!opts.databaseUrl) await stopOrphanPostgres(opts.dataDir);
  };
  live.add(stop);

  const baseUrl = `http://127.0.0.1:${opts.port}`;
  while (performance.now() - started < readyTimeoutMs && proc.exitCode === null) {
    const res = await request("GET", `${baseUrl}/readyz`, { timeoutMs: 1000 }).catch(() => null);
    if (res?.status === 200) {
      return { pid: proc.pid!, baseUrl, readyMs: performance.now() - started, stop };
    }
    await sleep(20);
  }
  await stop();
  throw new Error(`server not ready within ${readyTimeoutMs} ms (exit code ${proc.exitCode}):\n${serverOutput()}`);
}

/** VmRSS of a process in MB, or 0 when it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Every process below `pid` (the embedded PostgreSQL postmaster and its backends). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length && out.length < 10_000) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}
