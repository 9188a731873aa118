import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  commitTreeOf,
  displayName,
  isTreeMode,
  ObjectStore,
  parseTreeObject,
  rawName,
  readRef,
  serializeTree,
  type TreeEntry,
} from "./object-store.ts";
import { baseGitEnv, GitError, type GitOutput, type GitRemote, openGitAuth, runGit } from "./run-git.ts";
import { isValidBranchName, type RemoteTransport, validateRemoteUrl } from "./validation.ts";

export interface CommitInfo {
  sha: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  authoredAt: string;
  committedAt: string;
  subject: string;
  body: string;
  trailers: Record<string, string>;
}

/** What an edit callback may read. Paths are repo-relative with '/'. */
export interface FileAccess {
  /** Content of a regular file at `head`, or null when absent. */
  read(path: string): Promise<string | null>;
  /** Regular files under `dir` at `head`, recursive, repo-relative ("" = the whole repository). */
  list(dir: string): Promise<string[]>;
  readAt(rev: string, path: string): Promise<string | null>;
  listAt(rev: string, dir: string): Promise<string[]>;
  /** Every regular file under `dir` at `rev` (default: head), read in two git processes. */
  readDir(dir: string, rev?: string): Promise<Record<string, string>>;
  /**
   * Commits after `since` up to `head`, newest first, from the cached history (no fetch); null when
   * `since` is not an ancestor in it (force-pushed away) or more than `limit` commits follow it.
   */
  commitsSince(since: string, limit: number): Promise<(CommitInfo & { files: string[] })[] | null>;
  /** The commit the edit is applied on. */
  head: string;
}

/** New content per path, or null to delete the file. */
export type FileChanges = Record<string, string | null>;

export interface GitEngineOptions {
  /** Where the cached clones live: one bare repository per remote, named by a hash of its URL. */
  cacheDir: string;
  /** Author and committer of every commit the platform makes. */
  identity: { name: string; email: string };
  /** Limit for each git process (default 60 s); the process group is killed after it. */
  timeoutMs?: number;
  /** Accept file:// URLs and local paths (tests and demos only). */
  allowLocal?: boolean;
  /** Accept plain http:// URLs (tests and demos only). */
  allowInsecureHttp?: boolean;
}

export interface Branch {
  name: string;
  sha: string;
}

const LOG_FORMAT = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%(trailers:only,unfold,separator=%x1d)%x1f%s%x1f%b";
const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const ABBREVIATED_ID = /^[0-9a-f]{4,64}$/;
const TRAILER_KEY = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/**
 * Every operation on one cached repository runs under this lock, in this process. (The cache
 * directory is not meant to be shared between processes: each worker replica has its own.)
 */
const repoLocks = new Map<string, Promise<void>>();
/** One object store (and its `cat-file --batch` process) per cached repository, kept between operations. */
const objectStores = new Map<string, ObjectStore>();

async function withRepoLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = repoLocks.get(key) ?? Promise.resolve();
  let release = () => {};
  const current = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => current);
  repoLocks.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (repoLocks.get(key) === tail) repoLocks.delete(key);
  }
}

/**
 * Turns platform changes into Git commits on a team's repository and reads what others pushed.
 * Commits are built with plumbing (a temporary index, `commit-tree`) in a bare cached clone: there is
 * no working tree, so files of the repository are never written to disk (a symlink in the repository
 * cannot redirect a write) and a crashed operation leaves nothing half-edited behind.
 */
export class GitEngine {
  private readonly cacheDir: string;
  /** Where SSH keys live while a network command runs (see `openGitAuth`). */
  private readonly keyDir: string;
  private readonly identity: { name: string; email: string };
  private readonly timeoutMs: number;
  private readonly allowLocal: boolean;
  private readonly allowInsecureHttp: boolean;
  /**
   * Cached clones already checked for lock files left by a crashed or killed git. Within this process
   * every operation on a clone runs under its lock, so only a start or a timeout can leave any behind.
   */
  private readonly checkedForStaleFiles = new Set<string>();
  /** Cached clones whose directory exists (known since the last failure on them). */
  private readonly verified = new Set<string>();

  constructor(opts: GitEngineOptions) {
    this.cacheDir = path.resolve(opts.cacheDir);
    // Beside the clones (whose directory names are hashes), inside the data directory.
    this.keyDir = path.join(this.cacheDir, ".credentials");
    const name = opts.identity.name.trim();
    const email = opts.identity.email.trim();
    // The commit header line `author Name <email> time zone` cannot carry these.
    if (!name || !email || /[<>\n\r\0]/.test(name + email)) {
      throw new RangeError("The Git identity needs a name and an e-mail without '<', '>' or line breaks.");
    }
    this.identity = { name, email };
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.allowLocal = opts.allowLocal ?? false;
    this.allowInsecureHttp = opts.allowInsecureHttp ?? false;
  }

  /** A real protocol check. Read: `ls-remote`. Write: also a `push --dry-run` of a throwaway commit to a throwaway ref. */
  async checkAccess(
    remote: GitRemote,
    opts: { write: boolean },
  ): Promise<{ defaultBranch: string | null; branches: Branch[]; empty: boolean }> {
    return this.withRepo(remote, async (repo) => {
      const refs = await repo.lsRemote();
      if (opts.write) await repo.probePush();
      return refs;
    });
  }

