/**
 * Just enough of Kubernetes' strategic merge patch to know what a kustomize overlay makes of a
 * Deployment: maps merge, `null` deletes a key, `$patch: replace|delete` directives, and the lists
 * of a pod spec merge by their key (containers by name, env by name, ...). Other lists are replaced.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumes: "name",
  imagePullSecrets: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  ports: "containerPort",
  tolerations: "key",
  hostAliases: "ip",
};

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `target` with `patch` merged in; `undefined` when the patch deletes the whole value. */
export function strategicMerge(target: Json | undefined, patch: Json): Json | undefined {
  if (!isObject(patch)) return patch;
  if (patch.$patch === "delete") return undefined;
  if (patch.$patch === "replace") return withoutDirectives(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$")) continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const mergeKey = MERGE_KEYS[key];
    const merged =
      Array.isArray(value) && mergeKey !== undefined
        ? mergeList(result[key], value, mergeKey)
        : strategicMerge(result[key], value);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  return result;
}

function mergeList(target: Json | undefined, patch: Json[], key: string): Json[] {
  if (patch.some((item) => isObject(item) && item.$patch === "replace")) {
    return patch.filter((item) => !(isObject(item) && item.$patch === "replace")).map(withoutDirectives);
  }
  const result: Json[] = Array.isArray(target) ? [...target] : [];
  for (const item of patch) {
    if (!isObject(item)) {
      result.push(item);
      continue;
    }
    const index = result.findIndex((existing) => isObject(existing) && existing[key] === item[key]);
    if (item.$patch === "delete") {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index < 0) {
      result.push(withoutDirectives(item));
      continue;
    }
    const merged = strategicMerge(result[index], item);
    if (merged === undefined) result.splice(index, 1);
    else result[index] = merged;
  }
  return result;
}

function withoutDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith("$") && v !== null) out[k] = withoutDirectives(v);
  return out;
}
