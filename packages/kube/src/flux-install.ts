import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { applyObjects, assertObjectIdentity, deleteObject, mergePatchObject } from "./apply.ts";
import { ClusterError, isClusterError, type KubeCluster } from "./client.ts";
import { FLUX_NAMESPACE, FLUX_OPERATOR_GROUP } from "./flux-detect.ts";
import { describeRef, type KubeObject, MANAGED_BY_LABEL, type ObjectRef, refOf } from "./objects.ts";

/** A wrong install input; `field` names it. */
export class FluxInstallError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "FluxInstallError";
    this.field = field;
  }
}

const VERSION = /^\d+\.\d+\.\d+$/;

function assertVersion(version: string) {
  if (typeof version !== "string" || !VERSION.test(version)) {
    throw new FluxInstallError(
      "version",
      `version "${version}" must be a Flux release such as 2.7.3 (three numbers, no "v")`,
    );
  }
}

/**
 * Where a Flux release's install manifest lives: GitHub's release asset, or a mirror given as a URL
 * template containing `{version}` (e.g. `https://mirror.example.com/flux/v{version}/install.yaml`).
 */
export function fluxManifestUrl(version: string, mirror?: string): string {
  assertVersion(version);
  if (mirror === undefined || mirror === "") {
    return `https://github.com/fluxcd/flux2/releases/download/v${version}/install.yaml`;
  }
  if (!mirror.includes("{version}")) {
    throw new FluxInstallError("mirror", "the mirror URL must contain {version} where the Flux version goes");
  }
  const url = mirror.replaceAll("{version}", version);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FluxInstallError("mirror", `the mirror URL "${mirror}" is not a URL`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new FluxInstallError("mirror", "the mirror URL must start with https:// or http://");
  }
  if (parsed.username || parsed.password) {
    throw new FluxInstallError("mirror", "the mirror URL must not contain credentials");
  }
  return url;
}

export type FluxManifestSource =
  | { kind: "release"; version: string }
  | { kind: "mirror"; url: string; version: string }
  | { kind: "upload"; text: string }
  | { kind: "flux-cli"; version: string; binary: string };

export interface FetchManifestOptions {
  fetch?: typeof globalThis.fetch;
  /** Default 60 s. */
  timeoutMs?: number;
  /** Default 20 MB. */
  maxBytes?: number;
}

/** The `flux` binary on PATH, or null. */
export async function findFluxCli(envPath: string = process.env.PATH ?? ""): Promise<string | null> {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, "flux");
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

async function readLimited(body: ReadableStream<Uint8Array>, maxBytes: number, where: string): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new FluxInstallError(
        "manifest",
        `the manifest from ${where} is larger than ${Math.round(maxBytes / 1024 / 1024)} MB`,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Gets the install manifest (YAML text) of a Flux release from GitHub, a mirror, an upload or the flux CLI. */
export async function fetchFluxManifest(source: FluxManifestSource, opts: FetchManifestOptions = {}): Promise<string> {
  const maxBytes = opts.maxBytes ?? 20 * 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (source.kind === "upload") {
    if (Buffer.byteLength(source.text, "utf8") > maxBytes) {
      throw new FluxInstallError(
        "manifest",
        `the uploaded manifest is larger than ${Math.round(maxBytes / 1024 / 1024)} MB`,
      );
    }
    return source.text;
  }
  if (source.kind === "flux-cli") {
    assertVersion(source.version);
    return await new Promise<string>((resolve, reject) => {
      execFile(
        source.binary,
        ["install", "--export", `--version=v${source.version}`],
        { timeout: timeoutMs, maxBuffer: maxBytes, encoding: "utf8" },
        (error, stdout, stderr) => {
          if (error) {
            const detail = (stderr || error.message).trim().split("\n").slice(-3).join(" ").slice(0, 500);
            reject(new FluxInstallError("flux-cli", `flux install --export failed: ${detail}`));
          } else resolve(stdout);
        },
      );
    });
  }
  const url = source.kind === "release" ? fluxManifestUrl(source.version) : fluxManifestUrl(source.version, source.url);
  const doFetch = opts.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  } catch (e) {
    const name = (e as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") {
      throw new FluxInstallError("manifest", `downloading ${url} took longer than ${timeoutMs / 1000} s`);
    }
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new FluxInstallError("manifest", `cannot download ${url}${cause ? ` (${cause})` : ""}`);
  }
  if (!res.ok) {
    throw new FluxInstallError(
      "manifest",
      res.status === 404
        ? `${url} does not exist (404): is ${source.version} a Flux release?`
        : `downloading ${url} failed (${res.status})`,
    );
  }
  const length = Number(res.headers.get("content-length") ?? "0");
  if (length > maxBytes) {
    throw new FluxInstallError(
      "manifest",
      `the manifest from ${url} is larger than ${Math.round(maxBytes / 1024 / 1024)} MB`,
    );
  }
  if (!res.body) return "";
  return await readLimited(res.body, maxBytes, url);
}