  async listBranches(remote: GitRemote): Promise<Branch[]> {
    return this.withRepo(remote, async (repo) => (await repo.lsRemote()).branches);
  }

  /** Fetches `branch` and returns its head; GitError `branch_not_found` when the remote has no such branch. */
  async fetchBranch(remote: GitRemote, branch: string): Promise<string> {
    assertBranchName(branch);
    return this.withRepo(remote, (repo) => repo.fetchBranch(branch));
  }

  /** Commits on `branch`, newest first; `files` are the paths each commit changed (merges: against the first parent). */
  async log(
    remote: GitRemote,
    branch: string,
    opts: { limit?: number; path?: string; since?: string } = {},
  ): Promise<(CommitInfo & { files: string[] })[]> {
    assertBranchName(branch);
    if (opts.since !== undefined && !ABBREVIATED_ID.test(opts.since)) {
      throw new RangeError(`'since' must be a commit id, got '${opts.since}'.`);
    }
    const pathspec = opts.path === undefined ? "" : normalizeDir(opts.path);
    return this.withRepo(remote, async (repo) => {
      const head = await repo.fetchBranch(branch);
      const range = opts.since ? [`${await repo.resolveKnown(opts.since)}..${head}`] : [head];
      const args = ["log", "-z", "--name-only", "--no-renames", "--diff-merges=first-parent", `--format=${LOG_FORMAT}`];
      if (opts.limit !== undefined) args.push(`--max-count=${Math.max(0, Math.floor(opts.limit))}`);
      args.push(...range, "--");
      if (pathspec) args.push(pathspec);
      return parseLog((await repo.git(args)).stdout.toString());
    });
  }

  /** All regular files under `dir` at `rev` (a branch name or a commit id). */
  async readFiles(remote: GitRemote, rev: string, dir: string): Promise<Record<string, string>> {
    const base = normalizeDir(dir);
    return this.withRepo(remote, async (repo) => {
      const commit = await repo.resolve(rev, { refresh: true });
      const files = await repo.listFiles(commit, base);
      const contents = await repo.readMany(commit, files);
      return Object.fromEntries(
        files.flatMap((file) => (contents.has(file) ? [[file, contents.get(file) ?? ""]] : [])),
      );
    });
  }

  /**
   * Applies `edit` on the head of `branch` (created from `createFrom` when missing), commits as the
   * platform identity and pushes. The first attempt starts from the head this cache last saw, without
   * a fetch: the push is a compare-and-swap against that head, so a branch that moved meanwhile is never
   * overwritten. A rejected push fetches the new head and runs `edit` again, up to `maxAttempts` times
   * on fetched heads (an attempt on a stale cached head does not count; an edit that fails or changes
   * nothing there is tried again on the fetched head before that answer is given). No changes: no
   * commit, `sha` null.
   */
  async commit(
    remote: GitRemote,
    opts: {
      branch: string;
      createFrom?: string;
      message: string;
      trailers?: Record<string, string>;
      maxAttempts?: number;
      edit: (files: FileAccess, attempt: number) => Promise<FileChanges>;
      /**
       * Called with each commit just before it is pushed; a failure stops the push. Lets the caller record
       * what may land, so that after a crash the branch can be checked for it.
       */
      beforePush?: (sha: string) => Promise<void>;
    },
  ): Promise<{
    sha: string | null;
    parent: string;
    attempts: number;
    changedFiles: string[];
    /** The changed files as they were in `parent` and are in the commit (null: absent). */
    before: Record<string, string | null>;
    after: Record<string, string | null>;
  }> {
    assertBranchName(opts.branch);
    if (opts.createFrom !== undefined) assertBranchName(opts.createFrom);
    const maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
    const message = composeMessage(opts.message, opts.trailers ?? {});
    return this.withRepo(remote, async (repo) => {
      let fetch = false;
      let rejectedAfterFetch = 0;
      for (let attempt = 1; ; attempt++) {
        const tip = await repo.tip(opts.branch, opts.createFrom, { fetch });
        let changes: FileChanges;
        try {
          changes = await opts.edit(repo.fileAccess(tip.head), attempt);
        } catch (error) {
          if (tip.fetched) throw error;
          fetch = true;
          continue;
        }
        const change = await repo.applyChanges(tip.head, changes);
        if (!change.changed) {
          if (tip.fetched) {
            return { sha: null, parent: tip.head, attempts: attempt, changedFiles: [], before: {}, after: {} };
          }
          fetch = true;
          continue;
        }
        const sha = await repo.commitTree(change.tree, tip.head, message);
        await opts.beforePush?.(sha);
        try {
          await repo.push(sha, opts.branch, tip.exists ? tip.head : null);
          return { sha, parent: tip.head, attempts: attempt, ...(await repo.contentsOf(tip.head, change)) };
        } catch (error) {
          if (!(error instanceof GitError && error.reason === "non_fast_forward")) throw error;
          if (tip.fetched) {
            if (++rejectedAfterFetch >= maxAttempts) throw error;
            // Someone else pushed: back off a little so two platforms racing on one branch interleave.
            await sleep(25 * rejectedAfterFetch + Math.floor(Math.random() * 50));
          }
          fetch = true;
        }
      }
    });
  }

