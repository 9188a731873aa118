import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import nodePath from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { ManifestError } from "./errors.ts";
import { KUSTOMIZATION_FILES } from "./kustomize.ts";
import { dirnameOf, isSafeRepoPath, isUnder, normalizeRepoPath } from "./paths.ts";
import { isObject, type Json, type JsonObject } from "./strategic-merge.ts";

/**
 * The real kustomize — the engine Flux's kustomize-controller embeds — run on a copy of the
 * repository's files. It is the judge of what a deploy changes: the platform's own model of an
 * environment (kustomize.ts) proposes the edit, this says what Flux would apply before and after.
 */
export interface KustomizeTool {
  /** The executable: `kustomize`, or `kubectl` (which embeds kustomize as `kubectl kustomize`). */
  readonly binary: string;
  readonly flavour: "kustomize" | "kubectl";
  /** `v5.7.1`: what the deploy dialog names ("verified with kustomize v5.7.1"). */
  readonly version: string;
}

/** One object of a build, with where kustomize read it from (its `config.kubernetes.io/origin`). */
export interface RenderedObject {
  object: JsonObject;
  /** The repository path of the file that declared it, when kustomize reports it. */
  origin: string | null;
}

const BUILD_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 64 * 1024 * 1024;
const ORIGIN = "config.kubernetes.io/origin";