/** Multi-document YAML → objects (empty documents skipped; each needs apiVersion, kind and metadata.name). */
export function parseManifest(text: string): KubeObject[] {
  const out: KubeObject[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if ("errors" in doc && doc.errors.length > 0) {
      throw new FluxInstallError(
        "manifest",
        `document ${i + 1} is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`,
      );
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) return;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new FluxInstallError("manifest", `document ${i + 1} is not a Kubernetes object`);
    }
    const o = value as Partial<KubeObject>;
    for (const f of ["apiVersion", "kind"] as const) {
      if (typeof o[f] !== "string" || o[f] === "")
        throw new FluxInstallError("manifest", `document ${i + 1} has no ${f}`);
    }
    if (typeof o.metadata?.name !== "string" || o.metadata.name === "") {
      throw new FluxInstallError("manifest", `document ${i + 1} (${o.kind}) has no metadata.name`);
    }
    out.push(o as KubeObject);
  });
  if (out.length === 0) throw new FluxInstallError("manifest", "the manifest holds no objects");
  return out;
}

export type InstallPhase = "crds" | "establish" | "namespaces" | "resources" | "rollout" | "done";
export type UninstallPhase = "custom-objects" | "resources" | "namespaces" | "crds" | "done";

export interface Progress<P extends string> {
  phase: P;
  done: number;
  total: number;
  message: string;
}

export interface InstallOptions {
  onProgress?: (p: Progress<InstallPhase>) => void;
  /** Whole install deadline (default 5 min). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** How often CRDs and Deployments are polled (default 250 ms). */
  pollMs?: number;
}

const isCrd = (o: KubeObject | ObjectRef) =>
  o.kind === "CustomResourceDefinition" && o.apiVersion.startsWith("apiextensions.k8s.io/");
const isNamespace = (o: KubeObject | ObjectRef) => o.kind === "Namespace" && o.apiVersion === "v1";

function sleep(ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("the Flux installation was cancelled"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error("the Flux installation was cancelled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Polls `check` until it returns true, the deadline passes (ClusterError timeout) or the signal aborts. */
async function until(
  check: () => Promise<boolean>,
  deadline: number,
  what: () => string,
  pollMs: number,
  signal?: AbortSignal,
) {
  for (;;) {
    if (signal?.aborted) throw new Error("the Flux installation was cancelled");
    if (await check()) return;
    if (Date.now() >= deadline) throw new ClusterError("timeout", `timed out waiting for ${what()}`);
    await sleep(pollMs, signal);
  }
}

function labelled(o: KubeObject): KubeObject {
  return { ...o, metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), [MANAGED_BY_LABEL]: "juanie" } } };
}

/**
 * Installs (or upgrades) Flux from its install manifest by server-side apply, in the order a cluster
 * needs: CRDs, wait until they are Established, namespaces, everything else, then wait for each
 * Deployment to be rolled out. Every object is labelled managed-by juanie. Returns the applied refs.
 */