  /** The first commit of an empty remote. GitError `non_fast_forward` when `branch` already exists. */
  async initialize(
    remote: GitRemote,
    opts: { branch: string; files: Record<string, string>; message: string },
  ): Promise<{ sha: string }> {
    assertBranchName(opts.branch);
    const message = composeMessage(opts.message, {});
    return this.withRepo(remote, async (repo) => {
      const { tree } = await repo.applyChanges(null, opts.files);
      const sha = await repo.commitTree(tree, null, message);
      await repo.push(sha, opts.branch, null);
      return { sha };
    });
  }

  /**
   * What `edit` would commit, without committing: the same path as `commit` up to the commit. With
   * `fetch: false` it starts from the head this cache last saw (fetched only when it has none).
   */
  async preview(
    remote: GitRemote,
    opts: {
      branch: string;
      createFrom?: string;
      fetch?: boolean;
      edit: (files: FileAccess) => Promise<FileChanges>;
    },
  ): Promise<{
    head: string;
    changedFiles: string[];
    before: Record<string, string | null>;
    after: Record<string, string | null>;
  }> {
    assertBranchName(opts.branch);
    if (opts.createFrom !== undefined) assertBranchName(opts.createFrom);
    return this.withRepo(remote, async (repo) => {
      const tip = await repo.tip(opts.branch, opts.createFrom, { fetch: opts.fetch ?? true });
      const changes = await opts.edit(repo.fileAccess(tip.head));
      const change = await repo.applyChanges(tip.head, changes);
      return { head: tip.head, ...(await repo.contentsOf(tip.head, change)) };
    });
  }

  /**
   * Removes SSH keys a killed process left behind (they exist only while a network command runs). Call it
   * at start-up, before any Git operation of this process, with no other process using this cache.
   */
  async sweepCredentialFiles(): Promise<void> {
    await rm(this.keyDir, { recursive: true, force: true });
  }

  /** The head of `branch` this cache last saw (fetched or pushed), without any network; null when unknown. */
  async knownHead(remote: GitRemote, branch: string): Promise<string | null> {
    assertBranchName(branch);
    const check = validateRemoteUrl(remote.url, {
      allowLocal: this.allowLocal,
      allowInsecureHttp: this.allowInsecureHttp,
    });
    if (!check.ok) return null;
    return readRef(path.join(this.repoDir(remote.url), "repo.git"), trackingRef(branch));
  }

  /**
   * The SSH host keys this cache pinned for the remote (`known_hosts` lines, accepted on first contact or
   * given with the credentials), so that another SSH client — Flux's source-controller — trusts the same
   * host. Empty when the remote is not reached over SSH or was not contacted yet.
   */
  async knownHosts(remote: GitRemote): Promise<string> {
    if (remote.credentials.kind === "ssh" && remote.credentials.knownHosts) return remote.credentials.knownHosts.trim();
    const check = validateRemoteUrl(remote.url, {
      allowLocal: this.allowLocal,
      allowInsecureHttp: this.allowInsecureHttp,
    });
    if (!check.ok) return "";
    return (await readFile(path.join(this.repoDir(remote.url), "known_hosts"), "utf8").catch(() => "")).trim();
  }

  /**
   * The first of `shas` that is on `branch` of the remote (fetched first): the commit or one of its
   * descendants is the branch head. Null when none is (or the remote has no such branch).
   */
  async findOnBranch(remote: GitRemote, branch: string, shas: string[]): Promise<string | null> {
    assertBranchName(branch);
    for (const sha of shas) if (!OBJECT_ID.test(sha)) throw new RangeError(`'${sha}' is not a full commit id.`);
    if (!shas.length) return null;
    return this.withRepo(remote, async (repo) => {
      let head: string;
      try {
        head = await repo.fetchBranch(branch);
      } catch (error) {
        if (error instanceof GitError && error.reason === "branch_not_found") return null;
        throw error;
      }
      for (const sha of shas) if (await repo.isAncestor(sha, head)) return sha;
      return null;
    });
  }

  /**
   * The regular files under `dir` on the head of `branch` (fetched first), and the contents of those
   * `read` selects: enough to tell what a directory holds without reading all of it.
   * GitError `branch_not_found` when the remote has no such branch.
   */
  async filesUnder(
    remote: GitRemote,
    branch: string,
    dir: string,
    read: (file: string) => boolean,
  ): Promise<{ head: string; files: string[]; contents: Record<string, string> }> {
    assertBranchName(branch);
    const base = normalizeDir(dir);
    return this.withRepo(remote, async (repo) => {
      const head = await repo.fetchBranch(branch);
      const files = await repo.listFiles(head, base);
      const contents = await repo.readMany(head, files.filter(read));
      return { head, files, contents: Object.fromEntries(contents) };
    });
  }

  /**
   * Creates `branch` on the remote pointing at the head of `from` (fetched first): a push of a new ref,
   * no commit. GitError `non_fast_forward` when `branch` exists already (it is never moved), and
   * `branch_not_found` when `from` does not exist.
   */
  async createBranch(remote: GitRemote, opts: { branch: string; from: string }): Promise<{ sha: string }> {
    assertBranchName(opts.branch);
    assertBranchName(opts.from);
    return this.withRepo(remote, async (repo) => {
      const sha = await repo.fetchBranch(opts.from);
      await repo.push(sha, opts.branch, null);
      return { sha };
    });
  }

