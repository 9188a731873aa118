import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { linkSync, mkdirSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { GIT_GLOBAL_ARGS } from "./run-git.ts";

/**
 * Reads and writes the objects of one bare repository without a git process per call: reads go
 * through one long-lived `git cat-file --batch` (which also finds packs that a later fetch adds),
 * blobs, trees and commits are written as loose objects by this process. Only SHA-1 repositories
 * (the cached clones are created by `git init --bare`, which uses SHA-1).
 *
 * Object ids given to it are always 40 hex digits: nothing a user typed reaches the batch's stdin.
 */
export class ObjectStore {
  private batch: CatFileBatch | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Objects never change: the ones read or written lately are kept, up to CACHE_BYTES, least recent out first. */
  private readonly cache = new Map<string, GitObject>();
  private cacheBytes = 0;

  constructor(
    private readonly gitDir: string,
    private readonly env: Record<string, string>,
    private readonly idleMs = 30_000,
  ) {}

  /** The object, or null when the repository does not have it. */
  async read(oid: string): Promise<GitObject | null> {
    assertOid(oid);
    return (await this.readMany([oid]))[0] ?? null;
  }

  /** Several objects in one round trip to the batch process, in the order asked. */
  async readMany(oids: string[]): Promise<(GitObject | null)[]> {
    if (oids.length === 0) return [];
    for (const oid of oids) assertOid(oid);
    const results = oids.map((oid) => this.cached(oid));
    const missing = [...new Set(oids.filter((_, i) => results[i] === null))];
    if (missing.length === 0) return results;
    this.touch();
    if (!this.batch || this.batch.closed) this.batch = new CatFileBatch(this.gitDir, this.env);
    const batch = this.batch;
    try {
      const found = await batch.request(missing);
      const byOid = new Map(missing.map((oid, i) => [oid, found[i] ?? null]));
      for (const [oid, object] of byOid) if (object) this.remember(oid, object);
      return oids.map((oid, i) => results[i] ?? byOid.get(oid) ?? null);
    } catch (error) {
      // The process died (killed, repository removed): the next call starts a new one.
      batch.close();
      if (this.batch === batch) this.batch = null;
      throw error;
    }
  }

  /**
   * Writes a loose object (unless the repository has it) and returns its id. Synchronous file calls:
   * the objects are small, and a few system calls cost less than as many trips through the thread pool.
   */
  async write(type: ObjectType, data: Buffer): Promise<string> {
    const header = Buffer.from(`${type} ${data.length}\0`);
    const full = Buffer.concat([header, data]);
    const oid = createHash("sha1").update(full).digest("hex");
    // Written even when cached: an object no commit reached may have been pruned from disk since.
    const dir = path.join(this.gitDir, "objects", oid.slice(0, 2));
    const file = path.join(dir, oid.slice(2));
    // Every time: `git gc` removes the fan-out directories it empties.
    mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `tmp_obj_juanie_${randomBytes(6).toString("hex")}`);
    writeFileSync(tmp, deflateSync(full, { level: 1 }), { mode: 0o444, flag: "wx" });
    try {
      // Like git: link, so an existing object (perhaps being read right now) is never replaced.
      linkSync(tmp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      unlinkSync(tmp);
    }
    this.remember(oid, { type, data });
    return oid;
  }

  /** A ref's object id: its loose file, else its line in packed-refs; null when absent. */
  readRef(ref: string): Promise<string | null> {
    return readRef(this.gitDir, ref);
  }

  /** Sets a loose ref the way git does: `<ref>.lock` created exclusively, then renamed over the ref. */
  async writeRef(ref: string, oid: string): Promise<void> {
    assertRefName(ref);
    assertOid(oid);
    const file = path.join(this.gitDir, ref);
    await mkdir(path.dirname(file), { recursive: true });
    const lock = `${file}.lock`;
    await writeFile(lock, `${oid}\n`, { flag: "wx" });
    try {
      await rename(lock, file);
    } catch (error) {
      await rm(lock, { force: true });
      throw error;
    }
  }

  private cached(oid: string): GitObject | null {
    const object = this.cache.get(oid);
    if (!object) return null;
    // Most recently used last.
    this.cache.delete(oid);
    this.cache.set(oid, object);
    return object;
  }

  private remember(oid: string, object: GitObject) {
    if (object.data.length > CACHE_BYTES / 16 || this.cache.has(oid)) return;
    this.cache.set(oid, object);
    this.cacheBytes += object.data.length;
    for (const [old, value] of this.cache) {
      if (this.cacheBytes <= CACHE_BYTES) break;
      this.cache.delete(old);
      this.cacheBytes -= value.data.length;
    }
  }

  /** Stops the batch process (the next read starts a new one) and forgets what it cached. */
  close(): void {
    this.cache.clear();
    this.cacheBytes = 0;

    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.batch?.close();
    this.batch = null;
  }

  private touch() {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close(), this.idleMs);
    this.idleTimer.unref();
  }
}

