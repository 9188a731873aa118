import { parseAllDocuments } from "yaml";
import { type WorkloadKind, workloadKinds } from "./deploy-spec.ts";
import { ManifestError } from "./errors.ts";
import { formatImageReference, splitImage } from "./image-reference.ts";
import { dirnameOf, isUnder, joinRepoPath, resolveRepoPath } from "./paths.ts";
import { isObject, type Json, type JsonObject, strategicMerge } from "./strategic-merge.ts";
import type { YamlWorkspace } from "./yaml-workspace.ts";

/**
 * How an environment's Deployments come about, as kustomize builds them: each Deployment is a stack
 * of layers, from the resource document that declares it to the overlay's `images:` and `replicas:`.
 * A layer is writable when its file lies inside the environment's path: those are the only files a
 * deploy may edit (an overlay never writes into the base it shares with other environments).
 */
export type Layer =
  | { kind: "resource"; file: string; index: number; writable: boolean }
  | { kind: "patch"; file: string; index: number; writable: boolean; kustomization: string }
  /** A patch written inline in a kustomization; read, never edited. */
  | { kind: "inline-patch"; kustomization: string; value: JsonObject; writable: false }
  | { kind: "images"; kustomization: string; writable: boolean }
  | { kind: "replicas"; kustomization: string; writable: boolean };

/** The workload kinds the deploy form edits (all apps/v1, all with a pod template). */
export const WORKLOAD_KINDS = workloadKinds;

export interface DeploymentSource {
  kind: WorkloadKind;
  /** metadata.name as declared (kustomize matches patches and `replicas:` on it). */
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  layers: Layer[];
}

export interface ResolvedEnvironment {
  path: string;
  /** The kustomization file at the environment's path, if it is a kustomize directory. */
  kustomization: string | null;
  deployments: DeploymentSource[];
}

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;

export function findKustomization(ws: YamlWorkspace, dir: string): string | null {
  for (const name of KUSTOMIZATION_FILES) {
    const path = joinRepoPath(dir, name);
    if (ws.exists(path)) return path;
  }
  return null;
}

function isYamlFile(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

export function isRemote(entry: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || entry.startsWith("git@") || /^(github|gitlab)\.com\//.test(entry);
}

/** Every Deployment the environment at `envPath` deploys, with the layers that shape it. */
export function resolveEnvironment(ws: YamlWorkspace, envPath: string): ResolvedEnvironment {
  return {
    path: envPath,
    kustomization: findKustomization(ws, envPath),
    deployments: resolveDirectory(ws, envPath, envPath, []),
  };
}

function resolveDirectory(ws: YamlWorkspace, dir: string, envPath: string, stack: string[]): DeploymentSource[] {
  const kustomization = findKustomization(ws, dir);
  return kustomization === null
    ? resolvePlainDirectory(ws, dir, envPath, stack)
    : resolveKustomization(ws, kustomization, envPath, [...stack, dir]);
}

/**
 * A directory without a kustomization: Flux applies every manifest below it, and a subdirectory that
 * has its own kustomization is built as one.
 */
function resolvePlainDirectory(ws: YamlWorkspace, dir: string, envPath: string, stack: string[]): DeploymentSource[] {
  const files = ws.files.list(dir);
  const kustomizeDirs = files
    .filter((f) => (KUSTOMIZATION_FILES as readonly string[]).includes(f.slice(f.lastIndexOf("/") + 1)))
    .map(dirnameOf)
    .filter((d) => d !== dir);
  const inKustomizeDir = (f: string) => kustomizeDirs.some((d) => isUnder(f, d));
  const out: DeploymentSource[] = [];
  for (const file of files) {
    if (isYamlFile(file) && !inKustomizeDir(file)) out.push(...deploymentsInFile(ws, file, envPath));
  }
  for (const sub of kustomizeDirs.filter((d) => !kustomizeDirs.some((o) => o !== d && isUnder(d, o)))) {
    out.push(...resolveDirectory(ws, sub, envPath, stack));
  }
  return out;
}

function deploymentsInFile(ws: YamlWorkspace, file: string, envPath: string): DeploymentSource[] {
  const loaded = ws.load(file);
  if (!loaded) return [];
  const out: DeploymentSource[] = [];
  loaded.docs.forEach((doc, index) => {
    const value: Json = doc.toJS({ maxAliasCount: -1 });
    if (!isWorkload(value)) return;
    const metadata = isObject(value.metadata) ? value.metadata : {};
    out.push({
      kind: value.kind as WorkloadKind,
      name: String(metadata.name),
      labels: stringRecord(metadata.labels),
      annotations: stringRecord(metadata.annotations),
      layers: [{ kind: "resource", file, index, writable: isUnder(file, envPath) }],
    });
  });
  return out;
}

export function isWorkload(value: Json | undefined): value is JsonObject {
  return (
    isObject(value) &&
    (WORKLOAD_KINDS as readonly unknown[]).includes(value.kind) &&
    value.apiVersion === "apps/v1" &&
    isObject(value.metadata) &&
    typeof value.metadata.name === "string"
  );
}

function stringRecord(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) out[k] = String(x);
  return out;
}

