// The simulated source-controller (test tooling): reconciles GitRepository objects by fetching with the
// real `git` and storing the branch head as an artifact (a checkout directory), with the status fields,
// conditions and reasons Flux's source-controller sets.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { type JsonObject, type KubeObject, obj, str } from "../json.ts";
import type { ResourceType } from "../resources.ts";
import { type Condition, now, readConditions, removeCondition, setCondition } from "./conditions.ts";
import { type FluxSimulator, type GitCredentials, REQUESTED_AT_ANNOTATION } from "./controllers.ts";

const run = promisify(execFile);
const MANAGER = "source-controller";

/** Where the simulator keeps the checkout of a GitRepository's artifact for `sha`. */
export function artifactDir(workDir: string, ns: string, name: string, sha: string): string {
  return path.join(workDir, "artifacts", "gitrepository", ns, name, sha);
}

class SourceError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reconciles one GitRepository; returns when to run again (ms), or undefined to wait for a change. */
export async function reconcileGitRepository(
  sim: FluxSimulator,
  type: ResourceType,
  repo: KubeObject,
): Promise<number | undefined> {
  const ns = str(repo.metadata.namespace) as string;
  const name = str(repo.metadata.name) as string;
  const spec = obj(repo.spec) ?? {};
  if (repo.metadata.deletionTimestamp) {
    const dir = path.join(await sim.workDir(), "artifacts", "gitrepository", ns, name);
    await rm(dir, { recursive: true, force: true });
    await rm(path.join(await sim.workDir(), "git", ns, name), { recursive: true, force: true });
    sim.setFinalizer(type, repo, MANAGER, false);
    return undefined;
  }
  if (spec.suspend === true) return undefined;
  const current = sim.setFinalizer(type, repo, MANAGER, true) ?? repo;
  const generation = Number(current.metadata.generation ?? 1);
  const requestedAt = str(obj(current.metadata.annotations)?.[REQUESTED_AT_ANNOTATION]);
  const handled: JsonObject = requestedAt ? { lastHandledReconcileAt: requestedAt } : {};
  let conditions = readConditions(current.status);
  const hasReady = conditions.some((c) => c.type === "Ready");
  conditions = setCondition(conditions, "Reconciling", "True", "Progressing", "reconciliation in progress", generation);
  if (!hasReady || Number(obj(current.status)?.observedGeneration ?? 0) !== generation) {
    conditions = setCondition(conditions, "Ready", "Unknown", "Progressing", "reconciliation in progress", generation);
  }
  sim.patchStatus(type, current, MANAGER, { conditions });
  await sim.sleep(sim.stepDelayMs);
  if (sim.isStopped) return undefined;

  const url = str(spec.url) ?? "";
  const ref = obj(spec.ref) ?? {};
  const tag = str(ref.tag);
  const branch = str(ref.branch) ?? (tag ? undefined : "master");
  const refName = branch ?? (tag as string);
  try {
    const auth = await credentials(sim, ns, spec, url);
    const workDir = await sim.workDir();
    const gitDir = path.join(workDir, "git", ns, name);
    if (!existsSync(path.join(gitDir, "HEAD"))) {
      await mkdir(gitDir, { recursive: true });
      await run("git", ["init", "--bare", "--quiet", gitDir]);
    }
    const localRef = branch ? `refs/heads/${branch}` : `refs/tags/${tag}`;
    try {
      await git(
        gitDir,
        ["fetch", "--quiet", "--no-tags", "--force", "--depth=1", url, `+${localRef}:${localRef}`],
        auth,
      );
    } catch (err) {
      throw new SourceError(
        "GitOperationFailed",
        `failed to checkout and determine revision: unable to clone '${url}': ${gitError(err, url)}`,
      );
    }
    const sha = (await git(gitDir, ["rev-parse", `${localRef}^{commit}`])).trim();
    const revision = `${refName}@sha1:${sha}`;
    const dir = artifactDir(workDir, ns, name, sha);
    const previous = str(obj(obj(current.status)?.artifact)?.revision);
    if (!existsSync(dir)) {
      await mkdir(dir, { recursive: true });
      await run("git", ["--git-dir", gitDir, "--work-tree", dir, "checkout", "--quiet", "--force", sha, "--", "."], {
        env: { ...gitEnv(), GIT_INDEX_FILE: `${dir}.index` },
      });
      await rm(`${dir}.index`, { force: true });
    }
    const tree = await git(gitDir, ["ls-tree", "-r", "--full-tree", sha]);
    const digest = `sha256:${createHash("sha256").update(tree).digest("hex")}`;
    const message = `stored artifact for revision '${revision}'`;
    const latest = sim.store.tryGet(type, ns, name);
    if (!latest || sim.isStopped) return undefined;
    let done: Condition[] = removeCondition(readConditions(latest.status), "FetchFailed");
    done = removeCondition(done, "Reconciling");
    done = setCondition(done, "ArtifactInStorage", "True", "Succeeded", message, generation);
    done = setCondition(done, "Ready", "True", "Succeeded", message, generation);
    const artifactPath = `gitrepository/${ns}/${name}/${sha}.tar.gz`;
    const artifact: JsonObject =
      previous === revision
        ? (obj(obj(latest.status)?.artifact) ?? {})
        : {
            digest,
            lastUpdateTime: now(),
            path: artifactPath,
            revision,
            size: tree.length,
            url: `http://source-controller.flux-system.svc.cluster.local./${artifactPath}`,
          };
    const updated = sim.patchStatus(type, latest, MANAGER, {
      artifact,
      conditions: done,
      observedGeneration: generation,
      ...handled,
    });
    if (updated && previous !== revision) {
      const subject = (await git(gitDir, ["log", "-1", "--format=%s", sha]).catch(() => "")).trim();
      sim.recordEvent(updated, MANAGER, "Normal", "NewArtifact", `stored artifact for commit '${subject}'`);
    }
    return sim.intervalOf(current);
  } catch (err) {
    const reason = err instanceof SourceError ? err.reason : "GitOperationFailed";
    const message = (err as Error).message;
    const latest = sim.store.tryGet(type, ns, name);
    if (!latest || sim.isStopped) return undefined;
    let failed = removeCondition(readConditions(latest.status), "Reconciling");
    failed = setCondition(failed, "FetchFailed", "True", reason, message, generation);
    failed = setCondition(failed, "Ready", "False", reason, message, generation);
    const updated = sim.patchStatus(type, latest, MANAGER, {
      conditions: failed,
      observedGeneration: generation,
      ...handled,
    });
    if (updated) sim.recordEvent(updated, MANAGER, "Warning", reason, message);
    return sim.intervalOf(current);
  }
}