/** A ref's object id in the repository at `gitDir`: its loose file, else its line in packed-refs; null when absent. */
export async function readRef(gitDir: string, ref: string): Promise<string | null> {
  assertRefName(ref);
  const loose = await readFile(path.join(gitDir, ref), "utf8").catch(() => null);
  if (loose !== null) {
    const value = loose.trim();
    // A symbolic ref or something unexpected is not one of ours.
    return OID.test(value) ? value : null;
  }
  const packed = await readFile(path.join(gitDir, "packed-refs"), "utf8").catch(() => "");
  for (const line of packed.split("\n")) {
    if (line.endsWith(` ${ref}`) && OID.test(line.slice(0, 40))) return line.slice(0, 40);
  }
  return null;
}

export type ObjectType = "blob" | "tree" | "commit" | "tag";

export interface GitObject {
  type: ObjectType;
  data: Buffer;
}

export interface TreeEntry {
  /** As stored: 100644, 100755, 120000, 160000 or 40000. */
  mode: string;
  /** The raw bytes of the name, one latin1 character each (see `rawName` / `displayName`). */
  name: string;
  oid: string;
}

const OID = /^[0-9a-f]{40}$/;
/** Per cached repository. */
const CACHE_BYTES = 4 * 1024 * 1024;

export function assertOid(oid: string): void {
  if (!OID.test(oid)) throw new RangeError(`'${oid}' is not a SHA-1 object id.`);
}

function assertRefName(ref: string): void {
  if (!/^refs\/[A-Za-z0-9/_-]+$/.test(ref) || ref.split("/").some((part) => !part || part.startsWith("."))) {
    throw new RangeError(`'${ref}' is not a ref this store manages.`);
  }
}

export function parseTreeObject(data: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    const nul = data.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 21 > data.length) throw new Error("malformed tree object");
    entries.push({
      mode: data.subarray(offset, space).toString("latin1"),
      // The name's bytes as they are (latin1 maps each byte to one character and back): a name that is
      // not valid UTF-8 must come out of a rewritten tree unchanged.
      name: data.subarray(space + 1, nul).toString("latin1"),
      oid: data.subarray(nul + 1, nul + 21).toString("hex"),
    });
    offset = nul + 21;
  }
  return entries;
}

/** A path component as tree entries store it (its UTF-8 bytes, one latin1 character each). */
export function rawName(name: string): string {
  return Buffer.from(name, "utf8").toString("latin1");
}

/** A raw tree entry name (or path) as text. */
export function displayName(raw: string): string {
  return Buffer.from(raw, "latin1").toString("utf8");
}

export function isTreeMode(mode: string): boolean {
  return mode === "40000" || mode === "040000";
}

/** Git's order: by name bytes, a tree's name compared as if it ended in '/'. */
function treeSortKey(entry: TreeEntry): Buffer {
  return Buffer.from(isTreeMode(entry.mode) ? `${entry.name}/` : entry.name, "latin1");
}

