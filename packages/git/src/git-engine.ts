import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
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

interface PreparedChange {
  /** The commit the edit was applied on. */
  head: string;
  /** Whether `branch` exists on the remote (false when it is being created from `createFrom`). */
  exists: boolean;
  tree: string;
  changed: boolean;
  changedFiles: string[];
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
  private readonly identity: { name: string; email: string };
  private readonly timeoutMs: number;
  private readonly allowLocal: boolean;
  private readonly allowInsecureHttp: boolean;

  constructor(opts: GitEngineOptions) {
    this.cacheDir = path.resolve(opts.cacheDir);
    this.identity = opts.identity;
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
   * platform identity and pushes. A push rejected because the branch moved fetches the new head and
   * runs `edit` again, up to `maxAttempts` times. No changes: no commit, `sha` null.
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
    },
  ): Promise<{ sha: string | null; parent: string; attempts: number; changedFiles: string[] }> {
    assertBranchName(opts.branch);
    if (opts.createFrom !== undefined) assertBranchName(opts.createFrom);
    const maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
    return this.withRepo(remote, async (repo) => {
      const message = await repo.composeMessage(opts.message, opts.trailers ?? {});
      for (let attempt = 1; ; attempt++) {
        const change = await repo.prepareChange(opts.branch, opts.createFrom, (files) => opts.edit(files, attempt));
        if (!change.changed) return { sha: null, parent: change.head, attempts: attempt, changedFiles: [] };
        const sha = await repo.commitTree(change.tree, change.head, message);
        try {
          await repo.push(sha, opts.branch, change.exists ? change.head : null);
          return { sha, parent: change.head, attempts: attempt, changedFiles: change.changedFiles };
        } catch (error) {
          if (!(error instanceof GitError && error.reason === "non_fast_forward") || attempt >= maxAttempts)
            throw error;
          // Someone else pushed: back off a little so two platforms racing on one branch interleave.
          await sleep(25 * attempt + Math.floor(Math.random() * 50));
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
    return this.withRepo(remote, async (repo) => {
      const message = await repo.composeMessage(opts.message, {});
      const tree = await repo.writeTree(null, opts.files);
      const sha = await repo.commitTree(tree, null, message);
      await repo.push(sha, opts.branch, null);
      return { sha };
    });
  }

  /** The unified diff `edit` would commit, without committing: the same path as `commit` up to the commit. */
  async preview(
    remote: GitRemote,
    opts: { branch: string; createFrom?: string; edit: (files: FileAccess) => Promise<FileChanges> },
  ): Promise<{
    head: string;
    diff: string;
    changedFiles: string[];
    before: Record<string, string | null>;
    after: Record<string, string | null>;
  }> {
    assertBranchName(opts.branch);
    if (opts.createFrom !== undefined) assertBranchName(opts.createFrom);
    return this.withRepo(remote, async (repo) => {
      const change = await repo.prepareChange(opts.branch, opts.createFrom, opts.edit);
      if (!change.changed) return { head: change.head, diff: "", changedFiles: [], before: {}, after: {} };
      const diff = await repo.git([
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-renames",
        change.head,
        change.tree,
      ]);
      const before = await repo.readMany(change.head, change.changedFiles);
      const after = await repo.readMany(change.tree, change.changedFiles);
      const pick = (contents: Map<string, string>) =>
        Object.fromEntries(change.changedFiles.map((file) => [file, contents.get(file) ?? null]));
      return {
        head: change.head,
        diff: diff.stdout.toString(),
        changedFiles: change.changedFiles,
        before: pick(before),
        after: pick(after),
      };
    });
  }

  private async withRepo<T>(remote: GitRemote, fn: (repo: CachedRepo) => Promise<T>): Promise<T> {
    const check = validateRemoteUrl(remote.url, {
      allowLocal: this.allowLocal,
      allowInsecureHttp: this.allowInsecureHttp,
    });
    if (!check.ok) throw new GitError("invalid_url", check.message);
    const dir = path.join(this.cacheDir, createHash("sha256").update(remote.url).digest("hex").slice(0, 32));
    return withRepoLock(dir, async () => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
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
      });
      await repo.open();
      return fn(repo);
    });
  }
}

/** One bare cached clone, used only while its lock is held. */
class CachedRepo {
  private readonly gitDir: string;
  private readonly env: Record<string, string>;

  constructor(
    private readonly opts: {
      dir: string;
      remote: GitRemote;
      transport: RemoteTransport;
      identity: { name: string; email: string };
      timeoutMs: number;
      env: Record<string, string>;
    },
  ) {
    this.gitDir = path.join(opts.dir, "repo.git");
    this.env = { ...opts.env, GIT_DIR: this.gitDir };
  }

