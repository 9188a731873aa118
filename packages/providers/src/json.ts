/** Small guards for narrowing JSON that came from outside. */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function stringAt(obj: JsonObject | undefined, key: string): string | undefined {
  const v = obj?.[key];
  return typeof v === "string" ? v : undefined;
}

export function objectAt(obj: JsonObject | undefined, key: string): JsonObject | undefined {
  const v = obj?.[key];
  return isObject(v) ? v : undefined;
}

export function booleanAt(obj: JsonObject | undefined, key: string): boolean | undefined {
  const v = obj?.[key];
  return typeof v === "boolean" ? v : undefined;
}

export function numberAt(obj: JsonObject | undefined, key: string): number | undefined {
  const v = obj?.[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Strings of an array field; a missing or null field (GitLab sends null for empty lists) is `[]`. */
export function stringsAt(obj: JsonObject | undefined, key: string): string[] | null {
  const v = obj?.[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return null;
  const out: string[] = [];
  for (const x of v) {
    if (typeof x !== "string") return null;
    out.push(x);
  }
  return out;
}

export function firstLine(message: string): string {
  const end = message.search(/\r?\n/);
  return (end >= 0 ? message.slice(0, end) : message).trim();
}