export function serializeTree(entries: TreeEntry[]): Buffer {
  const sorted = entries
    .map((entry) => ({ entry, key: treeSortKey(entry) }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  for (const { entry } of sorted) {
    parts.push(Buffer.from(`${entry.mode} ${entry.name}\0`, "latin1"), Buffer.from(entry.oid, "hex"));
  }
  return Buffer.concat(parts);
}

/** The `tree` line of a commit object. */
export function commitTreeOf(commit: Buffer): string {
  const match = /^tree ([0-9a-f]{40})\n/.exec(commit.subarray(0, 64).toString("latin1"));
  if (!match) throw new Error("malformed commit object");
  return match[1]!;
}

interface Pending {
  oids: string[];
  results: (GitObject | null)[];
  resolve: (objects: (GitObject | null)[]) => void;
  reject: (error: Error) => void;
}

/** `git cat-file --batch`: requests answered in order, responses parsed from one growing buffer. */
class CatFileBatch {
  closed = false;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly queue: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private stderr = "";

  constructor(gitDir: string, env: Record<string, string>) {
    this.child = spawn("git", [...GIT_GLOBAL_ARGS, "cat-file", "--batch"], {
      cwd: path.dirname(gitDir),
      env: { ...env, GIT_DIR: gitDir },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.drain();
    });
    this.child.stderr.on("data", (chunk: Buffer) => {
      if (this.stderr.length < 4096) this.stderr += chunk.toString();
    });
    this.child.stdin.on("error", () => {});
    const fail = (why: string) => {
      this.closed = true;
      const error = new Error(`git cat-file --batch ${why}${this.stderr ? `: ${this.stderr.trim()}` : ""}`);
      for (const pending of this.queue.splice(0)) pending.reject(error);
    };
    this.child.on("error", (error) => fail(`could not run: ${error.message}`));
    this.child.on("close", (code) => fail(`exited with ${code}`));
    // An idle batch process must not keep the platform (or a test run) alive.
    this.setRef(false);
  }

  private setRef(on: boolean) {
    const handles = [this.child, this.child.stdout, this.child.stderr, this.child.stdin] as unknown as {
      ref?: () => void;
      unref?: () => void;
    }[];
    for (const handle of handles) (on ? handle.ref : handle.unref)?.call(handle);
  }

  request(oids: string[]): Promise<(GitObject | null)[]> {
    if (this.closed) return Promise.reject(new Error("git cat-file --batch is closed"));
    // Keeps the process alive while an answer is awaited (an idle reader must not).
    if (this.queue.length === 0) this.setRef(true);
    return new Promise((resolve, reject) => {
      this.queue.push({ oids, results: [], resolve, reject });
      this.child.stdin.write(`${oids.join("\n")}\n`);
    });
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.child.stdin.end();
    this.child.kill();
  }

  private drain() {
    while (this.queue.length) {
      const pending = this.queue[0]!;
      const newline = this.buffer.indexOf(10);
      if (newline < 0) return;
      const header = this.buffer.subarray(0, newline).toString("latin1");
      const parts = header.split(" ");
      if (parts[1] === "missing" || parts[1] === "ambiguous") {
        pending.results.push(null);
        this.buffer = this.buffer.subarray(newline + 1);
      } else {
        const size = Number(parts[2]);
        if (parts.length !== 3 || !Number.isSafeInteger(size)) {
          this.close();
          pending.reject(new Error(`git cat-file --batch: unexpected output '${header.slice(0, 100)}'`));
          return;
        }
        const end = newline + 1 + size;
        if (this.buffer.length < end + 1) return;
        pending.results.push({
          type: parts[1] as ObjectType,
          data: Buffer.from(this.buffer.subarray(newline + 1, end)),
        });
        this.buffer = this.buffer.subarray(end + 1);
      }
      if (pending.results.length === pending.oids.length) {
        this.queue.shift();
        if (this.queue.length === 0) this.setRef(false);
        pending.resolve(pending.results);
      }
    }
  }
}
