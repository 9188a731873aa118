import { type Json, type JsonObject, obj } from "./json.ts";
import type { ResourceType } from "./resources.ts";

/**
 * How a list merges, in strategic merge patch and in server-side apply alike: by key ("map"), as a set of
 * scalars ("set"), or replaced whole ("atomic"). Built-in kinds follow the patchMergeKey / listMapKeys of
 * their Go types; custom resources follow x-kubernetes-list-type in their CRD schema (atomic by default).
 */
export type ListSemantics = { type: "map"; keys: string[] } | { type: "set" } | { type: "atomic" };

const ATOMIC: ListSemantics = { type: "atomic" };
const byKey = (...keys: string[]): ListSemantics => ({ type: "map", keys });

/** Field name → semantics for the built-in kinds (the parent field disambiguates where names repeat). */
const BUILTIN_LISTS: Record<string, ListSemantics | ((parent: string) => ListSemantics)> = {
  containers: byKey("name"),
  initContainers: byKey("name"),
  ephemeralContainers: byKey("name"),
  env: byKey("name"),
  volumes: byKey("name"),
  volumeMounts: byKey("mountPath"),
  volumeDevices: byKey("devicePath"),
  imagePullSecrets: byKey("name"),
  hostAliases: byKey("ip"),
  conditions: byKey("type"),
  topologySpreadConstraints: byKey("topologyKey", "whenUnsatisfiable"),
  resourceClaims: byKey("name"),
  // Container ports merge on containerPort, Service ports on port.
  ports: (parent) => (parent === "spec" ? byKey("port") : byKey("containerPort")),
};

const METADATA_LISTS: Record<string, ListSemantics> = {
  finalizers: { type: "set" },
  ownerReferences: byKey("uid"),
};

/** The semantics of the list at `path` (field names from the object's root; list indexes omitted). */
export function listSemantics(type: ResourceType | undefined, path: string[]): ListSemantics {
  const field = path[path.length - 1];
  if (!field) return ATOMIC;
  if (path.length === 2 && path[0] === "metadata") return METADATA_LISTS[field] ?? ATOMIC;
  if (!type) return ATOMIC;
  if (type.builtin) {
    const rule = BUILTIN_LISTS[field];
    if (!rule) return ATOMIC;
    return typeof rule === "function" ? rule(path[path.length - 2] ?? "") : rule;
  }
  return schemaListSemantics(type.schema, path);
}

function schemaListSemantics(schema: JsonObject | undefined, path: string[]): ListSemantics {
  let node: JsonObject | undefined = schema;
  for (const field of path) {
    if (!node) return ATOMIC;
    // Step through arrays to their items: the path names fields only.
    while (node && node.type === "array") node = obj(node.items);
    node =
      obj(obj(node?.properties)?.[field]) ??
      (node?.additionalProperties === undefined ? undefined : obj(node.additionalProperties));
  }
  if (!node) return ATOMIC;
  const listType = node["x-kubernetes-list-type"];
  if (listType === "set") return { type: "set" };
  if (listType === "map") {
    const keys = node["x-kubernetes-list-map-keys"];
    if (Array.isArray(keys)) return { type: "map", keys: keys.filter((k): k is string => typeof k === "string") };
  }
  return ATOMIC;
}

/** The key of a map-list item, as the object of its key fields (`{"name":"web"}`). */
export function itemKey(item: Json, keys: string[]): JsonObject | undefined {
  const o = obj(item);
  if (!o) return undefined;
  const key: JsonObject = {};
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    key[k] = v;
  }
  return Object.keys(key).length > 0 ? key : undefined;
}

export function sameKey(a: JsonObject | undefined, b: JsonObject | undefined): boolean {
  if (!a || !b) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