  private repoDir(url: string): string {
    return path.join(this.cacheDir, createHash("sha256").update(url).digest("hex").slice(0, 32));
  }

  /** Stops the cached repositories' reader processes (they also stop by themselves when idle). */
  close(): void {
    for (const [dir, store] of objectStores) {
      if (dir.startsWith(`${this.cacheDir}${path.sep}`)) {
        store.close();
        objectStores.delete(dir);
      }
    }
  }

  private async withRepo<T>(remote: GitRemote, fn: (repo: CachedRepo) => Promise<T>): Promise<T> {
    const check = validateRemoteUrl(remote.url, {
      allowLocal: this.allowLocal,
      allowInsecureHttp: this.allowInsecureHttp,
    });
    if (!check.ok) throw new GitError("invalid_url", check.message);
    const dir = this.repoDir(remote.url);
    return withRepoLock(dir, async () => {
      const protocols = ["https", "ssh"];
      if (this.allowInsecureHttp) protocols.push("http");
      if (this.allowLocal) protocols.push("file");
      const repo = new CachedRepo({
        dir,
        remote,
        transport: check.transport,
        identity: this.identity,
        timeoutMs: this.timeoutMs,
        env: baseGitEnv({ home: dir, allowedProtocols: protocols }),
        keyDir: this.keyDir,
      });
      let created = false;
      try {
        // mkdir answers the directory it created, undefined when it existed already.
        if (!this.verified.has(dir)) created = (await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined;
        await repo.open({ removeStaleFiles: !this.checkedForStaleFiles.has(dir) });
        this.checkedForStaleFiles.add(dir);
        this.verified.add(dir);
        return await fn(repo);
      } catch (error) {
        // Look again next time: the clone may be what failed.
        this.verified.delete(dir);
        if (error instanceof GitError && error.reason === "timeout") this.checkedForStaleFiles.delete(dir);
        // A clone this call started and that failed (a refused connection, a wrong URL) holds nothing worth
        // keeping: it is removed rather than left empty in the cache.
        if (created) {
          objectStores.get(dir)?.close();
          objectStores.delete(dir);
          this.checkedForStaleFiles.delete(dir);
          await rm(dir, { recursive: true, force: true }).catch(() => {});
        }
        throw error;
      }
    });
  }
}

/** Where a commit starts from. */
interface Tip {
  head: string;
  /** Whether `branch` exists on the remote (false when it is being created from `createFrom`). */
  exists: boolean;
  /** Whether `head` was fetched just now (else it is what the cache last saw). */
  fetched: boolean;
}

/** One bare cached clone, used only while its lock is held. */
class CachedRepo {
  private readonly gitDir: string;
  private readonly env: Record<string, string>;
  private readonly store: ObjectStore;

  constructor(
    private readonly opts: {
      dir: string;
      remote: GitRemote;
      transport: RemoteTransport;
      identity: { name: string; email: string };
      timeoutMs: number;
      env: Record<string, string>;
      keyDir: string;
    },
  ) {
    this.gitDir = path.join(opts.dir, "repo.git");
    this.env = { ...opts.env, GIT_DIR: this.gitDir };
    let store = objectStores.get(opts.dir);
    if (!store) {
      store = new ObjectStore(this.gitDir, opts.env);
      objectStores.set(opts.dir, store);
    }
    this.store = store;
  }

  /** A local git command (no credentials in its environment). */
  git(
    args: string[],
    extra: { input?: string | Buffer; env?: Record<string, string>; okCodes?: number[] } = {},
  ): Promise<GitOutput> {
    return runGit(args, {
      cwd: this.opts.dir,
      env: { ...this.env, ...extra.env },
      timeoutMs: this.opts.timeoutMs,
      input: extra.input,
      okCodes: extra.okCodes,
    });
  }

  /** A command that talks to the remote: credentials exist only for its duration. */
  private async network(args: string[], opts: { write: boolean }): Promise<GitOutput> {
    const auth = await openGitAuth(this.opts.remote, this.opts.transport, {
      keyDir: this.opts.keyDir,
      knownHostsFile: path.join(this.opts.dir, "known_hosts"),
      connectTimeoutSeconds: Math.max(1, Math.min(30, Math.ceil(this.opts.timeoutMs / 1000))),
    });
    try {
      return await runGit(args, {
        cwd: this.opts.dir,
        env: { ...this.env, ...auth.env },
        timeoutMs: this.opts.timeoutMs,
        secrets: auth.secrets,
        write: opts.write,
      });
    } finally {
      await auth.dispose();
    }
  }