/** The HTTP credentials of a GitRepository: its secretRef (username/password) or the simulator's resolver. */
async function credentials(
  sim: FluxSimulator,
  ns: string,
  spec: JsonObject,
  url: string,
): Promise<GitCredentials | undefined> {
  if (/^(ssh:\/\/|git@)/.test(url)) {
    throw new SourceError(
      "AuthenticationFailed",
      `failed to configure authentication options: SSH URLs ('${url}') are not supported by the Juanie Flux simulator (test tooling); use an http(s) URL with a username/password Secret`,
    );
  }
  const secretName = str(obj(spec.secretRef)?.name);
  if (!secretName) return sim.options.gitCredentials?.(url);
  const secrets = sim.store.findKind("v1", "Secret") as ResourceType;
  const secret = sim.store.tryGet(secrets, ns, secretName);
  if (!secret) {
    throw new SourceError(
      "AuthenticationFailed",
      `failed to get secret '${ns}/${secretName}': secrets "${secretName}" not found`,
    );
  }
  const data = obj(secret.data) ?? {};
  // The simulated API server keeps stringData as written (a real one folds it into data).
  const stringData = obj(secret.stringData) ?? {};
  const value = (key: string) => {
    const plain = str(stringData[key]);
    if (plain !== undefined) return plain;
    const v = str(data[key]);
    return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
  };
  if (value("identity") !== undefined || value("known_hosts") !== undefined) {
    throw new SourceError(
      "AuthenticationFailed",
      `failed to configure authentication options: secret '${ns}/${secretName}': SSH keys (identity, known_hosts) are not supported by the Juanie Flux simulator (test tooling); use the keys username and password`,
    );
  }
  const username = value("username");
  const password = value("password");
  if (username === undefined || password === undefined) {
    throw new SourceError(
      "AuthenticationFailed",
      `failed to configure authentication options: secret '${ns}/${secretName}': invalid '${password === undefined ? "password" : "username"}' auth option: must be set together with '${password === undefined ? "username" : "password"}'`,
    );
  }
  return { username, password };
}

/** A git environment that never prompts and never uses the machine's credential helpers or config. */
function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    HOME: "/nonexistent",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/false",
  };
}

/**
 * Runs git in `gitDir`. Credentials travel as an `Authorization` header in git's environment
 * (GIT_CONFIG_* variables): never in the URL, never on the command line, never on disk.
 */
async function git(gitDir: string, args: string[], auth?: GitCredentials): Promise<string> {
  const env = gitEnv();
  if (auth) {
    const basic = Buffer.from(`${auth.username}:${auth.password}`).toString("base64");
    env.GIT_CONFIG_COUNT = "1";
    env.GIT_CONFIG_KEY_0 = "http.extraHeader";
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic}`;
  }
  const { stdout } = await run("git", ["--git-dir", gitDir, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** The useful line of git's error output, without prefixes (it holds no credentials: they were headers). */
function gitError(err: unknown, url: string): string {
  const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message);
  const lines = stderr
    .split("\n")
    .map((l) => l.replace(/^(fatal|error|remote): /, "").trim())
    .filter(Boolean);
  const line = lines.find((l) => /Authentication failed|could not read Username|401|403/.test(l))
    ? "authentication required"
    : (lines.at(-1) ?? "git fetch failed");
  return line.replaceAll(`'${url}'`, "").replace(/\s+$/, "");
}
