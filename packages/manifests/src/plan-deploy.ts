import type { DeploySpec, EnvVar, Probe, ResourceAmounts, WorkloadKind } from "./deploy-spec.ts";
import { parseDeploySpec } from "./deploy-spec.ts";
import { DeploymentEditor } from "./deployment-editor.ts";
import { type ContainerValues, containerValues, RESOURCE_KEYS, sameImage, sameProbe } from "./deployment-values.ts";
import { ManifestError } from "./errors.ts";
import {
  type DeploymentSource,
  podContainers,
  type ResolvedEnvironment,
  renderDeployment,
  resolveEnvironment,
} from "./kustomize.ts";
import { checkEnvPath } from "./paths.ts";
import { compareQuantities, parseQuantity, sameQuantity } from "./quantity.ts";
import type { RepoFiles } from "./repo-files.ts";
import { isObject, type JsonObject } from "./strategic-merge.ts";
import { YamlWorkspace } from "./yaml-workspace.ts";

export interface FieldChange {
  /** `image`, `replicas`, `imagePullPolicy`, `env.NAME`, `resources.limits.cpu`, `livenessProbe`, ... */
  field: string;
  /** `null` when the field was not set. */
  before: unknown;
  after: unknown;
}

export interface DeployPlan {
  /** Path → new full content, for the files that change. */
  changes: Record<string, string>;
  /** What changes, in the order of the form; empty when the spec asks for what is already there. */
  fields: FieldChange[];
  /** `update image to ghcr.io/org/app:1.2.3, scale to 5 replicas` (`no changes` when there are none). */
  summary: string;
  /** How the summary names the workload and container (only where there is a choice). */
  scope: { workload: string | undefined; container: string | undefined };
  /** The workload and container the plan edits. */
  kind: WorkloadKind;
  workload: string;
  container: string;
}

export interface WorkloadSummary {
  kind: WorkloadKind;
  name: string;
  containers: string[];
}

export type CurrentDeployValues = DeploySpec & {
  kind: WorkloadKind;
  workload: string;
  container: string;
  /** The container names of the workload, in order. */
  containers: string[];
  /** Every workload of the environment (to offer a choice when there are several). */
  workloads: WorkloadSummary[];
  /** Env entries set from secrets, config maps or fields: kept by every deploy, not editable here. */
  valueFromEnv: string[];
};

export interface Conflict {
  field: string;
  base: unknown;
  theirs: unknown;
  ours: unknown;
}

export interface Target {
  ws: YamlWorkspace;
  env: ResolvedEnvironment;
  source: DeploymentSource;
  rendered: JsonObject;
  container: string;
  containers: string[];
}

const describe = (w: { kind: string; name: string }) => `${w.kind} ${w.name}`;

export function selectTarget(
  files: RepoFiles,
  envPath: string,
  choice: { kind?: WorkloadKind | undefined; workload?: string | undefined; container?: string | undefined },
): Target {
  const path = checkEnvPath(envPath);
  const ws = new YamlWorkspace(files);
  const env = resolveEnvironment(ws, path);
  const all = env.deployments.map(describe);
  if (env.deployments.length === 0) {
    throw new ManifestError(
      `path: no Deployment, StatefulSet or DaemonSet (apps/v1) found under ${path || "the repository root"}`,
      { field: "path" },
    );
  }
  const candidates = env.deployments.filter(
    (d) =>
      (choice.kind === undefined || d.kind === choice.kind) &&
      (choice.workload === undefined || d.name === choice.workload),
  );
  const asked = [choice.kind, choice.workload].filter((x) => x !== undefined).join(" ");
  if (candidates.length === 0) {
    const field = choice.workload !== undefined ? "workload" : "kind";
    throw new ManifestError(`${field}: no ${asked} under ${path || "."} (found: ${all.join(", ")})`, { field });
  }
  if (candidates.length > 1) {
    const field = choice.workload !== undefined ? "kind" : "workload";
    throw new ManifestError(
      `${field}: ${path || "."} has ${candidates.length} workloads${asked ? ` matching ${asked}` : ""} (${candidates.map(describe).join(", ")}); choose one`,
      { field },
    );
  }
  const source = candidates[0];
  if (!source) throw new Error("unreachable: a workload was found");
  const rendered = renderDeployment(ws, source);
  const containers = podContainers(rendered, "containers")
    .map((c) => c.name)
    .filter((n): n is string => typeof n === "string");
  if (containers.length === 0) {
    throw new ManifestError(`container: ${describe(source)} has no containers`, { field: "container" });
  }
  const chosen = choice.container ?? containers[0] ?? "";
  if (!containers.includes(chosen)) {
    throw new ManifestError(
      `container: ${describe(source)} has no container "${chosen}" (containers: ${containers.join(", ")})`,
      { field: "container" },
    );
  }
  return { ws, env, source, rendered, container: chosen, containers };
}