function asList(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : [];
}

export function readKustomization(ws: YamlWorkspace, path: string): JsonObject {
  const value: Json | undefined = ws.load(path)?.docs[0]?.toJS();
  return isObject(value) ? value : {};
}

function resolveKustomization(
  ws: YamlWorkspace,
  kustomization: string,
  envPath: string,
  stack: string[],
): DeploymentSource[] {
  const dir = dirnameOf(kustomization);
  const k = readKustomization(ws, kustomization);
  const sources: DeploymentSource[] = [];

  for (const entry of [...asList(k.resources), ...asList(k.bases)]) {
    if (typeof entry !== "string" || isRemote(entry)) continue;
    const target = resolveRepoPath(dir, entry);
    if (target === null) {
      throw new ManifestError(`${kustomization}: resource "${entry}" points outside the repository`, {
        file: kustomization,
      });
    }
    if (ws.exists(target)) {
      sources.push(...deploymentsInFile(ws, target, envPath));
    } else if (findKustomization(ws, target) !== null) {
      if (stack.includes(target)) {
        throw new ManifestError(
          `${kustomization}: resource "${entry}" makes a cycle (${[...stack, target].join(" → ")})`,
          { file: kustomization },
        );
      }
      sources.push(...resolveDirectory(ws, target, envPath, stack));
    } else {
      throw new ManifestError(`${kustomization}: resource "${entry}" does not exist (${target})`, {
        file: kustomization,
      });
    }
  }

  // kustomize applies patchesStrategicMerge, then patches, then images, then replicas.
  const patchEntries: { path?: string; inline?: string; target?: JsonObject }[] = [];
  for (const entry of asList(k.patchesStrategicMerge)) {
    if (typeof entry !== "string") continue;
    if (/\n/.test(entry) || !isYamlFile(entry.trim())) patchEntries.push({ inline: entry });
    else patchEntries.push({ path: entry.trim() });
  }
  for (const entry of asList(k.patches)) {
    if (!isObject(entry)) continue;
    const target = isObject(entry.target) ? entry.target : undefined;
    if (typeof entry.path === "string") patchEntries.push({ path: entry.path, ...(target ? { target } : {}) });
    else if (typeof entry.patch === "string") patchEntries.push({ inline: entry.patch, ...(target ? { target } : {}) });
  }

  for (const entry of patchEntries) {
    if (entry.path !== undefined) {
      const file = resolveRepoPath(dir, entry.path);
      if (file === null) {
        throw new ManifestError(`${kustomization}: patch "${entry.path}" points outside the repository`, {
          file: kustomization,
        });
      }
      const loaded = ws.load(file);
      if (!loaded) {
        throw new ManifestError(`${kustomization}: patch "${entry.path}" does not exist (${file})`, {
          file: kustomization,
        });
      }
      loaded.docs.forEach((doc, index) => {
        const value: Json = doc.toJS();
        for (const source of sources) {
          if (patchApplies(value, source, entry.target)) {
            source.layers.push({ kind: "patch", file, index, writable: isUnder(file, envPath), kustomization });
          }
        }
      });
    } else if (entry.inline !== undefined) {
      const docs = parseAllDocuments(entry.inline);
      for (const doc of Array.isArray(docs) ? docs : []) {
        if (doc.errors.length > 0) {
          throw new ManifestError(`${kustomization}: an inline patch is not valid YAML: ${doc.errors[0]?.message}`, {
            file: kustomization,
          });
        }
        const value: Json = doc.toJS();
        if (!isObject(value)) continue;
        for (const source of sources) {
          if (patchApplies(value, source, entry.target)) {
            source.layers.push({ kind: "inline-patch", kustomization, value, writable: false });
          }
        }
      }
    }
  }

  const writable = isUnder(kustomization, envPath);
  for (const source of sources) {
    source.layers.push({ kind: "images", kustomization, writable });
    source.layers.push({ kind: "replicas", kustomization, writable });
  }
  return sources;
}

/**
 * Whether a strategic-merge patch document applies to the workload. JSON 6902 patches are not followed
 * here: the real kustomize build that verifies every plan sees what they do.
 */
