import { createHash } from "node:crypto";
import { parseAllDocuments, stringify } from "yaml";
import type { DeploySpec, WorkloadKind } from "./deploy-spec.ts";
import { parseDeploySpec } from "./deploy-spec.ts";
import { ManifestError } from "./errors.ts";
import { isRemote } from "./kustomize.ts";
import { type KustomizeTool, kustomizeBuild, type RenderedObject } from "./kustomize-build.ts";
import {
  type CurrentDeployValues,
  checkApplied,
  checkResourceOrder,
  currentWorkloads,
  type DeployPlan,
  describeValues,
  fieldChanges,
  type PlanOptions,
  planDeploy,
  selectTarget,
  summarize,
  type Target,
  valuesOf,
} from "./plan-deploy.ts";
import {
  describeChange,
  diffRendered,
  findRendered,
  objectLabel,
  type RenderedChange,
  unexpectedChanges,
  type WorkloadRef,
} from "./render-diff.ts";
import { filesFromRecord } from "./repo-files.ts";
import { isObject, type Json, type JsonObject } from "./strategic-merge.ts";

/** Whether what the dialog shows was checked with the real kustomize, and what it renders. */
export type RenderCheck =
  | {
      verified: true;
      /** `kustomize v5.7.1` */
      tool: string;
      /** The chosen workload as kustomize renders it before and after the change (YAML). */
      before: string;
      after: string;
      /** Milliseconds spent in kustomize builds for this answer (the bench reports it). */
      buildMs: number;
    }
  | { verified: false; reason: string };

export type VerifiedPlan = DeployPlan & { render: RenderCheck };
export type VerifiedValues = CurrentDeployValues & { render: RenderCheck };

/**
 * A kustomization that names a remote resource (`https://…`, `github.com/…`, `git@…`) would make the
 * platform's host fetch whatever a repository writer chose: such trees are not built here, and what the
 * dialog shows says so.
 */
function remoteReference(files: Record<string, string>): string | null {
  for (const [path, text] of Object.entries(files)) {
    if (!/(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(path)) continue;
    const doc = parseAllDocuments(text);
    const value: Json = Array.isArray(doc) && doc[0] && doc[0].errors.length === 0 ? doc[0].toJS() : null;
    if (!isObject(value)) continue;
    for (const key of ["resources", "bases", "components"]) {
      const list = value[key];
      for (const entry of Array.isArray(list) ? list : []) {
        if (typeof entry === "string" && isRemote(entry)) return `${path} names the remote resource ${entry}`;
      }
    }
  }
  return null;
}

const NO_TOOL =
  "no kustomize found (install kustomize or kubectl, set JUANIE_KUSTOMIZE, or run `node scripts/fetch-kubectl.mjs`)";

// ---------- builds: cached by content, at most two kustomize processes at once ----------

const buildCache = new Map<string, Promise<RenderedObject[]>>();
const BUILD_CACHE_MAX = 64;
let running = 0;
const waiting: (() => void)[] = [];
const MAX_PARALLEL_BUILDS = 2;

async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL_BUILDS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function buildKey(tool: KustomizeTool, files: Record<string, string>, envPath: string): string {
  const hash = createHash("sha256").update(`${tool.binary}\0${tool.version}\0${envPath}\0`);
  for (const path of Object.keys(files).sort()) hash.update(`${path}\0${files[path]}\0`);
  return hash.digest("hex");
}

/** `kustomize build`, remembered by content (the dialog previews the same tree again and again). */
export function cachedBuild(tool: KustomizeTool, files: Record<string, string>, envPath: string) {
  const key = buildKey(tool, files, envPath);
  const hit = buildCache.get(key);
  if (hit) {
    buildCache.delete(key);
    buildCache.set(key, hit);
    return hit;
  }
  const build = limited(() => kustomizeBuild(tool, files, envPath));
  buildCache.set(key, build);
  build.catch(() => buildCache.delete(key));
  while (buildCache.size > BUILD_CACHE_MAX) {
    const oldest = buildCache.keys().next().value;
    if (oldest === undefined) break;
    buildCache.delete(oldest);
  }
  return build;
}

// ---------- the target as kustomize renders it ----------

/** Rendered YAML for people: kustomize sorts keys, so `name` is moved back to the front of each item. */
export function displayYaml(value: Json): string {
  const reorder = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(reorder);
    if (!isObject(v)) return v;
    const entries = Object.entries(v).map(([k, x]) => [k, reorder(x)] as const);
    const named = entries.filter(([k]) => k === "name");
    return Object.fromEntries([...named, ...entries.filter(([k]) => k !== "name")]);
  };
  return stringify(reorder(value), { lineWidth: 0 });
}