export type WorkloadValues = ContainerValues & { replicas?: number };

/** The form's values of one container of a rendered workload (a DaemonSet has no replica count). */
export function valuesOf(rendered: JsonObject, container: string): WorkloadValues {
  const c = podContainers(rendered, "containers").find((x) => x.name === container) ?? {};
  const spec = isObject(rendered.spec) ? rendered.spec : {};
  if (rendered.kind === "DaemonSet") return containerValues(c);
  return { ...containerValues(c), replicas: typeof spec.replicas === "number" ? spec.replicas : 1 };
}

/**
 * The values in effect for the environment, by the platform's own reading of the manifests. When the real
 * kustomize is at hand the form shows what it renders instead (see renderedDeployValues).
 */
export function currentDeployValues(
  files: RepoFiles,
  envPath: string,
  choice: { kind?: WorkloadKind | undefined; workload?: string | undefined; container?: string | undefined } = {},
): CurrentDeployValues {
  const target = selectTarget(files, envPath, choice);
  return describeValues(target, target.rendered);
}

/** The form's values of `target`, read from `rendered` (the model's or kustomize's rendering of it). */
export function describeValues(target: Target, rendered: JsonObject): CurrentDeployValues {
  const v = valuesOf(rendered, target.container);
  const out: CurrentDeployValues = {
    kind: target.source.kind,
    workload: target.source.name,
    workloads: listWorkloads(target),
    container: target.container,
    containers: target.containers,
    env: v.env,
    valueFromEnv: v.valueFromEnv,
    resources: v.resources,
  };
  if (v.replicas !== undefined) out.replicas = v.replicas;
  if (v.image !== undefined) out.image = v.image;
  if (v.imagePullPolicy !== undefined) out.imagePullPolicy = v.imagePullPolicy;
  if (v.livenessProbe !== undefined) out.livenessProbe = v.livenessProbe;
  if (v.readinessProbe !== undefined) out.readinessProbe = v.readinessProbe;
  return out;
}

/** The workloads of an environment, by the platform's model of its manifests (no choice needed). */
export function currentWorkloads(files: RepoFiles, envPath: string): { kind: WorkloadKind; name: string }[] {
  const ws = new YamlWorkspace(files);
  return resolveEnvironment(ws, checkEnvPath(envPath)).deployments.map((d) => ({ kind: d.kind, name: d.name }));
}

function listWorkloads(target: Target): WorkloadSummary[] {
  return target.env.deployments.map((source) => ({
    kind: source.kind,
    name: source.name,
    containers: podContainers(renderDeployment(target.ws, source), "containers")
      .map((c) => c.name)
      .filter((n): n is string => typeof n === "string"),
  }));
}

