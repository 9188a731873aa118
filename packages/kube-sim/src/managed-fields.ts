import { StatusError } from "./errors.ts";
import { clone, deepEqual, isObject, type Json, type JsonObject, obj } from "./json.ts";
import { itemKey, listSemantics, sameKey } from "./list-semantics.ts";
import type { ResourceType } from "./resources.ts";

/**
 * Field ownership for server-side apply, in the FieldsV1 vocabulary: a field path is a list of segments
 * `f:<field>`, `k:<json key of a map-list item>`, `v:<json of a set member>`, and `.` for "the item itself".
 * A set of paths is stored as strings (segments joined) so that sets compare cheaply.
 */
type FieldPath = string[];
const SEP = "\u0001";
const join = (p: FieldPath) => p.join(SEP);
const split = (s: string): FieldPath => (s === "" ? [] : s.split(SEP));

/** Which part of the object an operation may touch: the object (without status) or the status subresource. */
export type Scope = "main" | "status";

const IDENTITY_META = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "managedFields",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "selfLink",
]);

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  subresource?: string;
  fields: Set<string>;
}

/** The leaf paths an object sets, within the scope (what a manager owns when it sends this object). */
export function fieldSet(type: ResourceType | undefined, object: JsonObject, scope: Scope): Set<string> {
  const out = new Set<string>();
  const hasStatus = type?.subresources.includes("status") ?? false;
  for (const [key, value] of Object.entries(object)) {
    if (key === "apiVersion" || key === "kind") continue;
    if (scope === "status" ? key !== "status" : hasStatus && key === "status") continue;
    if (key === "metadata" && isObject(value)) {
      for (const [mk, mv] of Object.entries(value)) {
        if (IDENTITY_META.has(mk) || mv === null) continue;
        collect(type, ["metadata", mk], [`f:metadata`, `f:${mk}`], mv, out);
      }
      continue;
    }
    if (value === null) continue;
    collect(type, [key], [`f:${key}`], value, out);
  }
  return out;
}

function collect(type: ResourceType | undefined, names: string[], path: FieldPath, value: Json, out: Set<string>) {
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== null);
    if (entries.length === 0) out.add(join(path));
    for (const [k, v] of entries) collect(type, [...names, k], [...path, `f:${k}`], v, out);
    return;
  }
  if (Array.isArray(value) && value.length > 0) {
    const semantics = listSemantics(type, names);
    if (semantics.type === "set") {
      for (const v of value) out.add(join([...path, `v:${JSON.stringify(v)}`]));
      return;
    }
    if (semantics.type === "map") {
      const keyed = value.map((item) => itemKey(item, semantics.keys));
      if (keyed.every((k) => k !== undefined)) {
        value.forEach((item, i) => {
          const itemPath = [...path, `k:${JSON.stringify(keyed[i])}`];
          out.add(join([...itemPath, "."]));
          for (const [k, v] of Object.entries(item as JsonObject)) {
            if (v !== null) collect(type, [...names, k], [...itemPath, `f:${k}`], v, out);
          }
        });
        return;
      }
    }
  }
  out.add(join(path));
}

/** The value at a field path, or undefined when the object does not set it. */
export function valueAt(root: Json, path: string): Json | undefined {
  let node: Json | undefined = root;
  for (const seg of split(path)) {
    if (node === undefined) return undefined;
    if (seg === ".") continue;
    if (seg.startsWith("f:")) {
      node = isObject(node) ? node[seg.slice(2)] : undefined;
    } else if (seg.startsWith("k:")) {
      const key = JSON.parse(seg.slice(2)) as JsonObject;
      node = Array.isArray(node) ? node.find((item) => sameKey(itemKey(item, Object.keys(key)), key)) : undefined;
    } else if (seg.startsWith("v:")) {
      const v = JSON.parse(seg.slice(2)) as Json;
      node = Array.isArray(node) ? node.find((item) => deepEqual(item, v)) : undefined;
    }
  }
  return node;
}