function refOf(target: Target): WorkloadRef {
  const first = target.source.layers[0];
  return {
    kind: target.source.kind,
    name: target.source.name,
    file: first && first.kind === "resource" ? first.file : "",
  };
}

function renderedTarget(objects: RenderedObject[], target: Target, envPath: string): JsonObject {
  const rendered = findRendered(objects, refOf(target));
  if (!rendered) {
    throw new ManifestError(
      `workload: kustomize build of ${envPath || "."} does not contain ${target.source.kind} ${target.source.name}`,
      { field: "workload" },
    );
  }
  return rendered;
}

/**
 * With nothing chosen, the form starts on the first Deployment (the usual application workload; a
 * StatefulSet is more often its database), else the first workload.
 */
function defaultChoice(
  repo: ReturnType<typeof filesFromRecord>,
  envPath: string,
  choice: { kind?: WorkloadKind | undefined; workload?: string | undefined; container?: string | undefined },
) {
  if (choice.kind !== undefined || choice.workload !== undefined) return choice;
  const workloads = currentWorkloads(repo, envPath);
  const first = workloads.find((w) => w.kind === "Deployment") ?? workloads[0];
  return first ? { ...choice, kind: first.kind, workload: first.name } : choice;
}

/**
 * The values the deploy form starts from, read from what kustomize renders (what Flux applies); from the
 * platform's model of the manifests, marked unverified, when there is no kustomize.
 */
export async function renderedDeployValues(
  files: Record<string, string>,
  envPath: string,
  choice: { kind?: WorkloadKind | undefined; workload?: string | undefined; container?: string | undefined },
  tool: KustomizeTool | null,
): Promise<VerifiedValues> {
  const repo = filesFromRecord(files);
  const target = selectTarget(repo, envPath, defaultChoice(repo, envPath, choice));
  const remote = remoteReference(files);
  if (!tool || remote) {
    const reason = remote ? `not built on the platform's host: ${remote}` : NO_TOOL;
    return { ...describeValues(target, target.rendered), render: { verified: false, reason } };
  }
  const started = performance.now();
  const objects = await cachedBuild(tool, files, envPath);
  const rendered = renderedTarget(objects, target, envPath);
  const yaml = displayYaml(rendered);
  return {
    ...describeValues(target, rendered),
    render: {
      verified: true,
      tool: `kustomize ${tool.version}`,
      before: yaml,
      after: yaml,
      buildMs: Math.round(performance.now() - started),
    },
  };
}

// ---------- plans checked against the real build ----------

