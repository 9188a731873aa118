// Test helpers for the Flux simulator (test tooling): a working copy that pushes to the local smart-HTTP
// Git server, typed Flux objects, and polling with a deadline.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { KubeSim } from "../cluster.ts";
import type { Json, JsonObject, KubeObject } from "../json.ts";
import { findCondition } from "./conditions.ts";

const run = promisify(execFile);

/** A clone-less working copy that commits files and pushes them to `url` with a token. */
export async function workingCopy(url: string, token: string, branch = "main") {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flux-sim-work-"));
  const header = `Authorization: Basic ${Buffer.from(`git:${token}`).toString("base64")}`;
  const git = async (args: string[]) =>
    (
      await run(
        "git",
        ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", `http.extraHeader=${header}`, ...args],
        { cwd: dir, env: { PATH: process.env.PATH ?? "", HOME: dir, GIT_TERMINAL_PROMPT: "0" } },
      )
    ).stdout.trim();
  await git(["init", "--quiet", `--initial-branch=${branch}`]);
  return {
    dir,
    /** Writes (or deletes, for null) files, commits, pushes; returns the new commit SHA. */
    async commit(files: Record<string, string | null>, message = "change"): Promise<string> {
      for (const [name, text] of Object.entries(files)) {
        const p = path.join(dir, name);
        if (text === null) await rm(p, { force: true });
        else {
          await mkdir(path.dirname(p), { recursive: true });
          await writeFile(p, text);
        }
      }
      await git(["add", "-A"]);
      await git(["commit", "--quiet", "--allow-empty", "-m", message]);
      await git(["push", "--quiet", url, `HEAD:refs/heads/${branch}`]);
      return git(["rev-parse", "HEAD"]);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Polls `probe` every 25 ms until it returns a value other than undefined/false, or fails at the deadline. */
export async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined | false;
  for (;;) {
    last = probe();
    if (last !== undefined && last !== false) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function fluxObjects(sim: KubeSim) {
  const get = (apiVersion: string, kind: string, ns: string, name: string) =>
    sim.store.tryGet(sim.type(apiVersion, kind), ns, name);
  const apply = (o: KubeObject) => {
    const t = sim.type(o.apiVersion, o.kind);
    const ns = t.namespaced ? (o.metadata.namespace as string) : undefined;
    return sim.store.patch(t, ns, o.metadata.name as string, "apply", o, { manager: "juanie", force: true });
  };
  const merge = (apiVersion: string, kind: string, ns: string, name: string, patch: Json) =>
    sim.store.patch(sim.type(apiVersion, kind), ns, name, "merge", patch, { manager: "juanie" });
  return {
    apply,
    merge,
    gitRepository: (ns: string, name: string) => get("source.toolkit.fluxcd.io/v1", "GitRepository", ns, name),
    kustomization: (ns: string, name: string) => get("kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, name),
    get,
    ready: (o: KubeObject | undefined) => findCondition(o?.status, "Ready"),
    status: (o: KubeObject | undefined) => (o?.status ?? {}) as JsonObject,
  };
}

export const deploymentYaml = (name: string, image = "nginx:1.27", replicas = 1) =>
  [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    `  replicas: ${replicas}`,
    "  selector:",
    `    matchLabels: {app: ${name}}`,
    "  template:",
    "    metadata:",
    `      labels: {app: ${name}}`,
    "    spec:",
    "      containers:",
    `        - {name: ${name}, image: "${image}"}`,
    "",
  ].join("\n");

export const configMapYaml = (name: string, value = "1") =>
  ["apiVersion: v1", "kind: ConfigMap", "metadata:", `  name: ${name}`, "data:", `  value: "${value}"`, ""].join("\n");