/** Which files to change and how, for `spec` applied to the environment at `envPath`. */
export function planDeploy(
  files: RepoFiles,
  envPath: string,
  specInput: DeploySpec,
  options: PlanOptions = {},
): DeployPlan {
  const spec = parseDeploySpec(specInput);
  const target = selectTarget(files, envPath, spec);
  const { ws, env, source, container } = target;
  // What the edit decides against: kustomize's rendering when the caller has it, else the model's.
  const before = options.before ?? valuesOf(target.rendered, container);
  if (spec.replicas !== undefined && source.kind === "DaemonSet") {
    throw new ManifestError(`replicas: DaemonSet ${source.name} runs one pod per node; it has no replica count`, {
      field: "replicas",
    });
  }

  spec.env?.forEach((entry, i) => {
    if (before.valueFromEnv.includes(entry.name)) {
      throw new ManifestError(
        `env.${i}.name: "${entry.name}" is set from a secret, config map or field (valueFrom) in the manifests; change it there`,
        { field: `env.${i}.name` },
      );
    }
  });

  const editor = new DeploymentEditor(ws, env, source, container, options);
  if (spec.image !== undefined && !sameImage(before.image, spec.image)) editor.setImage(spec.image);
  if (spec.imagePullPolicy !== undefined && before.imagePullPolicy !== spec.imagePullPolicy) {
    editor.setContainerValue(["imagePullPolicy"], spec.imagePullPolicy);
  }
  if (spec.replicas !== undefined && before.replicas !== spec.replicas) editor.setReplicas(spec.replicas);
  if (spec.env !== undefined && !sameEnv(before.env, spec.env)) editor.setEnv(spec.env);
  for (const [group, key] of RESOURCE_KEYS) {
    const want = spec.resources?.[group]?.[key];
    if (want !== undefined && !sameQuantity(before.resources[group]?.[key], want)) {
      editor.setContainerValue(["resources", group, key], want);
    }
  }
  for (const key of ["livenessProbe", "readinessProbe"] as const) {
    const want = spec[key];
    if (want !== undefined && !sameProbe(before[key], want)) editor.setProbe(key, want);
  }

  const after = valuesOf(renderDeployment(ws, source), container);
  // With kustomize's rendering at hand, kustomize judges the result (planVerifiedDeploy); the model's
  // own checks are for when there is no kustomize.
  if (!options.before) {
    checkApplied(spec, after, env.path);
    if (after.valueFromEnv.join("\n") !== before.valueFromEnv.join("\n")) {
      throw new Error(
        `planDeploy: env entries set from references changed (${before.valueFromEnv} → ${after.valueFromEnv})`,
      );
    }
    checkResourceOrder(spec, after.resources);
  }
  const fields = fieldChanges(spec, before, after);
  const scope = {
    workload: env.deployments.length > 1 || source.kind !== "Deployment" ? describe(source) : undefined,
    container: target.containers.length > 1 ? container : undefined,
  };
  return {
    changes: ws.changes(),
    fields,
    summary: summarize(fields, scope),
    scope,
    kind: source.kind,
    workload: source.name,
    container,
  };
}

function sameEnv(a: EnvVar[], b: EnvVar[]): boolean {
  const ma = new Map(a.map((e) => [e.name, e.value]));
  const mb = new Map(b.map((e) => [e.name, e.value]));
  return ma.size === mb.size && [...ma].every(([k, v]) => mb.get(k) === v);
}

/** The rendered result must say what was asked; if a layer we cannot see through overrides it, say so. */
export function checkApplied(spec: DeploySpec, after: WorkloadValues, path: string): void {
  const fail = (field: string) => {
    throw new ManifestError(
      `${field}: the change would not take effect: something in ${path || "."} overrides it (check its kustomization)`,
      { field },
    );
  };
  if (spec.image !== undefined && !sameImage(after.image, spec.image)) fail("image");
  if (spec.imagePullPolicy !== undefined && after.imagePullPolicy !== spec.imagePullPolicy) fail("imagePullPolicy");
  if (spec.replicas !== undefined && after.replicas !== spec.replicas) fail("replicas");
  if (spec.env !== undefined && !sameEnv(after.env, spec.env)) fail("env");
  for (const [group, key] of RESOURCE_KEYS) {
    const want = spec.resources?.[group]?.[key];
    if (want !== undefined && !sameQuantity(after.resources[group]?.[key], want)) fail(`resources.${group}.${key}`);
  }
  for (const key of ["livenessProbe", "readinessProbe"] as const) {
    if (spec[key] !== undefined && !sameProbe(after[key], spec[key])) fail(key);
  }
}

