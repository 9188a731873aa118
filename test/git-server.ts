import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface GitServer {
  /** Base URL, e.g. http://127.0.0.1:1234; repositories are at `${url}/<name>.git`. */
  url: string;
  root: string;
  /** Requests seen, for assertions (method, path, `?service=` of a ref discovery, whether auth was given). */
  requests: { method: string; path: string; service: string | null; authorized: boolean }[];
  createRepo(name: string, opts?: { withInitialCommit?: boolean; defaultBranch?: string }): Promise<string>;
  /** Run git inside a bare repository (e.g. to read what was pushed). */
  git(repo: string, args: string[]): Promise<string>;
  /**
   * Calls `listener` with the repository path (`/name.git`) each time a push to it has been received
   * (its receive-pack answer sent). Returns the function that removes the listener.
   */
  onPushed(listener: (repoPath: string) => void): () => void;
  /**
   * Holds every push as it arrives (before Git sees it) until `decide` answers: "pass" lets Git receive
   * it, "drop" breaks the connection (the push never lands), "land-and-drop" lets it land and then breaks
   * the connection instead of answering (the pusher cannot know). For crash tests. Returns the remover.
   */
  interceptPushes(decide: (repoPath: string, update: PushedRef | null) => Promise<PushDecision>): () => void;
  close(): Promise<void>;
}

export type PushDecision = "pass" | "drop" | "land-and-drop";

/** The first ref update of a push (null when its body could not be read, e.g. compressed). */
export interface PushedRef {
  oldSha: string;
  newSha: string;
  ref: string;
}

/** Reads the start of a request body (at least `min` bytes, or all of it), leaving the rest unread. */
function readStart(req: http.IncomingMessage, min: number): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const done = (ended: boolean) => {
      req.off("data", onData);
      req.off("end", onEnd);
      if (!ended) req.pause();
      resolve({ head: Buffer.concat(chunks), ended });
    };
    const onData = (c: Buffer) => {
      chunks.push(c);
      length += c.length;
      if (length >= min) done(false);
    };
    const onEnd = () => done(true);
    req.on("data", onData);
    req.on("end", onEnd);
  });
}

/**
 * A real smart-HTTP Git server for tests: `git http-backend` (CGI) behind a small Node server that
 * demands HTTP Basic auth with a token. Read-only tokens may fetch but not push.
 */
export async function startGitServer(opts: { token: string; readOnlyToken?: string }): Promise<GitServer> {
  const root = await mkdtemp(path.join(os.tmpdir(), "juanie-git-"));
  const requests: GitServer["requests"] = [];
  const pushListeners = new Set<(repoPath: string) => void>();
  let intercept: ((repoPath: string, update: PushedRef | null) => Promise<PushDecision>) | null = null;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const auth = req.headers.authorization ?? "";
    const password = auth.startsWith("Basic ")
      ? Buffer.from(auth.slice(6), "base64").toString().split(":").slice(1).join(":")
      : "";
    const isPush = url.searchParams.get("service") === "git-receive-pack" || url.pathname.endsWith("/git-receive-pack");
    const authorized = password === opts.token || (!isPush && password === opts.readOnlyToken && !!opts.readOnlyToken);
    requests.push({
      method: req.method ?? "GET",
      path: url.pathname,
      service: url.searchParams.get("service"),
      authorized,
    });
    if (!password) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="git"' }).end("authentication required");
      return;
    }
    if (!authorized) {
      const readOnly = !!opts.readOnlyToken && password === opts.readOnlyToken;
      res.writeHead(readOnly ? 403 : 401, readOnly ? {} : { "www-authenticate": 'Basic realm="git"' });
      res.end(readOnly ? "write access denied" : "bad credentials");
      return;
    }
    let held: { head: Buffer; ended: boolean } | null = null;
    let answer = true;
    if (intercept && req.method === "POST" && url.pathname.endsWith("/git-receive-pack")) {
      held = await readStart(req, 200);
      // pkt-line: 4 hex digits of length, then "<old> <new> <ref>\0<capabilities>".
      const m = req.headers["content-encoding"]
        ? null
        : /^[0-9a-f]{4}([0-9a-f]{40}) ([0-9a-f]{40}) ([^\0\s]+)/.exec(held.head.toString("latin1"));
      const update = m ? { oldSha: m[1]!, newSha: m[2]!, ref: m[3]! } : null;
      const decision = await intercept(url.pathname.slice(0, -"/git-receive-pack".length), update);
      if (decision === "drop") {
        req.socket.destroy();
        return;
      }
      answer = decision === "pass";
    }
    const cgi = spawn("/usr/lib/git-core/git-http-backend", [], {
      env: {
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        CONTENT_LENGTH: req.headers["content-length"] ?? "",
        HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
        GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
        REMOTE_USER: "test",
        REMOTE_ADDR: "127.0.0.1",
      },
    });
    if (held?.ended) cgi.stdin.end(held.head);
    else {
      if (held) cgi.stdin.write(held.head);
      req.pipe(cgi.stdin);
    }
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (!answer) return;
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const sep = head.indexOf("\r\n\r\n");
      if (sep < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, sep).toString().split("\r\n")) {
        const i = line.indexOf(":");
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === "status") status = Number.parseInt(v, 10);
        else res.setHeader(k, v);
      }
      res.writeHead(status);
      res.write(head.subarray(sep + 4));
    });
    cgi.stdout.on("end", () => {
      if (!answer) {
        req.socket.destroy();
        return;
      }
      res.end();
      if (req.method === "POST" && url.pathname.endsWith("/git-receive-pack")) {
        const repoPath = url.pathname.slice(0, -"/git-receive-pack".length);
        for (const listener of pushListeners) listener(repoPath);
      }
    });
    cgi.on("error", () => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const git = async (repo: string, args: string[]) =>
    (await run("git", args, { cwd: path.join(root, `${repo}.git`) })).stdout;

  return {
    url: `http://127.0.0.1:${port}`,
    root,
    requests,
    git,
    onPushed(listener) {
      pushListeners.add(listener);
      return () => pushListeners.delete(listener);
    },
    async createRepo(name, o = {}) {
      const dir = path.join(root, `${name}.git`);
      await mkdir(dir, { recursive: true });
      const branch = o.defaultBranch ?? "main";
      await run("git", ["init", "--bare", "--quiet", `--initial-branch=${branch}`, dir]);
      await run("git", ["config", "http.receivepack", "true"], { cwd: dir });
      if (o.withInitialCommit) {
        const work = await mkdtemp(path.join(os.tmpdir(), "juanie-git-seed-"));
        const g = (args: string[]) =>
          run("git", ["-c", "user.name=Seed", "-c", "user.email=seed@example.com", ...args], { cwd: work });
        await g(["init", "--quiet", `--initial-branch=${branch}`]);
        await g(["commit", "--quiet", "--allow-empty", "-m", "initial commit"]);
        await g(["push", "--quiet", dir, `${branch}:${branch}`]);
        await rm(work, { recursive: true, force: true });
      }
      return `http://127.0.0.1:${port}/${name}.git`;
    },
    interceptPushes(decide) {
      intercept = decide;
      return () => {
        if (intercept === decide) intercept = null;
      };
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
    },
  };
}
