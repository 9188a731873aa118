// The build step of the simulated kustomize-controller (test tooling): the artifact copied to a temporary
// directory (as Flux extracts it), a kustomization.yaml generated when the path has none, and the real
// kustomize run on it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { isObject, type Json, type JsonObject, type KubeObject } from "../json.ts";
import type { FluxSimulator } from "./controllers.ts";

const run = promisify(execFile);

/** A failed reconciliation with Flux's reason; `digest` when the build succeeded (recorded in history). */
export class ReconcileError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    /** Failures after the build are recorded in status.history, as Flux does. */
    readonly digest?: string,
  ) {
    super(message);
  }
}

/** Copies the artifact (as Flux extracts it to a temporary dir), generates a kustomization.yaml if needed, builds. */
export async function build(sim: FluxSimulator, artifact: string, specPath: string): Promise<string> {
  const tmp = await mkdtemp(path.join(await sim.workDir(), "build-"));
  try {
    await cp(artifact, tmp, { recursive: true });
    const dir = path.resolve(tmp, specPath);
    if (dir !== tmp && !dir.startsWith(`${tmp}${path.sep}`)) {
      throw new ReconcileError("ArtifactFailed", `path '${specPath}' points outside the source artifact`);
    }
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw new ReconcileError(
        "ArtifactFailed",
        `kustomization path not found: stat ${specPath}: no such file or directory`,
      );
    }
    const names = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
    if (!names.some((n) => existsSync(path.join(dir, n)))) await generateKustomization(dir);
    const isKustomize = path.basename(sim.kustomizeBinary) === "kustomize";
    const args = isKustomize ? ["build", dir] : ["kustomize", dir];
    try {
      const { stdout } = await run(sim.kustomizeBinary, args, {
        maxBuffer: 64 * 1024 * 1024,
        env: { PATH: process.env.PATH ?? "", HOME: tmp },
      });
      return stdout;
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message);
      const message = stderr
        .split("\n")
        .map((l) => l.replace(/^error: /, "").trim())
        .filter(Boolean)
        .join("; ")
        .replaceAll(`${tmp}/`, "")
        .replaceAll(tmp, ".");
      throw new ReconcileError("BuildFailed", `kustomize build failed: ${message}`);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** As kustomize-controller: a kustomization.yaml listing every Kubernetes manifest under the path. */
async function generateKustomization(dir: string): Promise<void> {
  const resources: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (/\.(ya?ml|json)$/.test(e.name)) {
        const docs = parseAllDocuments(await readFile(p, "utf8"));
        const isManifest = docs.some((doc) => {
          const v = doc.toJS() as unknown;
          return (
            isObject(v as Json) &&
            typeof (v as JsonObject).apiVersion === "string" &&
            typeof (v as JsonObject).kind === "string"
          );
        });
        if (isManifest) resources.push(path.relative(dir, p));
      }
    }
  };
  await walk(dir);
  resources.sort();
  await writeFile(
    path.join(dir, "kustomization.yaml"),
    stringify({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources }),
  );
}

export function readObjects(text: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new ReconcileError("BuildFailed", `failed to decode the build output: ${doc.errors[0]?.message}`);
    const v = doc.toJS() as Json;
    if (isObject(v) && typeof v.kind === "string" && typeof v.apiVersion === "string" && isObject(v.metadata)) {
      out.push(v as KubeObject);
    }
  }
  return out;
}
