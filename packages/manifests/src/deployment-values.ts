import type { EnvVar, ImagePullPolicy, Probe, ResourceRequirements } from "./deploy-spec.ts";
import { imagePullPolicies } from "./deploy-spec.ts";
import { formatImageReference, splitImage } from "./image-reference.ts";
import { sameQuantity } from "./quantity.ts";
import { isObject, type Json, type JsonObject } from "./strategic-merge.ts";

/** A rendered container, in the deploy form's terms. */
export interface ContainerValues {
  image?: string;
  imagePullPolicy?: ImagePullPolicy;
  /** Literal entries only. */
  env: EnvVar[];
  /** Names of env entries set from secrets, config maps or fields (kept by every edit). */
  valueFromEnv: string[];
  resources: ResourceRequirements;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}

export const PROBE_HANDLERS = ["httpGet", "tcpSocket", "exec", "grpc"] as const;
export const PROBE_TIMING = ["initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold"] as const;
export const RESOURCE_KEYS = [
  ["requests", "cpu"],
  ["requests", "memory"],
  ["limits", "cpu"],
  ["limits", "memory"],
] as const;

export function containerValues(container: JsonObject): ContainerValues {
  const values: ContainerValues = { env: [], valueFromEnv: [], resources: {} };
  if (typeof container.image === "string") values.image = container.image;
  const policy = imagePullPolicies.find((p) => p === container.imagePullPolicy);
  if (policy) values.imagePullPolicy = policy;
  for (const entry of Array.isArray(container.env) ? container.env : []) {
    if (!isObject(entry) || typeof entry.name !== "string") continue;
    if (entry.valueFrom != null) values.valueFromEnv.push(entry.name);
    else values.env.push({ name: entry.name, value: entry.value == null ? "" : String(entry.value) });
  }
  const resources = isObject(container.resources) ? container.resources : {};
  for (const [group, key] of RESOURCE_KEYS) {
    const amounts = resources[group];
    const amount = isObject(amounts) ? amounts[key] : undefined;
    if (amount == null) continue;
    const target = values.resources[group] ?? {};
    target[key] = String(amount);
    values.resources[group] = target;
  }
  const liveness = probeFromManifest(container.livenessProbe);
  if (liveness) values.livenessProbe = liveness;
  const readiness = probeFromManifest(container.readinessProbe);
  if (readiness) values.readinessProbe = readiness;
  return values;
}

/** The probe in the form's terms, or `undefined` for none or for one the form cannot show (gRPC). */
export function probeFromManifest(value: Json | undefined): Probe | undefined {
  if (!isObject(value)) return undefined;
  const timing: Partial<Record<(typeof PROBE_TIMING)[number], number>> = {};
  for (const key of PROBE_TIMING) {
    const v = value[key];
    if (typeof v === "number") timing[key] = v;
  }
  const port = (v: Json | undefined): number | string => (typeof v === "number" ? v : String(v ?? ""));
  if (isObject(value.httpGet)) {
    const path = typeof value.httpGet.path === "string" ? value.httpGet.path : "/";
    return { type: "http", path, port: port(value.httpGet.port), ...timing };
  }
  if (isObject(value.tcpSocket)) return { type: "tcp", port: port(value.tcpSocket.port), ...timing };
  if (isObject(value.exec) && Array.isArray(value.exec.command)) {
    return { type: "exec", command: value.exec.command.map(String), ...timing };
  }
  return undefined;
}

/** The probe as a container spec writes it. */
export function probeToManifest(probe: Probe): JsonObject {
  const out: JsonObject = {};
  if (probe.type === "http") out.httpGet = { path: probe.path, port: probe.port };
  else if (probe.type === "tcp") out.tcpSocket = { port: probe.port };
  else out.exec = { command: [...probe.command] };
  for (const key of PROBE_TIMING) {
    const v = probe[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export function sameProbe(a: Probe | null | undefined, b: Probe | null | undefined): boolean {
  const na = a ? probeToManifest(a) : null;
  const nb = b ? probeToManifest(b) : null;
  return JSON.stringify(sortKeys(na)) === JSON.stringify(sortKeys(nb));
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k] ?? null)]),
  );
}

/** `app` and `app:latest` are the same image; everything else compares as written. */
export function sameImage(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return normalizeImage(a) === normalizeImage(b);
}

function normalizeImage(image: string): string {
  const ref = splitImage(image);
  return formatImageReference(ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: "latest" } : ref);
}

export { sameQuantity };