function patchApplies(value: Json, source: DeploymentSource, target: JsonObject | undefined): boolean {
  if (!isObject(value)) return false;
  if (Array.isArray(value)) return false;
  if (!target) {
    const metadata = isObject(value.metadata) ? value.metadata : {};
    return value.kind === source.kind && metadata.name === source.name;
  }
  if (target.kind !== undefined && target.kind !== source.kind) return false;
  if (target.group !== undefined && target.group !== "apps") return false;
  if (target.version !== undefined && target.version !== "v1") return false;
  if (typeof target.name === "string" && !fullMatch(target.name, source.name)) return false;
  if (typeof target.labelSelector === "string" && !selectorMatches(target.labelSelector, source.labels)) return false;
  if (typeof target.annotationSelector === "string" && !selectorMatches(target.annotationSelector, source.annotations))
    return false;
  return true;
}

function fullMatch(pattern: string, name: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(name);
  } catch {
    return pattern === name;
  }
}

/** Equality selectors (`a=b,c==d,e!=f`); set-based expressions are treated as not matching. */
function selectorMatches(selector: string, labels: Record<string, string>): boolean {
  return selector
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .every((term) => {
      const m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
      if (!m) return false;
      const [, key = "", op, val] = m;
      return op === "!=" ? labels[key] !== val : labels[key] === val;
    });
}

// ---------- what the layers add up to ----------

/** The Deployment as kustomize would render it from the first `upto` layers. */
export function renderDeployment(ws: YamlWorkspace, source: DeploymentSource, upto = source.layers.length): JsonObject {
  let value: Json | undefined;
  for (const layer of source.layers.slice(0, upto)) {
    switch (layer.kind) {
      case "resource":
        value = structuredClone(layerValue(ws, layer) ?? {});
        break;
      case "patch":
      case "inline-patch": {
        const patch = layerValue(ws, layer);
        if (isObject(patch)) value = strategicMerge(value, withoutIdentity(patch));
        break;
      }
      case "images":
        applyImages(value, asList(readKustomization(ws, layer.kustomization).images));
        break;
      case "replicas":
        applyReplicas(value, asList(readKustomization(ws, layer.kustomization).replicas), source.name);
        break;
    }
  }
  return isObject(value) ? value : {};
}

/** The document a resource or patch layer reads, as it is now (edits included). */
export function layerValue(ws: YamlWorkspace, layer: Layer): Json | undefined {
  if (layer.kind === "inline-patch") return layer.value;
  if (layer.kind !== "resource" && layer.kind !== "patch") return undefined;
  const value: Json | undefined = ws.load(layer.file)?.docs[layer.index]?.toJS();
  return value;
}

/** A targeted patch's own kind and name say nothing about what it patches. */
function withoutIdentity(patch: JsonObject): JsonObject {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = patch;
  if (!isObject(metadata)) return rest;
  const { name: _n, namespace: _ns, ...meta } = metadata;
  return Object.keys(meta).length > 0 ? { ...rest, metadata: meta } : rest;
}

export function podContainers(deployment: Json | undefined, list: "containers" | "initContainers"): JsonObject[] {
  if (!isObject(deployment) || !isObject(deployment.spec)) return [];
  const template = deployment.spec.template;
  if (!isObject(template) || !isObject(template.spec)) return [];
  return asList(template.spec[list]).filter(isObject);
}

/** kustomize's images transformer: an entry matches on the image name and replaces name, tag and digest. */
function applyImages(deployment: Json | undefined, entries: Json[]): void {
  for (const container of [
    ...podContainers(deployment, "containers"),
    ...podContainers(deployment, "initContainers"),
  ]) {
    if (typeof container.image !== "string") continue;
    for (const entry of entries) {
      container.image = applyImageEntry(container.image, entry);
    }
  }
}

export function applyImageEntry(image: string, entry: Json): string {
  if (!isObject(entry) || typeof entry.name !== "string") return image;
  const ref = splitImage(image);
  if (ref.name !== entry.name) return image;
  const name = entry.newName != null ? String(entry.newName) : ref.name;
  if (entry.newTag == null && entry.digest == null) return formatImageReference({ ...ref, name });
  return formatImageReference({
    name,
    ...(entry.newTag != null ? { tag: String(entry.newTag) } : {}),
    ...(entry.digest != null ? { digest: String(entry.digest) } : {}),
  });
}

function applyReplicas(deployment: Json | undefined, entries: Json[], name: string): void {
  if (!isObject(deployment)) return;
  for (const entry of entries) {
    if (isObject(entry) && entry.name === name && typeof entry.count === "number") {
      deployment.spec = { ...(isObject(deployment.spec) ? deployment.spec : {}), replicas: entry.count };
    }
  }
}