  /** Creates the bare clone, or repairs it: a crashed or killed git leaves lock files and temporary indexes behind. */
  async open(opts: { removeStaleFiles: boolean }): Promise<void> {
    if (opts.removeStaleFiles) await removeStale(this.gitDir);
    // Fast path without spawning git: the config line `git config` writes for a plain URL (a small
    // file, read synchronously: this runs before every operation).
    let config = "";
    try {
      config = readFileSync(path.join(this.gitDir, "config"), "utf8");
    } catch {
      // not created yet
    }
    if (config.includes(`\turl = ${this.opts.remote.url}\n`)) return;
    const ok = await this.git(["config", "--get", "remote.origin.url"]).then(
      (out) => out.stdout.toString().trim() === this.opts.remote.url,
      () => false,
    );
    if (ok) return;
    this.store.close();
    await rm(this.gitDir, { recursive: true, force: true });
    await this.git(["init", "--bare", "--quiet"]);
    // The plain URL: credentials are given to each command through its environment.
    await this.git(["config", "remote.origin.url", this.opts.remote.url]);
  }

  async lsRemote(): Promise<{ defaultBranch: string | null; branches: Branch[]; empty: boolean }> {
    const out = (await this.network(["ls-remote", "--symref", "origin"], { write: false })).stdout.toString();
    let head: string | null = null;
    let refCount = 0;
    const branches: Branch[] = [];
    for (const line of out.split("\n")) {
      const [left = "", name = ""] = line.split("\t");
      if (left.startsWith("ref: ")) {
        if (name === "HEAD") head = left.slice(5).replace(/^refs\/heads\//, "");
        continue;
      }
      if (!OBJECT_ID.test(left)) continue;
      refCount++;
      if (name.startsWith("refs/heads/")) branches.push({ name: name.slice(11), sha: left });
    }
    const defaultBranch = branches.some((b) => b.name === head) ? head : null;
    return { defaultBranch, branches, empty: refCount === 0 };
  }

  /** Write check without writing: a dry-run push of an empty commit to a ref nobody uses. */
  async probePush(): Promise<void> {
    const tree = await this.store.write("tree", Buffer.alloc(0));
    const commit = await this.commitTree(tree, null, "Juanie write access check\n");
    const ref = `refs/heads/juanie-access-check-${randomBytes(6).toString("hex")}`;
    await this.network(["push", "--dry-run", "--porcelain", "origin", `${commit}:${ref}`], { write: true });
  }

  async fetchBranch(branch: string): Promise<string> {
    const local = trackingRef(branch);
    try {
      await this.network(
        ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "origin", `+refs/heads/${branch}:${local}`],
        { write: false },
      );
    } catch (error) {
      if (error instanceof GitError && error.reason === "branch_not_found") {
        await this.git(["update-ref", "-d", local]).catch(() => undefined);
      }
      throw error;
    }
    const head = await this.store.readRef(local);
    if (!head) throw new GitError("unknown", `fetching ${branch} left no ref behind`);
    return head;
  }

  /** The head of `branch` to build on: fetched when asked or unknown, else the one this cache last saw. */
  async tip(branch: string, createFrom: string | undefined, opts: { fetch: boolean }): Promise<Tip> {
    if (!opts.fetch) {
      const known = await this.store.readRef(trackingRef(branch));
      if (known) return { head: known, exists: true, fetched: false };
    }
    try {
      return { head: await this.fetchBranch(branch), exists: true, fetched: true };
    } catch (error) {
      if (!(createFrom && error instanceof GitError && error.reason === "branch_not_found")) throw error;
      return { head: await this.fetchBranch(createFrom), exists: false, fetched: true };
    }
  }

  /** A branch name (fetched when `refresh` or not yet known) or a commit id (fetched when missing). */
  async resolve(rev: string, opts: { refresh: boolean }): Promise<string> {
    if (OBJECT_ID.test(rev) && rev.length === 40) {
      const found = await this.store.read(rev);
      if (found?.type === "commit") return rev;
      if (found) throw new GitError("unknown", `${rev} is a ${found.type}, not a commit`);
      await this.network(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "origin", rev], { write: false });
      if ((await this.store.read(rev))?.type !== "commit") throw new GitError("unknown", `${rev} is not a commit`);
      return rev;
    }
    if (ABBREVIATED_ID.test(rev)) {
      const found = await this.tryRevParse(`${rev}^{commit}`);
      if (found) return found;
    }
    if (!isValidBranchName(rev)) throw new RangeError(`'${rev}' is neither a commit id nor a valid branch name.`);
    if (!opts.refresh) {
      const known = await this.store.readRef(trackingRef(rev));
      if (known) return known;
    }
    return this.fetchBranch(rev);
  }

  /** A commit id that should be in the fetched history (the `since` of a log); fetched by id if it is not. */
  async resolveKnown(rev: string): Promise<string> {
    const found = await this.tryRevParse(`${rev}^{commit}`);
    if (found) return found;
    const fetched = OBJECT_ID.test(rev) ? await this.resolve(rev, { refresh: false }).catch(() => null) : null;
    if (!fetched)
      throw new GitError("unknown", `commit ${rev} is not in the history of the remote (force-pushed away?)`);
    return fetched;
  }

  /** Whether `sha` is `head` or one of its ancestors; false when the commit is not in this clone at all. */
  async isAncestor(sha: string, head: string): Promise<boolean> {
    if ((await this.store.read(sha))?.type !== "commit") return false;
    const out = await this.git(["merge-base", "--is-ancestor", sha, head], { okCodes: [0, 1] });
    return out.code === 0;
  }

  private async tryRevParse(rev: string): Promise<string | null> {
    return this.git(["rev-parse", "--verify", "--quiet", rev]).then(
      (out) => out.stdout.toString().trim(),
      () => null,
    );
  }