/** Limits below requests are refused also when one side comes from the manifests, not the form. */
export function checkResourceOrder(
  spec: DeploySpec,
  resources: { requests?: ResourceAmounts; limits?: ResourceAmounts },
) {
  for (const key of ["cpu", "memory"] as const) {
    const request = resources.requests?.[key];
    const limit = resources.limits?.[key];
    const r = request === undefined ? null : parseQuantity(request);
    const l = limit === undefined ? null : parseQuantity(limit);
    if (!r || !l || compareQuantities(l, r) >= 0) continue;
    const field = spec.resources?.limits?.[key] !== undefined ? `resources.limits.${key}` : `resources.requests.${key}`;
    const message =
      field === `resources.limits.${key}`
        ? `must not be less than the ${key} request in effect (${request})`
        : `must not be more than the ${key} limit in effect (${limit})`;
    throw new ManifestError(`${field}: ${message}`, { field });
  }
}

export function fieldChanges(spec: DeploySpec, before: WorkloadValues, after: WorkloadValues): FieldChange[] {
  const out: FieldChange[] = [];
  const push = (field: string, b: unknown, a: unknown, same: (x: unknown, y: unknown) => boolean) => {
    if (!same(b, a)) out.push({ field, before: b ?? null, after: a ?? null });
  };
  const eq = (x: unknown, y: unknown) => x === y;
  if (spec.image !== undefined) push("image", before.image, after.image, eq);
  if (spec.imagePullPolicy !== undefined) push("imagePullPolicy", before.imagePullPolicy, after.imagePullPolicy, eq);
  if (spec.replicas !== undefined) push("replicas", before.replicas, after.replicas, eq);
  if (spec.env !== undefined) {
    const b = new Map(before.env.map((e) => [e.name, e.value]));
    const a = new Map(after.env.map((e) => [e.name, e.value]));
    for (const name of new Set([...a.keys(), ...b.keys()])) push(`env.${name}`, b.get(name), a.get(name), eq);
  }
  for (const [group, key] of RESOURCE_KEYS) {
    if (spec.resources?.[group]?.[key] === undefined) continue;
    push(`resources.${group}.${key}`, before.resources[group]?.[key], after.resources[group]?.[key], eq);
  }
  for (const key of ["livenessProbe", "readinessProbe"] as const) {
    if (spec[key] === undefined) continue;
    const b = before[key];
    const a = after[key];
    if (!sameProbe(b, a)) out.push({ field: key, before: b ?? null, after: a ?? null });
  }
  return out;
}

export interface PlanOptions {
  /**
   * `patch`: write the image through a strategic-merge patch of the one container rather than the
   * kustomization's `images:` (which renames every container using the same image).
   */
  imageVia?: "auto" | "patch";
  /** The values in effect as kustomize renders them; an edit is made where they differ from the spec. */
  before?: WorkloadValues;
}