  /** A local git command (no credentials in its environment). */
  git(args: string[], extra: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<GitOutput> {
    return runGit(args, {
      cwd: this.opts.dir,
      env: { ...this.env, ...extra.env },
      timeoutMs: this.opts.timeoutMs,
      input: extra.input,
    });
  }

  /** A command that talks to the remote: credentials exist only for its duration. */
  private async network(args: string[], opts: { write: boolean }): Promise<GitOutput> {
    const auth = await openGitAuth(this.opts.remote, this.opts.transport, {
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
  async open(): Promise<void> {
    await removeStale(this.gitDir);
    // Fast path without spawning git: the config line `git config` writes for a plain URL.
    const config = await readFile(path.join(this.gitDir, "config"), "utf8").catch(() => "");
    if (config.includes(`\turl = ${this.opts.remote.url}\n`)) return;
    const ok = await this.git(["config", "--get", "remote.origin.url"]).then(
      (out) => out.stdout.toString().trim() === this.opts.remote.url,
      () => false,
    );
    if (ok) return;
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
    const tree = await this.emptyTree();
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
    return this.revParse(local);
  }

  /** A branch name (fetched when `refresh` or not yet known) or a commit id (fetched when missing). */
  async resolve(rev: string, opts: { refresh: boolean }): Promise<string> {
    if (ABBREVIATED_ID.test(rev)) {
      const found = await this.tryRevParse(`${rev}^{commit}`);
      if (found) return found;
      if (OBJECT_ID.test(rev)) {
        await this.network(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "origin", rev], { write: false });
        return this.revParse(`${rev}^{commit}`);
      }
    }
    if (!isValidBranchName(rev)) throw new RangeError(`'${rev}' is neither a commit id nor a valid branch name.`);
    if (!opts.refresh) {
      const known = await this.tryRevParse(trackingRef(rev));
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

  private async revParse(rev: string): Promise<string> {
    return (await this.git(["rev-parse", "--verify", "--quiet", rev])).stdout.toString().trim();
  }

  private async tryRevParse(rev: string): Promise<string | null> {
    return this.revParse(rev).catch(() => null);
  }

  private async emptyTree(): Promise<string> {
    return (await this.git(["hash-object", "-t", "tree", "-w", "--stdin"], { input: "" })).stdout.toString().trim();
  }

  /** Regular files (not symlinks or submodules) under `dir` at `rev`. */
  async listFiles(rev: string, dir: string): Promise<string[]> {
    const out = await this.git(["ls-tree", "-r", "-z", "--full-tree", rev, "--", ...(dir ? [dir] : [])]);
    return parseTree(out.stdout.toString())
      .filter((entry) => isRegularFile(entry.mode) && (!dir || entry.path.startsWith(`${dir}/`)))
      .map((entry) => entry.path);
  }

  /** Contents of the regular files among `paths` at `rev` (a commit or a tree); absent paths are left out. */
  async readMany(rev: string, paths: string[]): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    if (paths.length === 0) return result;
    const wanted = new Set(paths);
    const entries = await this.treeEntries(rev, paths);
    const files = entries.filter((entry) => wanted.has(entry.path) && isRegularFile(entry.mode));
    if (files.length === 0) return result;
    const input = `${files.map((entry) => entry.sha).join("\n")}\n`;
    const out = (await this.git(["cat-file", "--batch"], { input })).stdout;
    let offset = 0;
    for (const file of files) {
      const newline = out.indexOf(10, offset);
      const size = Number(out.subarray(offset, newline).toString().split(" ")[2]);
      result.set(file.path, out.subarray(newline + 1, newline + 1 + size).toString());
      offset = newline + 1 + size + 1;
    }
    return result;
  }

  private async treeEntries(rev: string, paths: string[]) {
    const out = await this.git(["ls-tree", "-z", "--full-tree", rev, "--", ...paths]);
    return parseTree(out.stdout.toString());
  }

  fileAccess(head: string): FileAccess {
    const readAt = async (rev: string, file: string) => {
      const commit = rev === head ? head : await this.resolve(rev, { refresh: false });
      const normalized = normalizeFile(file);
      return (await this.readMany(commit, [normalized])).get(normalized) ?? null;
    };
    const listAt = async (rev: string, dir: string) => {
      const commit = rev === head ? head : await this.resolve(rev, { refresh: false });
      return this.listFiles(commit, normalizeDir(dir));
    };
    const readDir = async (dir: string, rev: string = head) => {
      const commit = rev === head ? head : await this.resolve(rev, { refresh: false });
      const files = await this.listFiles(commit, normalizeDir(dir));
      return Object.fromEntries(await this.readMany(commit, files));
    };
    return { head, read: (file) => readAt(head, file), list: (dir) => listAt(head, dir), readAt, listAt, readDir };
  }

  /** Fetch, edit, build the new tree: everything of a commit short of the commit itself. */
  async prepareChange(
    branch: string,
    createFrom: string | undefined,
    edit: (files: FileAccess) => Promise<FileChanges>,
  ): Promise<PreparedChange> {
    let head: string;
    let exists = true;
    try {
      head = await this.fetchBranch(branch);
    } catch (error) {
      if (!(createFrom && error instanceof GitError && error.reason === "branch_not_found")) throw error;
      head = await this.fetchBranch(createFrom);
      exists = false;
    }
    const changes = await edit(this.fileAccess(head));
    const tree = await this.writeTree(head, changes);
    const headTree = await this.revParse(`${head}^{tree}`);
    if (tree === headTree) return { head, exists, tree, changed: false, changedFiles: [] };
    const diff = await this.git(["diff-tree", "-r", "-z", "--name-only", "--no-renames", headTree, tree]);
    const changedFiles = diff.stdout.toString().split("\0").filter(Boolean);
    return { head, exists, tree, changed: true, changedFiles };
  }

  /** The tree of `base` (or of nothing) with `changes` applied, built in a temporary index. */
  async writeTree(base: string | null, changes: FileChanges): Promise<string> {
    const normalized = new Map<string, string | null>();
    for (const [file, content] of Object.entries(changes)) {
      if (content !== null && typeof content !== "string") throw new TypeError(`Content of '${file}' is not a string.`);
      normalized.set(normalizeFile(file), content);
    }
    const env = { GIT_INDEX_FILE: path.join(this.gitDir, `juanie-index-${randomBytes(8).toString("hex")}`) };
    try {
      await this.git(base ? ["read-tree", base] : ["read-tree", "--empty"], { env });
      const removed = [...normalized].filter(([, content]) => content === null).map(([file]) => file);
      if (removed.length && base) {
        // Mode 0 removes a path; `--force-remove <path>` would need a working tree.
        const zero = "0".repeat(base.length);
        const input = removed.map((file) => `0 ${zero}\t${file}\0`).join("");
        await this.git(["update-index", "-z", "--index-info"], { env, input });
      }
      const written = [...normalized].filter((entry): entry is [string, string] => entry[1] !== null);
      if (written.length) {
        const modes = new Map<string, string>();
        if (base) {
          for (const entry of await this.treeEntries(
            base,
            written.map(([file]) => file),
          )) {
            modes.set(entry.path, entry.mode);
          }
        }
        const args = ["update-index", "--add"];
        for (const [file, content] of written) {
          const blob = (await this.git(["hash-object", "-w", "--stdin"], { input: content })).stdout.toString().trim();
          // Keep the executable bit of an existing file; anything else becomes a regular file.
          args.push("--cacheinfo", `${modes.get(file) === "100755" ? "100755" : "100644"},${blob},${file}`);
        }
        await this.git(args, { env });
      }
      return (await this.git(["write-tree"], { env })).stdout.toString().trim();
    } finally {
      await rm(env.GIT_INDEX_FILE, { force: true });
    }
  }

  /** The message with `Key: value` trailers appended the way `git interpret-trailers` does. */
  async composeMessage(message: string, trailers: Record<string, string>): Promise<string> {
    const body = message.replace(/\r\n?/g, "\n").trim();
    if (!body) throw new RangeError("The commit message is empty.");
    const args = ["interpret-trailers", "--no-divider"];
    for (const [key, value] of Object.entries(trailers)) {
      if (!TRAILER_KEY.test(key)) throw new RangeError(`'${key}' is not a valid trailer key.`);
      if (/[\r\n]/.test(value)) throw new RangeError(`The value of trailer '${key}' contains a line break.`);
      args.push(`--trailer=${key}: ${value}`);
    }
    if (args.length === 2) return `${body}\n`;
    return (await this.git(args, { input: `${body}\n` })).stdout.toString();
  }

  async commitTree(tree: string, parent: string | null, message: string): Promise<string> {
    const { name, email } = this.opts.identity;
    const out = await this.git(["commit-tree", tree, ...(parent ? ["-p", parent] : [])], {
      input: message,
      env: { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email },
    });
    return out.stdout.toString().trim();
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
    await this.git(["update-ref", trackingRef(branch), commit]);
  }
}

/** Remote branches are fetched into hashed refs, so branches `a` and `a/b` never collide in the cache. */
function trackingRef(branch: string): string {
  return `refs/juanie/branches/${createHash("sha256").update(branch).digest("hex")}`;
}

function isRegularFile(mode: string): boolean {
  return mode === "100644" || mode === "100755";
}

function parseTree(out: string): { mode: string; type: string; sha: string; path: string }[] {
  return out
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf("\t");
      const [mode = "", type = "", sha = ""] = line.slice(0, tab).split(" ");
      return { mode, type, sha, path: line.slice(tab + 1) };
    });
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