  // ----- objects, read and written in this process through the object store -----

  /** The root tree of a commit (or the tree itself). */
  private async rootTree(rev: string): Promise<string> {
    const object = await this.store.read(rev);
    if (object?.type === "tree") return rev;
    if (object?.type === "commit") return commitTreeOf(object.data);
    throw new GitError("unknown", `${rev} is not a commit or tree in the cached clone`);
  }

  private async readTree(oid: string): Promise<TreeEntry[]> {
    const object = await this.store.read(oid);
    if (object?.type !== "tree") throw new GitError("unknown", `tree ${oid} is missing from the cached clone`);
    return parseTreeObject(object.data);
  }

  /** The entry at a repo-relative path, or null. */
  private async entryAt(rootTree: string, file: string): Promise<TreeEntry | null> {
    let tree = rootTree;
    const parts = file.split("/");
    for (let i = 0; i < parts.length; i++) {
      const name = rawName(parts[i] ?? "");
      const entry = (await this.readTree(tree)).find((e) => e.name === name);
      if (!entry) return null;
      if (i === parts.length - 1) return entry;
      if (!isTreeMode(entry.mode)) return null;
      tree = entry.oid;
    }
    return null;
  }

  /** Regular files (not symlinks or submodules) under `dir` at `rev`, in path order. */
  async listFiles(rev: string, dir: string): Promise<string[]> {
    const root = await this.rootTree(rev);
    let start = root;
    if (dir) {
      const entry = await this.entryAt(root, dir);
      if (!entry || !isTreeMode(entry.mode)) return [];
      start = entry.oid;
    }
    return (await this.walk(start, dir)).map((file) => file.path).sort();
  }

  /** Every regular file below a tree: trees of one depth are read in one batch. */
  private async walk(tree: string, prefix: string): Promise<{ path: string; oid: string; mode: string }[]> {
    const files: { path: string; oid: string; mode: string }[] = [];
    let level = [{ oid: tree, prefix }];
    while (level.length) {
      const objects = await this.store.readMany(level.map((t) => t.oid));
      const next: { oid: string; prefix: string }[] = [];
      level.forEach((t, i) => {
        const object = objects[i];
        if (object?.type !== "tree") throw new GitError("unknown", `tree ${t.oid} is missing from the cached clone`);
        for (const entry of parseTreeObject(object.data)) {
          const name = displayName(entry.name);
          const full = t.prefix ? `${t.prefix}/${name}` : name;
          if (isTreeMode(entry.mode)) next.push({ oid: entry.oid, prefix: full });
          else if (isRegularFile(entry.mode)) files.push({ path: full, oid: entry.oid, mode: entry.mode });
        }
      });
      level = next;
    }
    return files;
  }