export function summarize(
  fields: FieldChange[],
  where: { workload: string | undefined; container: string | undefined },
) {
  const parts: string[] = [];
  const env = { add: [] as string[], change: [] as string[], remove: [] as string[] };
  const resources: string[] = [];
  for (const f of fields) {
    if (f.field === "image") parts.push(`update image to ${String(f.after)}`);
    else if (f.field === "imagePullPolicy") parts.push(`set image pull policy to ${String(f.after)}`);
    else if (f.field === "replicas") parts.push(`scale to ${String(f.after)} replica${f.after === 1 ? "" : "s"}`);
    else if (f.field.startsWith("env.")) {
      const name = f.field.slice(4);
      if (f.before === null) env.add.push(name);
      else if (f.after === null) env.remove.push(name);
      else env.change.push(name);
    } else if (f.field.startsWith("resources.")) resources.push(`${f.field.slice(10)} ${String(f.after)}`);
    else {
      const probe = f.field === "livenessProbe" ? "liveness probe" : "readiness probe";
      parts.push(`${f.before === null ? "add" : f.after === null ? "remove" : "update"} ${probe}`);
    }
  }
  const envParts = [
    env.add.length > 0 ? `add env ${env.add.join(", ")}` : "",
    env.change.length > 0 ? `change env ${env.change.join(", ")}` : "",
    env.remove.length > 0 ? `remove env ${env.remove.join(", ")}` : "",
  ].filter((p) => p !== "");
  // Keep the form's order: image, pull policy and replicas first, then env, resources, probes.
  const probes = parts.filter((p) => p.endsWith(" probe"));
  const ordered = [
    ...parts.filter((p) => !p.endsWith(" probe")),
    ...envParts,
    ...(resources.length > 0 ? [`set resources ${resources.join(", ")}`] : []),
    ...probes,
  ];
  if (ordered.length === 0) return "no changes";
  const scope = [
    where.workload !== undefined ? where.workload : "",
    where.container !== undefined ? `container ${where.container}` : "",
  ].filter((s) => s !== "");
  return `${ordered.join(", ")}${scope.length > 0 ? ` (${scope.join(", ")})` : ""}`;
}

/**
 * Fields the remote changed since `base` that the user also wants to change to something else. Env
 * entries are compared one by one: the form sends the whole list, so an entry the remote added or
 * changed and the form does not carry is a conflict too (committing would undo the remote's change).
 */
export function detectConflicts(base: RepoFiles, head: RepoFiles, envPath: string, specInput: DeploySpec): Conflict[] {
  const spec = parseDeploySpec(specInput);
  const b = currentDeployValues(base, envPath, spec);
  const h = currentDeployValues(head, envPath, spec);
  const out: Conflict[] = [];
  const check = <T>(field: string, bv: T | undefined, hv: T | undefined, ov: T | undefined, same: Same<T>) => {
    if (!same(bv, hv) && !same(ov, hv)) out.push({ field, base: bv ?? null, theirs: hv ?? null, ours: ov ?? null });
  };
  const eq = <T>(x: T | undefined, y: T | undefined) => x === y;
  if (spec.image !== undefined) check("image", b.image, h.image, spec.image, sameImage);
  if (spec.imagePullPolicy !== undefined) {
    check("imagePullPolicy", b.imagePullPolicy, h.imagePullPolicy, spec.imagePullPolicy, eq);
  }
  if (spec.replicas !== undefined) check("replicas", b.replicas, h.replicas, spec.replicas, eq);
  if (spec.env !== undefined) {
    const bm = new Map((b.env ?? []).map((e) => [e.name, e.value]));
    const hm = new Map((h.env ?? []).map((e) => [e.name, e.value]));
    const om = new Map(spec.env.map((e) => [e.name, e.value]));
    for (const name of new Set([...om.keys(), ...bm.keys(), ...hm.keys()])) {
      check(`env.${name}`, bm.get(name), hm.get(name), om.get(name), eq);
    }
  }
  for (const [group, key] of RESOURCE_KEYS) {
    const ours = spec.resources?.[group]?.[key];
    if (ours === undefined) continue;
    check(`resources.${group}.${key}`, b.resources?.[group]?.[key], h.resources?.[group]?.[key], ours, sameQuantity);
  }
  for (const key of ["livenessProbe", "readinessProbe"] as const) {
    const ours = spec[key];
    if (ours === undefined) continue;
    check<Probe | null>(key, b[key] ?? null, h[key] ?? null, ours, sameProbe);
  }
  return out;
}

type Same<T> = (a: T | undefined, b: T | undefined) => boolean;