const FIELD_OF_LEAF: [RegExp, string][] = [
  [/\.image$/, "image"],
  [/\.imagePullPolicy$/, "imagePullPolicy"],
  [/^spec\.replicas$/, "replicas"],
  [/\.env(\[|\.|$)/, "env"],
  [/\.resources\./, "resources"],
  [/\.livenessProbe/, "livenessProbe"],
  [/\.readinessProbe/, "readinessProbe"],
];

/** The requested field an unexpected change most likely comes from (for the form to show it there). */
function fieldFor(spec: DeploySpec, changes: RenderedChange[]): string {
  const requested = Object.keys(spec).filter((k) => !["kind", "workload", "container"].includes(k));
  for (const change of changes) {
    for (const [pattern, field] of FIELD_OF_LEAF) {
      if (pattern.test(change.path) && requested.includes(field)) return field;
    }
  }
  return requested[0] ?? "spec";
}

interface Attempt {
  plan: DeployPlan;
  afterObjects: RenderedObject[];
}

async function attempt(
  tool: KustomizeTool,
  files: Record<string, string>,
  envPath: string,
  spec: DeploySpec,
  beforeObjects: RenderedObject[],
  target: Target,
  options: PlanOptions,
): Promise<Attempt> {
  const plan = planDeploy(filesFromRecord(files), envPath, spec, options);
  const afterFiles = { ...files, ...plan.changes };
  const afterObjects =
    Object.keys(plan.changes).length === 0 ? beforeObjects : await cachedBuild(tool, afterFiles, envPath);
  const label = objectLabel(renderedTarget(beforeObjects, target, envPath));
  const unexpected = unexpectedChanges(
    diffRendered(beforeObjects, afterObjects),
    { label, container: target.container },
    spec,
  );
  if (unexpected.length > 0) {
    const shown = unexpected.slice(0, 3).map(describeChange).join("; ");
    const more = unexpected.length > 3 ? ` and ${unexpected.length - 3} more` : "";
    const field = fieldFor(spec, unexpected);
    throw new ManifestError(
      `${field}: cannot be changed on its own here: kustomize shows the edit would also change ${shown}${more}`,
      { field },
    );
  }
  const after = valuesOf(renderedTarget(afterObjects, target, envPath), target.container);
  try {
    checkApplied(spec, after, envPath);
  } catch (err) {
    if (!(err instanceof ManifestError) || !err.field) throw err;
    throw new ManifestError(
      `${err.field}: the change would not take effect: kustomize still renders ${err.field} as ${JSON.stringify(
        renderedField(after, err.field),
      )} after the edit — a later patch or transformer of ${envPath || "."} overrides it`,
      { field: err.field },
    );
  }
  checkResourceOrder(spec, after.resources);
  return { plan, afterObjects };
}

function renderedField(values: ReturnType<typeof valuesOf>, field: string): unknown {
  let current: unknown = values;
  for (const key of field.split(".")) {
    if (current === null || typeof current !== "object") return null;
    current = (current as Record<string, unknown>)[key];
  }
  return current ?? null;
}

/**
 * planDeploy, judged by the real kustomize: the build after the edit must differ from the build before
 * it in exactly the requested fields of the chosen workload and container, and every requested change
 * must show in it. When the straightforward edit fails that (an `images:` entry that renames another
 * container too), an edit that keeps it is tried; otherwise the request is refused naming what else
 * would change or what overrides the change. Without kustomize the model's plan is returned, marked
 * unverified.
 *
 * `files`: every file the build may read (the environment's top-level directory).
 */
export async function planVerifiedDeploy(
  files: Record<string, string>,
  envPath: string,
  specInput: DeploySpec,
  tool: KustomizeTool | null,
): Promise<VerifiedPlan> {
  const spec = parseDeploySpec(specInput);
  const remote = remoteReference(files);
  if (!tool || remote) {
    const reason = remote ? `not built on the platform's host: ${remote}` : NO_TOOL;
    return { ...planDeploy(filesFromRecord(files), envPath, spec), render: { verified: false, reason } };
  }
  const started = performance.now();
  const target = selectTarget(filesFromRecord(files), envPath, spec);
  const beforeObjects = await cachedBuild(tool, files, envPath);
  const beforeRendered = renderedTarget(beforeObjects, target, envPath);
  const before = valuesOf(beforeRendered, target.container);

  const strategies: PlanOptions[] = [{ before }];
  if (spec.image !== undefined) strategies.push({ before, imageVia: "patch" });
  let firstFailure: unknown = null;
  for (const options of strategies) {
    try {
      const { plan, afterObjects } = await attempt(tool, files, envPath, spec, beforeObjects, target, options);
      const afterRendered = renderedTarget(afterObjects, target, envPath);
      const fields = fieldChanges(spec, before, valuesOf(afterRendered, target.container));
      return {
        ...plan,
        fields,
        summary: summarize(fields, plan.scope),
        render: {
          verified: true,
          tool: `kustomize ${tool.version}`,
          before: displayYaml(beforeRendered),
          after: displayYaml(afterRendered),
          buildMs: Math.round(performance.now() - started),
        },
      };
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      firstFailure ??= err;
    }
  }
  throw firstFailure;
}