  /** Contents of the regular files among `paths` at `rev` (a commit or a tree); absent paths are left out. */
  async readMany(rev: string, paths: string[]): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    if (paths.length === 0) return result;
    const root = await this.rootTree(rev);
    const found: { path: string; oid: string }[] = [];
    for (const file of paths) {
      const entry = await this.entryAt(root, file);
      if (entry && isRegularFile(entry.mode)) found.push({ path: file, oid: entry.oid });
    }
    const blobs = await this.store.readMany(found.map((f) => f.oid));
    found.forEach((f, i) => {
      const blob = blobs[i];
      if (blob?.type === "blob") result.set(f.path, blob.data.toString("utf8"));
    });
    return result;
  }

  /** Every regular file under `dir` at `rev`, with its content. */
  private async readDir(rev: string, dir: string): Promise<Map<string, string>> {
    const root = await this.rootTree(rev);
    let start = root;
    if (dir) {
      const entry = await this.entryAt(root, dir);
      if (!entry || !isTreeMode(entry.mode)) return new Map();
      start = entry.oid;
    }
    const files = (await this.walk(start, dir)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const blobs = await this.store.readMany(files.map((f) => f.oid));
    const result = new Map<string, string>();
    files.forEach((f, i) => {
      const blob = blobs[i];
      if (blob?.type === "blob") result.set(f.path, blob.data.toString("utf8"));
    });
    return result;
  }

  fileAccess(head: string): FileAccess {
    const commitOf = (rev: string) => (rev === head ? head : this.resolve(rev, { refresh: false }));
    const readAt = async (rev: string, file: string) => {
      const normalized = normalizeFile(file);
      return (await this.readMany(await commitOf(rev), [normalized])).get(normalized) ?? null;
    };
    const listAt = async (rev: string, dir: string) => this.listFiles(await commitOf(rev), normalizeDir(dir));
    const readDir = async (dir: string, rev: string = head) =>
      Object.fromEntries(await this.readDir(await commitOf(rev), normalizeDir(dir)));
    const commitsSince = async (since: string, limit: number) => {
      if (!OBJECT_ID.test(since) || since.length !== 40) return null;
      if ((await this.store.read(since))?.type !== "commit") return null;
      const ancestor = await this.git(["merge-base", "--is-ancestor", since, head], { okCodes: [1] });
      if (ancestor.code !== 0) return null;
      const args = ["log", "-z", "--name-only", "--no-renames", "--diff-merges=first-parent", `--format=${LOG_FORMAT}`];
      args.push(`--max-count=${limit + 1}`, `${since}..${head}`, "--");
      const commits = parseLog((await this.git(args)).stdout.toString());
      return commits.length > limit ? null : commits;
    };
    return {
      head,
      read: (file) => readAt(head, file),
      list: (dir) => listAt(head, dir),
      readAt,
      listAt,
      readDir,
      commitsSince,
    };
  }

  /**
   * The tree of `base` (a commit, or nothing) with `changes` applied, built in this process: only the
   * trees on the changed paths are rewritten. An existing file keeps its executable bit; anything
   * else becomes a regular file.
   */
  async applyChanges(
    base: string | null,
    changes: FileChanges,
  ): Promise<{ tree: string; changed: boolean; changedFiles: string[] }> {
    const edits: FileEdit[] = [];
    const seen = new Set<string>();
    for (const [file, content] of Object.entries(changes)) {
      if (content !== null && typeof content !== "string") throw new TypeError(`Content of '${file}' is not a string.`);
      const normalized = normalizeFile(file);
      if (seen.has(normalized)) throw new RangeError(`'${file}' is changed twice.`);
      seen.add(normalized);
      edits.push({ parts: normalized.split("/").map(rawName), path: normalized, content });
    }
    const baseTree = base ? await this.rootTree(base) : null;
    const changedFiles: string[] = [];
    const edited = await this.editTree(baseTree, edits, changedFiles);
    const tree = edited ?? (await this.store.write("tree", Buffer.alloc(0)));
    return { tree, changed: tree !== baseTree, changedFiles: changedFiles.sort() };
  }

  /** `tree` (null: none) with `edits` applied below it; null when nothing is left in it. */
  private async editTree(tree: string | null, edits: FileEdit[], changedFiles: string[]): Promise<string | null> {
    const entries = new Map<string, TreeEntry>();
    if (tree) for (const entry of await this.readTree(tree)) entries.set(entry.name, entry);
    let dirty = false;
    const nested = new Map<string, FileEdit[]>();
    for (const edit of edits) {
      const [name = "", ...rest] = edit.parts;
      if (rest.length) {
        nested.set(name, [...(nested.get(name) ?? []), { ...edit, parts: rest }]);
        continue;
      }
      const existing = entries.get(name);
      if (existing && isTreeMode(existing.mode) && edit.content !== null) {
        throw new GitError("unknown", `cannot write ${edit.path}: it is a directory in the repository`);
      }
      if (edit.content === null) {
        if (existing && !isTreeMode(existing.mode)) {
          entries.delete(name);
          dirty = true;
          if (isRegularFile(existing.mode)) changedFiles.push(edit.path);
        }
        continue;
      }
      const oid = await this.store.write("blob", Buffer.from(edit.content, "utf8"));
      const mode = existing?.mode === "100755" ? "100755" : "100644";
      if (existing?.oid === oid && existing.mode === mode) continue;
      entries.set(name, { mode, name, oid });
      dirty = true;
      changedFiles.push(edit.path);
    }
    for (const [name, subEdits] of nested) {
      const existing = entries.get(name);
      const subtree = existing && isTreeMode(existing.mode) ? existing.oid : null;
      if (existing && !subtree) {
        // Only deletions below something that is not a directory: nothing to do. A write is refused, as
        // git refuses a file/directory clash: a symlink in the repository is never replaced or followed.
        const write = subEdits.find((e) => e.content !== null);
        if (!write) continue;
        throw new GitError(
          "unknown",
          `cannot write ${write.path}: a parent path is a file or symlink, not a directory`,
        );
      }
      const edited = await this.editTree(subtree, subEdits, changedFiles);
      if (edited === subtree) continue;
      if (edited === null) entries.delete(name);
      else entries.set(name, { mode: "40000", name, oid: edited });
      dirty = true;
    }
    if (!dirty) return tree;
    if (entries.size === 0) return null;
    return this.store.write("tree", serializeTree([...entries.values()]));
  }

  /** The changed files of `change` before (at `head`) and after it. */
  async contentsOf(head: string, change: { tree: string; changedFiles: string[] }) {
    const before = await this.readMany(head, change.changedFiles);
    const after = await this.readMany(change.tree, change.changedFiles);
    const pick = (contents: Map<string, string>) =>
      Object.fromEntries(change.changedFiles.map((file) => [file, contents.get(file) ?? null]));
    return { changedFiles: change.changedFiles, before: pick(before), after: pick(after) };
  }

  async commitTree(tree: string, parent: string | null, message: string): Promise<string> {
    const { name, email } = this.opts.identity;
    const ident = `${name} <${email}> ${Math.floor(Date.now() / 1000)} +0000`;
    const text = `tree ${tree}\n${parent ? `parent ${parent}\n` : ""}author ${ident}\ncommitter ${ident}\n\n${message}`;
    return this.store.write("commit", Buffer.from(text, "utf8"));
  }

  /**
   * Pushes `commit` to `branch` only if the branch is still at `expected` (null: still absent): a
   * compare-and-swap, so a concurrent push is always detected and never overwritten.
   */
  async push(commit: string, branch: string, expected: string | null): Promise<void> {
    const ref = `refs/heads/${branch}`;
    await this.network(
      ["push", "--porcelain", `--force-with-lease=${ref}:${expected ?? ""}`, "origin", `${commit}:${ref}`],
      { write: true },
    );
    // The push is done: the cache's idea of the head is only a shortcut. If it cannot be recorded,
    // forget it, so the next operation fetches instead of trusting an old head.
    await this.store.writeRef(trackingRef(branch), commit).catch(async () => {
      await rm(path.join(this.gitDir, trackingRef(branch)), { force: true }).catch(() => {});
    });
  }
}