/** Removes the field (or list item) at a path; nothing happens when it is not there. */
function removeAt(root: JsonObject, path: string) {
  const segs = split(path);
  if (segs[segs.length - 1] === ".") segs.pop();
  const last = segs.pop();
  if (!last) return;
  const parent = valueAt(root, join(segs));
  if (last.startsWith("f:") && isObject(parent)) {
    delete parent[last.slice(2)];
  } else if (Array.isArray(parent)) {
    const target = valueAt(parent, last);
    const i = parent.indexOf(target as Json);
    if (target !== undefined && i >= 0) parent.splice(i, 1);
  }
}

/** `.spec.template.spec.containers[name="web"].image`: how the API server prints a field path. */
export function describePath(path: string): string {
  let out = "";
  for (const seg of split(path)) {
    if (seg === ".") continue;
    if (seg.startsWith("f:")) out += `.${seg.slice(2)}`;
    else if (seg.startsWith("k:")) {
      const key = JSON.parse(seg.slice(2)) as JsonObject;
      out += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}]`;
    } else if (seg.startsWith("v:")) out += `[=${seg.slice(2)}]`;
  }
  return out;
}

export function toFieldsV1(fields: Set<string>): JsonObject {
  const root: JsonObject = {};
  for (const path of [...fields].sort()) {
    let node = root;
    for (const seg of split(path)) {
      const next = obj(node[seg]) ?? {};
      node[seg] = next;
      node = next;
    }
  }
  return root;
}

export function fromFieldsV1(fieldsV1: Json | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: JsonObject, path: FieldPath) => {
    const entries = Object.entries(node);
    if (entries.length === 0 && path.length > 0) out.add(join(path));
    for (const [seg, child] of entries) walk(obj(child) ?? {}, [...path, seg]);
  };
  if (isObject(fieldsV1)) walk(fieldsV1, []);
  return out;
}

export function readManagedFields(object: JsonObject): ManagedFieldsEntry[] {
  const list = obj(object.metadata)?.managedFields;
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).map((e) => ({
    manager: String(e.manager ?? ""),
    operation: e.operation === "Apply" ? "Apply" : "Update",
    apiVersion: String(e.apiVersion ?? ""),
    time: String(e.time ?? ""),
    ...(typeof e.subresource === "string" && e.subresource ? { subresource: e.subresource } : {}),
    fields: fromFieldsV1(e.fieldsV1),
  }));
}

export function writeManagedFields(object: JsonObject, entries: ManagedFieldsEntry[]) {
  const meta = obj(object.metadata) ?? {};
  object.metadata = meta;
  const kept = entries.filter((e) => e.fields.size > 0);
  if (kept.length === 0) {
    delete meta.managedFields;
    return;
  }
  meta.managedFields = kept.map((e) => {
    const out: JsonObject = {
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: e.time,
      fieldsType: "FieldsV1",
      fieldsV1: toFieldsV1(e.fields),
    };
    if (e.subresource) out.subresource = e.subresource;
    return out;
  });
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

/**
 * Records a create, update or patch by `manager` (operation Update): it takes ownership of the fields it
 * changed, and every other manager loses them.
 */
export function trackUpdate(args: {
  type: ResourceType;
  before: JsonObject | undefined;
  after: JsonObject;
  manager: string;
  apiVersion: string;
  scope: Scope;
  /** The request replaced managedFields itself (kubectl's client-side → server-side apply migration). */
  explicitEntries?: ManagedFieldsEntry[];
}): void {
  const { type, before, after, manager, apiVersion, scope } = args;
  const entries = args.explicitEntries ?? (before ? readManagedFields(before) : []);
  const oldSet = before ? fieldSet(type, before, scope) : new Set<string>();
  const newSet = fieldSet(type, after, scope);
  const changed = new Set<string>();
  for (const p of newSet) if (!oldSet.has(p) || !deepEqual(valueAt(before ?? {}, p), valueAt(after, p))) changed.add(p);
  const removed = [...oldSet].filter((p) => !newSet.has(p));
  const subresource = scope === "status" ? "status" : undefined;
  if (!args.explicitEntries) {
    for (const e of entries) {
      for (const p of changed) e.fields.delete(p);
      for (const p of removed) e.fields.delete(p);
    }
  }
  if (changed.size > 0) {
    let mine = entries.find((e) => e.manager === manager && e.operation === "Update" && e.subresource === subresource);
    if (!mine) {
      mine = {
        manager,
        operation: "Update",
        apiVersion,
        time: now(),
        fields: new Set(),
        ...(subresource ? { subresource } : {}),
      };
      entries.push(mine);
    }
    for (const p of changed) mine.fields.add(p);
    for (const p of [...mine.fields]) if (!newSet.has(p)) mine.fields.delete(p);
    mine.time = now();
    mine.apiVersion = apiVersion;
  }
  writeManagedFields(after, entries);
}

/**
 * Server-side apply: merges `applied` into `current` as `manager`, removes the fields this manager applied
 * before and no longer does (unless someone else owns them), and refuses (409 Conflict) to change a field
 * another manager owns with a different value — unless `force`, which takes the field over.
 */
export function serverSideApply(args: {
  type: ResourceType;
  current: JsonObject | undefined;
  applied: JsonObject;
  manager: string;
  force: boolean;
  scope: Scope;
  /** Conflicts that do not stop the apply when they are the only ones (see lastAppliedAllowance). */
  allowedConflicts?: Set<string>;
}): JsonObject {
  const { type, current, manager, scope } = args;
  let force = args.force;
  const applied = stripNulls(args.applied) as JsonObject;
  const apiVersion = String(applied.apiVersion ?? "");
  const subresource = scope === "status" ? "status" : undefined;
  const entries = current ? readManagedFields(current) : [];
  const appliedSet = fieldSet(type, applied, scope);
  const conflicts: { entry: ManagedFieldsEntry; path: string }[] = [];
  for (const entry of entries) {
    if (entry.manager === manager && entry.operation === "Apply") continue;
    for (const p of appliedSet) {
      if (!entry.fields.has(p) || p.endsWith(`${SEP}.`)) continue;
      if (!deepEqual(valueAt(current ?? {}, p), valueAt(applied, p))) conflicts.push({ entry, path: p });
    }
  }
  if (conflicts.length > 0 && !force) {
    const allowed = args.allowedConflicts;
    const blocking = allowed ? conflicts.filter((c) => !allowed.has(c.path)) : conflicts;
    if (blocking.length > 0) throw conflictError(blocking);
    force = true;
  }
  for (const c of conflicts) c.entry.fields.delete(c.path);

  let mine = entries.find((e) => e.manager === manager && e.operation === "Apply" && e.subresource === subresource);
  const previous = mine?.fields ?? new Set<string>();
  const merged = mergeApplied(type, [], current ? clone(current) : {}, applied, scope) as JsonObject;
  const ownedByOthers = (p: string) =>
    entries.some(
      (e) =>
        e !== mine &&
        [...e.fields].some((f) => f === p || f.startsWith(`${p.endsWith(`${SEP}.`) ? p.slice(0, -2) : p}${SEP}`)),
    );
  for (const p of previous) if (!appliedSet.has(p) && !ownedByOthers(p)) removeAt(merged, p);

  if (!mine) {
    mine = {
      manager,
      operation: "Apply",
      apiVersion,
      time: now(),
      fields: appliedSet,
      ...(subresource ? { subresource } : {}),
    };
    entries.push(mine);
  }
  // A no-op apply leaves the object as it was, timestamps included (so the resourceVersion stays).
  const sameFields = mine.fields.size === appliedSet.size && [...appliedSet].every((p) => mine?.fields.has(p));
  const withoutFields = (o: JsonObject | undefined) => {
    const m = { ...(obj(o?.metadata) ?? {}) };
    delete m.managedFields;
    return { ...(o ?? {}), metadata: m };
  };
  const unchanged =
    sameFields &&
    mine.apiVersion === apiVersion &&
    deepEqual(withoutFields(merged), withoutFields(current)) &&
    conflicts.length === 0;
  mine.fields = appliedSet;
  mine.apiVersion = apiVersion;
  if (!unchanged) mine.time = now();
  writeManagedFields(merged, entries);
  return merged;
}

function conflictError(conflicts: { entry: ManagedFieldsEntry; path: string }[]): StatusError {
  const who = (e: ManagedFieldsEntry) => {
    let s = JSON.stringify(e.manager);
    if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
    return e.operation === "Update" ? `${s} using ${e.apiVersion}` : s;
  };
  let message: string;
  const first = conflicts[0] as { entry: ManagedFieldsEntry; path: string };
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${who(first.entry)}: ${describePath(first.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const k = who(c.entry);
      byManager.set(k, [...(byManager.get(k) ?? []), describePath(c.path)]);
    }
    const lines: string[] = [];
    for (const k of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${k}:`);
      for (const p of byManager.get(k) ?? []) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new StatusError(409, "Conflict", message, {
    causes: conflicts.map((c) => ({
      type: "FieldManagerConflict",
      message: `conflict with ${who(c.entry)}`,
      field: describePath(c.path),
    })),
  });
}

