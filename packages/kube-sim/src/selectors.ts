import { badRequest } from "./errors.ts";
import { isObject, type Json, type JsonObject, stringMap } from "./json.ts";

type Requirement = { key: string; op: "in" | "notin"; values: string[] } | { key: string; op: "exists" | "!exists" };

export type Selector = (object: JsonObject) => boolean;

/** `app=web,tier in (a,b),!legacy,env!=prod`: label selector syntax as kubectl sends it. */
export function parseLabelSelector(text: string | null): Selector {
  if (!text) return () => true;
  const reqs: Requirement[] = [];
  for (const part of splitTop(text)) {
    const s = part.trim();
    if (s) reqs.push(parseRequirement(s));
  }
  return (object) => {
    const labels = stringMap(isObject(object.metadata) ? object.metadata : {}, "labels");
    return reqs.every((r) => {
      const has = r.key in labels;
      if (!("values" in r)) return r.op === "exists" ? has : !has;
      const hit = has && r.values.includes(labels[r.key] as string);
      return r.op === "in" ? hit : !hit;
    });
  };
}

function parseRequirement(s: string): Requirement {
  const set = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(s);
  if (set) {
    const values = (set[3] as string).split(",").map((v) => v.trim());
    return { key: set[1] as string, op: set[2] as "in" | "notin", values };
  }
  const eq = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(s);
  if (eq) return { key: eq[1] as string, op: eq[2] === "!=" ? "notin" : "in", values: [eq[3] as string] };
  const absent = /^!\s*([^\s!=(),]+)$/.exec(s);
  if (absent) return { key: absent[1] as string, op: "!exists" };
  const present = /^([^\s!=(),]+)$/.exec(s);
  if (present) return { key: present[1] as string, op: "exists" };
  throw badRequest(`unable to parse requirement: found '${s}', expected: identifier`);
}

/** Splits on commas outside parentheses (`a in (x,y),b` is two requirements). */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Fields each kind can be selected on (as on a real API server); metadata.name/namespace always work. */
const FIELDS: Record<string, string[]> = {
  Pod: [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "status.phase",
    "status.podIP",
  ],
  Event: [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  Secret: ["type"],
  Namespace: ["status.phase"],
  Node: ["spec.unschedulable"],
  ReplicaSet: ["status.replicas"],
};

/** `metadata.name=web,status.phase!=Running`. Unsupported fields are a 400, as on a real cluster. */
export function parseFieldSelector(text: string | null, kind: string, customFields: string[] = []): Selector {
  if (!text) return () => true;
  const allowed = new Set(["metadata.name", "metadata.namespace", ...(FIELDS[kind] ?? []), ...customFields]);
  const reqs = text
    .split(",")
    .filter((s) => s.trim())
    .map((s) => {
      const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(s);
      if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${s}'`);
      const field = m[1] as string;
      if (!allowed.has(field)) throw badRequest(`field label not supported: ${field}`);
      return { field, negate: m[2] === "!=", value: m[3] as string };
    });
  return (object) =>
    reqs.every((r) => {
      const v = fieldValue(object, r.field);
      return r.negate ? v !== r.value : v === r.value;
    });
}

function fieldValue(object: JsonObject, path: string): string {
  let node: Json | undefined = object;
  for (const seg of path.split(".")) node = isObject(node) ? node[seg] : undefined;
  if (node === undefined || node === null) return "";
  return typeof node === "string" ? node : JSON.stringify(node);
}