interface FileEdit {
  /** Path components still to descend. */
  parts: string[];
  /** The whole repo-relative path. */
  path: string;
  content: string | null;
}

/**
 * The message with `Key: value` trailers appended as `git interpret-trailers` does: to the last
 * paragraph when it already is a trailer block (never to the subject), else as a new paragraph.
 */
export function composeMessage(message: string, trailers: Record<string, string>): string {
  const body = message.replace(/\r\n?/g, "\n").trim();
  if (!body) throw new RangeError("The commit message is empty.");
  const lines: string[] = [];
  for (const [key, value] of Object.entries(trailers)) {
    if (!TRAILER_KEY.test(key)) throw new RangeError(`'${key}' is not a valid trailer key.`);
    if (/[\r\n]/.test(value)) throw new RangeError(`The value of trailer '${key}' contains a line break.`);
    lines.push(`${key}: ${value.trim()}`);
  }
  if (!lines.length) return `${body}\n`;
  const paragraphs = body.split(/\n[ \t]*\n/);
  const last = paragraphs[paragraphs.length - 1] ?? "";
  const isTrailerBlock =
    paragraphs.length > 1 && last.split("\n").every((line) => /^[A-Za-z0-9][A-Za-z0-9-]*:\s/.test(line));
  return `${body}\n${isTrailerBlock ? "" : "\n"}${lines.join("\n")}\n`;
}

/** Remote branches are fetched into hashed refs, so branches `a` and `a/b` never collide in the cache. */
function trackingRef(branch: string): string {
  return `refs/juanie/branches/${createHash("sha256").update(branch).digest("hex")}`;
}

function isRegularFile(mode: string): boolean {
  return mode === "100644" || mode === "100755";
}

function parseLog(out: string): (CommitInfo & { files: string[] })[] {
  if (!out.startsWith("\x1e")) return [];
  return out
    .slice(1)
    .split("\0\x1e")
    .map((chunk) => {
      // Metadata ends at the first NUL (a commit message cannot contain one); file names follow.
      const end = chunk.indexOf("\0");
      const meta = end < 0 ? chunk : chunk.slice(0, end);
      const files =
        end < 0
          ? []
          : chunk
              .slice(end + 1)
              .replace(/^\n/, "")
              .split("\0")
              .filter(Boolean);
      const fields = meta.split("\x1f");
      const [
        sha = "",
        parents = "",
        authorName = "",
        authorEmail = "",
        authoredAt = "",
        committedAt = "",
        trailerText = "",
      ] = fields;
      const subject = fields[7] ?? "";
      const body = fields.slice(8).join("\x1f").trim();
      const trailers: Record<string, string> = {};
      for (const trailer of trailerText.split("\x1d").filter(Boolean)) {
        const colon = trailer.indexOf(":");
        if (colon <= 0) continue;
        const key = trailer.slice(0, colon).trim();
        const value = trailer.slice(colon + 1).trim();
        trailers[key] = trailers[key] ? `${trailers[key]}, ${value}` : value;
      }
      return {
        sha,
        parents: parents.split(" ").filter(Boolean),
        authorName,
        authorEmail,
        authoredAt,
        committedAt,
        subject,
        body,
        trailers,
        files,
      };
    });
}

function assertBranchName(branch: string) {
  if (!isValidBranchName(branch)) throw new RangeError(`'${branch}' is not a valid branch name.`);
}

/** A repo-relative file path, refused when it could leave the repository or touch `.git`. */
function normalizeFile(file: string): string {
  const normalized = file.replace(/^(\.\/)+/, "");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused in paths
  const bad = !normalized || normalized.startsWith("/") || /[\u0000-\u001f\u007f\\]/.test(normalized);
  if (bad || normalized.split("/").some((part) => ["", ".", ".."].includes(part) || part.toLowerCase() === ".git")) {
    throw new RangeError(`'${file}' is not a valid repository path.`);
  }
  return normalized;
}

/** A repo-relative directory; "", "." and "/" mean the whole repository. */
function normalizeDir(dir: string): string {
  const trimmed = dir.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  return trimmed === "" || trimmed === "." ? "" : normalizeFile(trimmed);
}

/** Lock files and temporary indexes left by a git process that crashed or was killed on timeout. */
async function removeStale(gitDir: string): Promise<void> {
  const exists = await stat(gitDir).then(
    () => true,
    () => false,
  );
  if (!exists) return;
  for (const name of await readdir(gitDir)) {
    if (name.endsWith(".lock") || name.startsWith("juanie-index-")) await rm(path.join(gitDir, name), { force: true });
  }
  const refs = await readdir(path.join(gitDir, "refs"), { recursive: true }).catch(() => []);
  for (const name of refs) {
    if (name.endsWith(".lock")) await rm(path.join(gitDir, "refs", name), { force: true });
  }
}