function mergeApplied(type: ResourceType, names: string[], current: Json, applied: Json, scope: Scope): Json {
  if (!isObject(applied)) {
    if (!Array.isArray(applied) || !Array.isArray(current)) return clone(applied);
    const semantics = listSemantics(type, names);
    if (semantics.type === "atomic") return clone(applied);
    const out = clone(current);
    for (const item of applied) {
      if (semantics.type === "set") {
        if (!out.some((c) => deepEqual(c, item))) out.push(clone(item));
        continue;
      }
      const key = itemKey(item, semantics.keys);
      const at = out.findIndex((c) => sameKey(itemKey(c, semantics.keys), key));
      if (at >= 0) out[at] = mergeApplied(type, names, out[at] ?? null, item, scope);
      else out.push(clone(item));
    }
    return out;
  }
  const out: JsonObject = isObject(current) ? current : {};
  const hasStatus = type.subresources.includes("status");
  for (const [k, v] of Object.entries(applied)) {
    if (names.length === 0) {
      if (scope === "main" && hasStatus && k === "status") continue;
      if (scope === "status" && k !== "status") continue;
    }
    if (names.length === 1 && names[0] === "metadata" && IDENTITY_META.has(k) && k !== "name" && k !== "namespace")
      continue;
    out[k] = mergeApplied(type, [...names, k], out[k] ?? null, v, scope);
  }
  return out;
}

function stripNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = stripNulls(v);
  return out;
}

/**
 * What a real API server grants `kubectl apply --server-side` (manager "kubectl") on an object managed by
 * client-side apply: conflicts on fields that still hold the value of the last-applied-configuration
 * annotation are taken over without --force-conflicts, so that switching to server-side apply just works.
 */
export function lastAppliedAllowance(
  type: ResourceType,
  current: JsonObject,
  manager: string,
): Set<string> | undefined {
  if (manager !== "kubectl") return undefined;
  const annotation = obj(obj(current.metadata)?.annotations)?.["kubectl.kubernetes.io/last-applied-configuration"];
  if (typeof annotation !== "string" || !annotation) return undefined;
  let lastApplied: Json;
  try {
    lastApplied = JSON.parse(annotation) as Json;
  } catch {
    return undefined;
  }
  if (!isObject(lastApplied)) return undefined;
  const allowed = new Set<string>();
  for (const p of fieldSet(type, lastApplied, "main")) {
    if (deepEqual(valueAt(current, p), valueAt(lastApplied, p))) allowed.add(p);
  }
  return allowed;
}
