import { badRequest, StatusError } from "./errors.ts";
import { clone, deepEqual, isObject, type Json, type JsonObject } from "./json.ts";
import { itemKey, listSemantics, sameKey } from "./list-semantics.ts";
import type { ResourceType } from "./resources.ts";

/** RFC 7386 JSON merge patch: objects merge, null deletes, everything else (lists too) replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key] ?? null, value);
  }
  return out;
}

/** RFC 6902 JSON patch. A failed `test` or a missing path is an error, and nothing is applied. */
export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw badRequest("json patch must be a list of operations");
  let doc = clone(target);
  for (const op of operations) {
    if (!isObject(op) || typeof op.op !== "string" || typeof op.path !== "string") {
      throw badRequest("json patch operation needs 'op' and 'path'");
    }
    const path = parsePointer(op.path);
    switch (op.op) {
      case "add":
        doc = setAt(doc, path, clone(required(op, "value")), "add");
        break;
      case "replace":
        getAt(doc, path, op.path);
        doc = setAt(doc, path, clone(required(op, "value")), "replace");
        break;
      case "remove":
        getAt(doc, path, op.path);
        doc = removeAt(doc, path);
        break;
      case "move": {
        const from = parsePointer(fromOf(op));
        const value = getAt(doc, from, fromOf(op));
        doc = setAt(removeAt(doc, from), path, value, "add");
        break;
      }
      case "copy": {
        const value = getAt(doc, parsePointer(fromOf(op)), fromOf(op));
        doc = setAt(doc, path, clone(value), "add");
        break;
      }
      case "test": {
        const value = getAt(doc, path, op.path);
        if (!deepEqual(value, required(op, "value"))) {
          throw new StatusError(422, "Invalid", `the server rejected our request due to an error in our request`, {
            causes: [{ type: "FieldValueInvalid", message: `testing value at ${op.path} failed`, field: op.path }],
          });
        }
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

function required(op: JsonObject, key: string): Json {
  if (!(key in op)) throw badRequest(`json patch ${String(op.op)} operation needs '${key}'`);
  return op[key] as Json;
}

function fromOf(op: JsonObject): string {
  if (typeof op.from !== "string") throw badRequest(`json patch ${String(op.op)} operation needs 'from'`);
  return op.from;
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw badRequest(`invalid JSON pointer ${pointer}`);
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function getAt(doc: Json, path: string[], pointer: string): Json {
  let node: Json = doc;
  for (const seg of path) {
    if (Array.isArray(node)) {
      const i = Number(seg);
      if (!Number.isInteger(i) || i < 0 || i >= node.length) throw missing(pointer);
      node = node[i] as Json;
    } else if (isObject(node) && seg in node) {
      node = node[seg] as Json;
    } else {
      throw missing(pointer);
    }
  }
  return node;
}

const missing = (pointer: string) =>
  new StatusError(422, "Invalid", `the server rejected our request due to an error in our request`, {
    causes: [{ type: "FieldValueInvalid", message: `doc is missing path: "${pointer}"`, field: pointer }],
  });

function setAt(doc: Json, path: string[], value: Json, mode: "add" | "replace"): Json {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1), `/${path.slice(0, -1).join("/")}`);
  const last = path[path.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = last === "-" ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw missing(`/${path.join("/")}`);
    if (mode === "add") parent.splice(i, 0, value);
    else parent[i] = value;
  } else if (isObject(parent)) {
    parent[last] = value;
  } else {
    throw missing(`/${path.join("/")}`);
  }
  return doc;
}

function removeAt(doc: Json, path: string[]): Json {
  const parent = getAt(doc, path.slice(0, -1), `/${path.slice(0, -1).join("/")}`);
  const last = path[path.length - 1] as string;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) delete parent[last];
  return doc;
}

/**
 * Strategic merge patch (built-in kinds only): like a merge patch, but lists with a merge key merge item by
 * item, and the directives kubectl sends are honoured: `$patch: delete|replace|merge`,
 * `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and `$retainKeys`.
 */
export function strategicMergePatch(type: ResourceType, target: Json, patch: Json): Json {
  return smpValue(type, [], target, patch);
}

function smpValue(type: ResourceType, path: string[], target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === "replace") {
    const { $patch: _, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === "delete") return null;
  const out: JsonObject = isObject(target) ? clone(target) : {};
  const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys.map(String)) : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys") continue;
    if (key.startsWith("$setElementOrder/")) continue;
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const field = key.slice("$deleteFromPrimitiveList/".length);
      const drop = Array.isArray(value) ? value : [];
      const current = out[field];
      if (Array.isArray(current)) out[field] = current.filter((v) => !drop.some((d) => deepEqual(d, v)));
      continue;
    }
    if (value === null) {
      delete out[key];
      continue;
    }
    const childPath = [...path, key];
    if (Array.isArray(value)) {
      const order = patch[`$setElementOrder/${key}`];
      out[key] = smpList(type, childPath, out[key] ?? null, value, Array.isArray(order) ? order : undefined);
    } else {
      out[key] = smpValue(type, childPath, out[key] ?? null, value);
    }
  }
  if (retain) for (const key of Object.keys(out)) if (!retain.has(key)) delete out[key];
  return out;
}

function smpList(type: ResourceType, path: string[], target: Json, patch: Json[], order?: Json[]): Json {
  const semantics = listSemantics(type, path);
  const current = Array.isArray(target) ? clone(target) : [];
  if (semantics.type === "atomic") return stripDirectives(patch);
  if (semantics.type === "set") {
    const out = [...current];
    for (const v of patch) if (!out.some((c) => deepEqual(c, v))) out.push(clone(v));
    return order ? sortByOrder(out, order, (a, b) => deepEqual(a, b)) : out;
  }
  if (patch.some((p) => isObject(p) && p.$patch === "replace")) {
    return stripDirectives(patch.filter((p) => !(isObject(p) && p.$patch === "replace")));
  }
  const keys = semantics.keys;
  const out = [...current];
  for (const item of patch) {
    const key = itemKey(item, keys);
    const at = out.findIndex((c) => sameKey(itemKey(c, keys), key));
    if (isObject(item) && item.$patch === "delete") {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = smpValue(type, path, out[at] ?? null, item);
    else out.push(smpValue(type, path, null, item));
  }
  if (!order) return out;
  return sortByOrder(out, order, (a, b) => sameKey(itemKey(a, keys), itemKey(b, keys)));
}

/** `$setElementOrder`: listed items first in that order, the others after in their current order. */
function sortByOrder(items: Json[], order: Json[], same: (a: Json, b: Json) => boolean): Json[] {
  const rank = (item: Json) => {
    const i = order.findIndex((o) => same(o, item));
    return i < 0 ? order.length : i;
  };
  return items
    .map((item, i) => ({ item, i, r: rank(item) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.item);
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith("$")) out[k] = stripDirectives(v);
  return out;
}
