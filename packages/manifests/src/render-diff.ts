import type { DeploySpec, WorkloadKind } from "./deploy-spec.ts";
import type { RenderedObject } from "./kustomize-build.ts";
import { isObject, type Json, type JsonObject } from "./strategic-merge.ts";

/** One leaf that differs between two renderings: `Deployment web` · `spec.template.spec.containers[app].image`. */
export interface RenderedChange {
  /** `Kind name` (with `namespace/` before the name when set). */
  object: string;
  path: string;
  before: Json | undefined;
  after: Json | undefined;
}

function objectKey(o: JsonObject): string {
  const metadata = isObject(o.metadata) ? o.metadata : {};
  const group = typeof o.apiVersion === "string" && o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
  return `${group}|${String(o.kind)}|${String(metadata.namespace ?? "")}|${String(metadata.name)}`;
}

export function objectLabel(o: JsonObject): string {
  const metadata = isObject(o.metadata) ? o.metadata : {};
  const ns = typeof metadata.namespace === "string" ? `${metadata.namespace}/` : "";
  return `${String(o.kind)} ${ns}${String(metadata.name)}`;
}

/** Lists whose items all have a `name` are compared by name (containers, env, ports, volumes), others by index. */
function keyedByName(list: Json[]): Map<string, Json> | null {
  const out = new Map<string, Json>();
  for (const item of list) {
    if (!isObject(item) || typeof item.name !== "string" || out.has(item.name)) return null;
    out.set(item.name, item);
  }
  return out;
}

function walk(
  path: string,
  a: Json | undefined,
  b: Json | undefined,
  out: (path: string, a: Json | undefined, b: Json | undefined) => void,
) {
  if (isObject(a) || isObject(b)) {
    if ((a !== undefined && !isObject(a)) || (b !== undefined && !isObject(b))) return out(path, a, b);
    const ao = a ?? {};
    const bo = b ?? {};
    for (const key of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
      walk(path === "" ? key : `${path}.${key}`, ao[key], bo[key], out);
    }
    return;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if ((a !== undefined && !Array.isArray(a)) || (b !== undefined && !Array.isArray(b))) return out(path, a, b);
    const al = a ?? [];
    const bl = b ?? [];
    const ak = keyedByName(al);
    const bk = keyedByName(bl);
    if (ak && bk) {
      // The order of named items matters too (the first container is kubectl's default one).
      const common = (keys: Iterable<string>, other: Map<string, Json>) => [...keys].filter((k) => other.has(k));
      const orderA = common(ak.keys(), bk);
      const orderB = common(bk.keys(), ak);
      if (orderA.join("\0") !== orderB.join("\0")) out(`${path}.(order)`, orderA, orderB);
      // An item added or removed is one change (an env entry), not one per field.
      for (const name of new Set([...ak.keys(), ...bk.keys()])) {
        const x = ak.get(name);
        const y = bk.get(name);
        if (x === undefined || y === undefined) out(`${path}[${name}]`, x, y);
        else walk(`${path}[${name}]`, x, y, out);
      }
      return;
    }
    for (let i = 0; i < Math.max(al.length, bl.length); i++) walk(`${path}[${i}]`, al[i], bl[i], out);
    return;
  }
  if (a !== b) out(path, a, b);
}

/** Every leaf that differs between two builds, object by object (objects added or removed count whole). */
export function diffRendered(before: RenderedObject[], after: RenderedObject[]): RenderedChange[] {
  const index = (list: RenderedObject[]) => new Map(list.map((r) => [objectKey(r.object), r.object]));
  const a = index(before);
  const b = index(after);
  const changes: RenderedChange[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    const label = objectLabel((x ?? y) as JsonObject);
    if (!x || !y) {
      changes.push({ object: label, path: "", before: x, after: y });
      continue;
    }
    walk("", x, y, (path, before, after) => changes.push({ object: label, path, before, after }));
  }
  return changes;
}

export interface WorkloadRef {
  kind: WorkloadKind;
  /** The name the workload was declared with (the build may add a prefix or suffix). */
  name: string;
  /** The file that declares it. */
  file: string;
}

/**
 * The rendered object of a workload: same kind, declared in the same file (kustomize's origin annotation)
 * and carrying the declared name, exactly or inside a prefix/suffix. Null when the build has none.
 */
export function findRendered(objects: RenderedObject[], ref: WorkloadRef): JsonObject | null {
  const sameKind = objects.filter((r) => r.object.kind === ref.kind && r.object.apiVersion === "apps/v1");
  const nameOf = (r: RenderedObject) => {
    const metadata = isObject(r.object.metadata) ? r.object.metadata : {};
    return typeof metadata.name === "string" ? metadata.name : "";
  };
  const fromFile = sameKind.filter((r) => r.origin === null || r.origin === ref.file);
  const exact = fromFile.filter((r) => nameOf(r) === ref.name);
  if (exact.length === 1) return exact[0]?.object ?? null;
  const affixed = fromFile.filter((r) => nameOf(r).includes(ref.name));
  return affixed.length === 1 ? (affixed[0]?.object ?? null) : null;
}

/** The leaves of the chosen container and workload that a spec asks to change. */
function allowedPaths(spec: DeploySpec, container: string): ((path: string) => boolean)[] {
  const c = `spec.template.spec.containers[${container}]`;
  const exact = (p: string) => (path: string) => path === p;
  const under = (p: string) => (path: string) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`);
  const out: ((path: string) => boolean)[] = [];
  if (spec.replicas !== undefined) out.push(exact("spec.replicas"));
  if (spec.image !== undefined) out.push(exact(`${c}.image`));
  if (spec.imagePullPolicy !== undefined) out.push(exact(`${c}.imagePullPolicy`));
  if (spec.env !== undefined) {
    // Literal entries only: an entry set from a secret or config map must come through untouched.
    out.push((path) => under(`${c}.env`)(path) && !path.includes(".valueFrom"));
  }
  for (const group of ["requests", "limits"] as const) {
    for (const key of ["cpu", "memory"] as const) {
      if (spec.resources?.[group]?.[key] !== undefined) out.push(exact(`${c}.resources.${group}.${key}`));
    }
  }
  if (spec.livenessProbe !== undefined) out.push(under(`${c}.livenessProbe`));
  if (spec.readinessProbe !== undefined) out.push(under(`${c}.readinessProbe`));
  return out;
}

/** The changes between two builds that the spec did not ask for (on other objects, containers or fields). */
export function unexpectedChanges(
  changes: RenderedChange[],
  target: { label: string; container: string },
  spec: DeploySpec,
): RenderedChange[] {
  const allowed = allowedPaths(spec, target.container);
  return changes.filter((c) => c.object !== target.label || !allowed.some((ok) => ok(c.path)));
}

/** `Deployment web: spec.template.spec.containers[sidecar].image app:1.0 → app:2.0` — for messages. */
export function describeChange(c: RenderedChange): string {
  const show = (v: Json | undefined) => (v === undefined ? "(unset)" : JSON.stringify(v));
  if (c.path === "") return `${c.object} would be ${c.before === undefined ? "added" : "removed"}`;
  const path = c.path.replace(/^spec\.template\.spec\.containers\[([^\]]+)\]\./, "container $1: ");
  return `${c.object}, ${path}: ${show(c.before)} → ${show(c.after)}`;
}