export async function installFlux(
  c: KubeCluster,
  objects: readonly KubeObject[],
  opts: InstallOptions = {},
): Promise<ObjectRef[]> {
  objects.forEach((o, i) => {
    assertObjectIdentity(o, i);
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 5 * 60_000);
  const pollMs = opts.pollMs ?? 250;
  const report = (phase: InstallPhase, done: number, total: number, message: string) =>
    opts.onProgress?.({ phase, done, total, message });
  const all = objects.map(labelled);
  const crds = all.filter(isCrd);
  const namespaces = all.filter(isNamespace);
  const rest = all.filter((o) => !isCrd(o) && !isNamespace(o));
  const applied: ObjectRef[] = [];
  const check = () => {
    if (opts.signal?.aborted) throw new Error("the Flux installation was cancelled");
  };

  report("crds", 0, crds.length, `applying ${crds.length} custom resource definitions`);
  for (const [i, crd] of crds.entries()) {
    check();
    await applyObjects(c, [crd]);
    applied.push(refOf(crd));
    report("crds", i + 1, crds.length, `applied ${crd.metadata.name}`);
  }

  report("establish", 0, crds.length, "waiting for the custom resource definitions to be established");
  for (const [i, crd] of crds.entries()) {
    await until(
      async () => {
        const cur = await c.apiext.readCustomResourceDefinition({ name: crd.metadata.name });
        return (cur.status?.conditions ?? []).some((x) => x.type === "Established" && x.status === "True");
      },
      deadline,
      () => `${crd.metadata.name} to be established`,
      pollMs,
      opts.signal,
    );
    report("establish", i + 1, crds.length, `${crd.metadata.name} established`);
  }

  report("namespaces", 0, namespaces.length, "applying namespaces");
  for (const [i, ns] of namespaces.entries()) {
    check();
    await applyObjects(c, [ns]);
    applied.push(refOf(ns));
    report("namespaces", i + 1, namespaces.length, `applied namespace ${ns.metadata.name}`);
  }

  report("resources", 0, rest.length, `applying ${rest.length} objects`);
  for (const [i, o] of rest.entries()) {
    check();
    await applyObjects(c, [o]);
    applied.push(refOf(o));
    report("resources", i + 1, rest.length, `applied ${describeRef(refOf(o))}`);
  }

  const deployments = rest.filter((o) => o.kind === "Deployment" && o.apiVersion === "apps/v1");
  report("rollout", 0, deployments.length, `waiting for ${deployments.length} controllers to be ready`);
  for (const [i, d] of deployments.entries()) {
    const namespace = d.metadata.namespace ?? FLUX_NAMESPACE;
    let state = "";
    await until(
      async () => {
        const cur = await c.apps.readNamespacedDeployment({ name: d.metadata.name, namespace });
        const want = cur.spec?.replicas ?? 1;
        const s = cur.status ?? {};
        state = `${s.readyReplicas ?? 0}/${want} ready`;
        return (
          (s.observedGeneration ?? 0) >= (cur.metadata?.generation ?? 0) &&
          (s.updatedReplicas ?? 0) >= want &&
          (s.readyReplicas ?? 0) >= want &&
          (s.replicas ?? 0) <= want
        );
      },
      deadline,
      () => `Deployment ${namespace}/${d.metadata.name} to be ready (${state})`,
      pollMs,
      opts.signal,
    );
    report("rollout", i + 1, deployments.length, `${d.metadata.name} ready`);
  }
  report("done", applied.length, applied.length, `Flux installed: ${applied.length} objects applied`);
  return applied;
}

interface CrdInfo {
  name: string;
  group: string;
  kind: string;
  plural: string;
  version: string;
  namespaced: boolean;
}

function crdInfo(crd: KubeObject): CrdInfo {
  const spec = (crd.spec ?? {}) as {
    group?: string;
    scope?: string;
    names?: { kind?: string; plural?: string };
    versions?: { name: string; served?: boolean; storage?: boolean }[];
  };
  const versions = spec.versions ?? [];
  const version = (versions.find((v) => v.storage) ?? versions.find((v) => v.served) ?? versions[0])?.name ?? "v1";
  return {
    name: crd.metadata.name,
    group: spec.group ?? "",
    kind: spec.names?.kind ?? "",
    plural: spec.names?.plural ?? "",
    version,
    namespaced: spec.scope !== "Cluster",
  };
}

async function listCustomObjects(c: KubeCluster, info: CrdInfo): Promise<ObjectRef[]> {
  try {
    const list = (await c.custom.listClusterCustomObject({
      group: info.group,
      version: info.version,
      plural: info.plural,
    })) as { items?: { metadata?: { name?: string; namespace?: string } }[] };
    return (list.items ?? []).map((o) => ({
      apiVersion: `${info.group}/${info.version}`,
      kind: info.kind,
      name: o.metadata?.name ?? "",
      ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
    }));
  } catch (e) {
    if (isClusterError(e, "not_found")) return [];
    throw e;
  }
}

export interface FluxUninstallPlan {
  /** Each CRD of the manifest present in the cluster, with how many custom objects of its kind will go too. */
  crds: { name: string; kind: string; objects: number }[];
  /** Total custom objects (GitRepositories, Kustomizations, …) to be deleted. */
  customObjects: number;
  namespaces: string[];
  /** Cluster-scoped objects other than CRDs and namespaces (ClusterRoles, ClusterRoleBindings, …). */
  clusterScoped: ObjectRef[];
  /** Namespaced objects of the manifest (Deployments, Services, …). */
  namespaced: ObjectRef[];
}

/** What `uninstallFlux` will delete — shown to the user before they confirm. */
export async function planFluxUninstall(c: KubeCluster, objects: readonly KubeObject[]): Promise<FluxUninstallPlan> {
  const crds: FluxUninstallPlan["crds"] = [];
  let customObjects = 0;
  for (const crd of objects.filter(isCrd)) {
    const info = crdInfo(crd);
    try {
      await c.apiext.readCustomResourceDefinition({ name: info.name });
    } catch (e) {
      if (isClusterError(e, "not_found")) continue;
      throw e;
    }
    const n = (await listCustomObjects(c, info)).length;
    crds.push({ name: info.name, kind: info.kind, objects: n });
    customObjects += n;
  }
  const others = objects.filter((o) => !isCrd(o) && !isNamespace(o));
  return {
    crds,
    customObjects,
    namespaces: objects.filter(isNamespace).map((o) => o.metadata.name),
    clusterScoped: others.filter((o) => !o.metadata.namespace).map(refOf),
    namespaced: others.filter((o) => o.metadata.namespace).map(refOf),
  };
}

export interface UninstallOptions {
  onProgress?: (p: Progress<UninstallPhase>) => void;
  /** How long custom objects may take to go (their finalizers run in the controllers); then finalizers are removed. Default 30 s. */
  finalizerGraceMs?: number;
  pollMs?: number;
}

/**
 * Removes Flux: first every custom object of Flux's kinds (while the controllers still run their
 * finalizers; stragglers have their finalizers removed after a grace period), then the manifest's
 * objects in reverse order, the namespaces and finally the CRDs.
 */
export async function uninstallFlux(
  c: KubeCluster,
  objects: readonly KubeObject[],
  opts: UninstallOptions = {},
): Promise<void> {
  const pollMs = opts.pollMs ?? 250;
  const report = (phase: UninstallPhase, done: number, total: number, message: string) =>
    opts.onProgress?.({ phase, done, total, message });
  const crdInfos = objects.filter(isCrd).map(crdInfo);

  const custom: ObjectRef[] = [];
  for (const info of crdInfos) custom.push(...(await listCustomObjects(c, info)));
  report("custom-objects", 0, custom.length, `deleting ${custom.length} Flux objects`);
  for (const [i, ref] of custom.entries()) {
    await deleteObject(c, ref, { propagationPolicy: "Background" });
    report("custom-objects", i + 1, custom.length, `deleted ${describeRef(ref)}`);
  }
  const graceEnd = Date.now() + (opts.finalizerGraceMs ?? 30_000);
  for (const info of crdInfos) {
    for (;;) {
      const left = await listCustomObjects(c, info);
      if (left.length === 0) break;
      if (Date.now() >= graceEnd) {
        for (const ref of left) {
          try {
            await mergePatchObject(c, ref, { metadata: { finalizers: null } });
          } catch (e) {
            if (!isClusterError(e, "not_found", "invalid")) throw e;
          }
        }
      }
      await sleep(pollMs);
    }
  }

  const rest = objects.filter((o) => !isCrd(o) && !isNamespace(o)).reverse();
  report("resources", 0, rest.length, `deleting ${rest.length} objects`);
  for (const [i, o] of rest.entries()) {
    await deleteObject(c, refOf(o));
    report("resources", i + 1, rest.length, `deleted ${describeRef(refOf(o))}`);
  }
  const namespaces = objects.filter(isNamespace);
  report("namespaces", 0, namespaces.length, "deleting namespaces");
  for (const [i, ns] of namespaces.entries()) {
    await deleteObject(c, refOf(ns));
    report("namespaces", i + 1, namespaces.length, `deleted namespace ${ns.metadata.name}`);
  }
  const crds = objects.filter(isCrd);
  report("crds", 0, crds.length, "deleting custom resource definitions");
  for (const [i, crd] of crds.entries()) {
    await deleteObject(c, refOf(crd));
    report("crds", i + 1, crds.length, `deleted ${crd.metadata.name}`);
  }
  report(
    "done",
    crds.length + rest.length + namespaces.length,
    crds.length + rest.length + namespaces.length,
    "Flux removed",
  );
}

export interface FluxInstanceInput {
  /** A semver range ("2.x") or an exact release ("2.7.1"). */
  version: string;
  components?: string[];
  /** The operator's namespace (default flux-system). */
  namespace?: string;
  /** Default ghcr.io/fluxcd. */
  registry?: string;
}

/** Installs / upgrades Flux through the Flux Operator: server-side apply of the FluxInstance `flux`. */
export async function applyFluxInstance(c: KubeCluster, input: FluxInstanceInput): Promise<KubeObject> {
  if (!/^\d+\.(x|\d+\.(x|\d+)|\d+)$/.test(input.version ?? "")) {
    throw new FluxInstallError(
      "version",
      `version "${input.version}" must be a release (2.7.1) or a range (2.x, 2.7.x)`,
    );
  }
  const components = input.components ?? [
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
  ];
  const [stored] = await applyObjects(c, [
    {
      apiVersion: `${FLUX_OPERATOR_GROUP}/v1`,
      kind: "FluxInstance",
      metadata: {
        name: "flux",
        namespace: input.namespace ?? FLUX_NAMESPACE,
        labels: { [MANAGED_BY_LABEL]: "juanie" },
      },
      spec: {
        distribution: { version: input.version, registry: input.registry ?? "ghcr.io/fluxcd" },
        components,
        cluster: { type: "kubernetes" },
      },
    },
  ]);
  return stored!;
}
