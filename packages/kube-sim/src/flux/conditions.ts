// Status helpers shared by the simulated Flux controllers (test tooling): conditions as Flux's runtime
// sets them, and Go's duration format for messages and durations ("1m30.5s", "500ms").
import type { Json, JsonObject } from "../json.ts";
import { isObject } from "../json.ts";

export interface Condition extends JsonObject {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

/** RFC 3339 with seconds, as metav1.Time serialises. */
export const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

export function readConditions(status: Json | undefined): Condition[] {
  const list = isObject(status) ? status.conditions : undefined;
  return Array.isArray(list) ? (list.filter(isObject) as Condition[]) : [];
}

export function findCondition(status: Json | undefined, type: string): Condition | undefined {
  return readConditions(status).find((c) => c.type === type);
}

/**
 * Sets a condition, keeping lastTransitionTime when the status does not change (as apimachinery's
 * SetStatusCondition does). Ready first, then the others in the order they were added.
 */
export function setCondition(
  conditions: Condition[],
  type: string,
  status: Condition["status"],
  reason: string,
  message: string,
  generation: number,
): Condition[] {
  const existing = conditions.find((c) => c.type === type);
  const next: Condition = {
    type,
    status,
    reason,
    message,
    observedGeneration: generation,
    lastTransitionTime: existing && existing.status === status ? existing.lastTransitionTime : now(),
  };
  const out = existing ? conditions.map((c) => (c.type === type ? next : c)) : [...conditions, next];
  return out.sort((a, b) => order(a.type) - order(b.type));
}

export function removeCondition(conditions: Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

const order = (type: string) => (type === "Ready" ? 0 : type === "Reconciling" || type === "Stalled" ? 1 : 2);

/** Go's time.Duration.String(): "1.002345s", "500ms", "1m0.5s", "2h0m0s". */
export function goDuration(ms: number): string {
  if (ms <= 0) return "0s";
  if (ms < 1000) return `${trim(ms.toFixed(3))}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = `${trim(s.toFixed(6))}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

const trim = (n: string) => (n.includes(".") ? n.replace(/0+$/, "").replace(/\.$/, "") : n);

/** Parses a Go/Kubernetes duration ("1m", "30s", "1h30m", "500ms"); undefined when malformed. */
export function parseDuration(text: Json | undefined): number | undefined {
  if (typeof text !== "string" || text === "") return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const n = Number(m[1]);
    total += m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60_000 : n * 3_600_000;
    matched = re.lastIndex;
  }
  return matched === text.length ? total : undefined;
}
