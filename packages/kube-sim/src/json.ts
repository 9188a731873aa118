/** JSON values as the API server sees them: objects are plain records, never class instances. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export interface ObjectMeta extends JsonObject {
  name: string;
}

/** Any Kubernetes object: identity in apiVersion, kind and metadata; the rest is per kind. */
export interface KubeObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function clone<T extends Json>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

export function str(value: Json | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function obj(value: Json | undefined): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

/** The metadata map at `key` (labels, annotations), as strings. */
export function stringMap(meta: JsonObject, key: string): Record<string, string> {
  const m = obj(meta[key]);
  const out: Record<string, string> = {};
  if (!m) return out;
  for (const [k, v] of Object.entries(m)) if (typeof v === "string") out[k] = v;
  return out;
}