function run(binary: string, args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      {
        cwd,
        timeout: BUILD_TIMEOUT_MS,
        maxBuffer: MAX_OUTPUT,
        // Nothing of the platform's environment (credentials, KUBECONFIG) reaches the tool.
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd ?? os.tmpdir() },
      },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stdout, stderr }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? "").split(nodePath.delimiter)) {
    if (dir === "") continue;
    const candidate = nodePath.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

/** The tool at `binary` (kustomize or kubectl, told apart by what it answers), or null if it is neither. */
export async function probeKustomize(binary: string): Promise<KustomizeTool | null> {
  if (!(await isExecutable(binary))) return null;
  // kubectl's plain `version` asks a server too: go straight to its client version (start-up runs this).
  const looksLikeKubectl = nodePath.basename(binary).startsWith("kubectl");
  if (!looksLikeKubectl)
    try {
      const k = await run(binary, ["version"]);
      // kustomize v5: `v5.7.1`; v4: `{Version:kustomize/v4.5.7 GitCommit:…}`.
      const own = /^(?:\{Version:kustomize\/)?(v\d+\.\d+\.\d+)/.exec(k.stdout.trim());
      if (own?.[1]) return { binary, flavour: "kustomize", version: own[1] };
    } catch {
      // not kustomize (kubectl's `version` wants a server) — try kubectl's client version
    }
  try {
    const k = await run(binary, ["version", "--client"]);
    const embedded = /Kustomize Version:\s*(v\d+\.\d+\.\d+)/.exec(k.stdout);
    if (embedded?.[1]) return { binary, flavour: "kubectl", version: embedded[1] };
  } catch {
    // neither
  }
  return null;
}

/**
 * Where kustomize is: the configured binary (JUANIE_KUSTOMIZE) if given, else `kustomize` or `kubectl` on
 * PATH, else the static kubectl that `scripts/fetch-kubectl.mjs` puts in `.tools/`. Null when none runs.
 */
export async function locateKustomize(opts: {
  configured?: string | null;
  fallbacks?: string[];
}): Promise<KustomizeTool | null> {
  if (opts.configured) return probeKustomize(opts.configured);
  const candidates = [await onPath("kustomize"), await onPath("kubectl"), ...(opts.fallbacks ?? [])];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const tool = await probeKustomize(candidate);
    if (tool) return tool;
  }
  return null;
}

function isYaml(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

function isKustomizationFile(path: string): boolean {
  return (KUSTOMIZATION_FILES as readonly string[]).includes(path.slice(path.lastIndexOf("/") + 1));
}

/**
 * What kustomize-controller generates for a path without a kustomization: every YAML file that holds
 * Kubernetes objects, and each directory below with its own kustomization as one resource.
 */
function generatedKustomization(files: Record<string, string>, dir: string): JsonObject {
  const below = Object.keys(files).filter((p) => p !== dir && isUnder(p, dir));
  const kustomizeDirs = below.filter(isKustomizationFile).map(dirnameOf);
  const topDirs = kustomizeDirs.filter((d) => d !== dir && !kustomizeDirs.some((o) => o !== d && isUnder(d, o)));
  const inKustomizeDir = (f: string) => topDirs.some((d) => isUnder(f, d));
  const rel = (p: string) => (dir === "" ? p : p.slice(dir.length + 1));
  const resources: string[] = [];
  for (const file of below.sort()) {
    if (!isYaml(file) || inKustomizeDir(file)) continue;
    const docs = parseAllDocuments(files[file] ?? "");
    const list = Array.isArray(docs) ? docs : [];
    const isManifest = list.some((d) => {
      const v: Json = d.errors.length === 0 ? d.toJS() : null;
      return isObject(v) && typeof v.apiVersion === "string" && typeof v.kind === "string";
    });
    if (isManifest) resources.push(rel(file));
  }
  for (const d of topDirs.sort()) resources.push(rel(d));
  return { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources };
}

/**
 * `kustomize build` of `envPath` over `files` (repository path → content; give every file the build may
 * read: the environment's whole top-level directory). Run as Flux runs it: no load restrictions, and a
 * generated kustomization where the path has none. Origins are recorded through `buildMetadata` and
 * removed from the objects again.
 */
export async function kustomizeBuild(
  tool: KustomizeTool,
  files: Record<string, string>,
  envPath: string,
): Promise<RenderedObject[]> {
  const path = normalizeRepoPath(envPath);
  const root = await mkdtemp(nodePath.join(os.tmpdir(), "juanie-kustomize-"));
  try {
    const tree = nodePath.join(root, "repo");
    const written: Record<string, string> = {};
    for (const [p, content] of Object.entries(files)) {
      if (!isSafeRepoPath(p) || p === "" || p.split("/").includes(".git")) continue;
      written[normalizeRepoPath(p)] = content;
    }
    const existing = KUSTOMIZATION_FILES.map((f) => (path === "" ? f : `${path}/${f}`)).find((f) => f in written);
    if (existing) {
      // The user's text stays as written (a re-serialisation could change what Go's YAML reads in it);
      // the origin request is appended when the file has no buildMetadata of its own.
      const text = written[existing] ?? "";
      if (!/^buildMetadata\s*:/m.test(text)) {
        const body = text
          .replace(/^\uFEFF/, "")
          .replace(/\r\n/g, "\n")
          .replace(/\n\.\.\.\s*$/, "\n");
        written[existing] =
          `${body}${body.endsWith("\n") || body === "" ? "" : "\n"}buildMetadata: [originAnnotations]\n`;
      }
    } else {
      const generated = generatedKustomization(written, path);
      generated.buildMetadata = ["originAnnotations"];
      written[path === "" ? "kustomization.yaml" : `${path}/kustomization.yaml`] = stringify(generated);
    }

    for (const [p, content] of Object.entries(written)) {
      const abs = nodePath.join(tree, ...p.split("/"));
      await mkdir(nodePath.dirname(abs), { recursive: true });
      await writeFile(abs, content);
    }
    const dir = nodePath.join(tree, ...(path === "" ? [] : path.split("/")));
    await mkdir(dir, { recursive: true });
    const args =
      tool.flavour === "kubectl"
        ? ["kustomize", "--load-restrictor", "LoadRestrictionsNone", dir]
        : ["build", "--load-restrictor", "LoadRestrictionsNone", dir];
    let stdout: string;
    try {
      ({ stdout } = await run(tool.binary, args, root));
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim();
      const reason = (stderr || (err as Error).message).replaceAll(`${tree}/`, "").replaceAll(tree, ".");
      throw new ManifestError(`path: kustomize build of ${path || "."} failed: ${reason.split("\n")[0]}`, {
        field: "path",
      });
    }
    return parseBuild(stdout, path);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function parseBuild(stdout: string, envPath: string): RenderedObject[] {
  const docs = parseAllDocuments(stdout);
  const out: RenderedObject[] = [];
  for (const doc of Array.isArray(docs) ? docs : []) {
    const value: Json = doc.toJS();
    if (!isObject(value)) continue;
    let origin: string | null = null;
    const metadata = isObject(value.metadata) ? value.metadata : null;
    const annotations = metadata && isObject(metadata.annotations) ? metadata.annotations : null;
    if (metadata && annotations && typeof annotations[ORIGIN] === "string") {
      const parsed: Json = parseAllDocuments(annotations[ORIGIN])[0]?.toJS() ?? null;
      if (isObject(parsed) && typeof parsed.path === "string" && parsed.repo === undefined) {
        origin = resolveOrigin(envPath, parsed.path);
      }
      delete annotations[ORIGIN];
      if (Object.keys(annotations).length === 0) delete metadata.annotations;
    }
    out.push({ object: value, origin });
  }
  return out;
}

function resolveOrigin(envPath: string, relative: string): string | null {
  const parts = envPath === "" ? [] : envPath.split("/");
  for (const s of relative.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(s);
  }
  return parts.join("/");
}
