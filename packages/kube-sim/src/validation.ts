import { invalid } from "./errors.ts";
import { isObject, type JsonObject, type KubeObject, obj } from "./json.ts";
import type { ResourceType } from "./resources.ts";

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ANNOTATIONS_MAX = 256 * 1024;

/**
 * The validation of a real API server that manifests most often trip over: label syntax, the 256 KiB
 * annotation limit (why Flux's CRDs need server-side apply), and a Deployment's selector matching its
 * template's labels.
 */
export function validateObject(type: ResourceType, object: KubeObject): void {
  const name = String(object.metadata.name ?? "");
  const causes: { field: string; message: string }[] = [];
  const labels = obj(object.metadata.labels) ?? {};
  for (const [key, value] of Object.entries(labels)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) causes.push({ field: "metadata.labels", message: `Invalid value: "${key}": ${keyProblem}` });
    const v = typeof value === "string" ? value : "";
    if (v.length > 63)
      causes.push({ field: "metadata.labels", message: `Invalid value: "${v}": must be no more than 63 characters` });
    else if (v !== "" && !LABEL_NAME.test(v)) {
      causes.push({
        field: "metadata.labels",
        message: `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      });
    }
  }
  const annotations = obj(object.metadata.annotations) ?? {};
  const size = Object.entries(annotations).reduce((n, [k, v]) => n + k.length + String(v ?? "").length, 0);
  if (size > ANNOTATIONS_MAX) {
    causes.push({ field: "metadata.annotations", message: `Too long: must have at most ${ANNOTATIONS_MAX} bytes` });
  }
  if (
    type.builtin &&
    type.group === "apps" &&
    ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"].includes(type.kind)
  ) {
    const spec = obj(object.spec) ?? {};
    const matchLabels = obj(obj(spec.selector)?.matchLabels);
    const templateLabels = obj(obj(obj(spec.template)?.metadata)?.labels) ?? {};
    if (!obj(spec.selector)) causes.push({ field: "spec.selector", message: "Required value" });
    else if (matchLabels && !Object.entries(matchLabels).every(([k, v]) => templateLabels[k] === v)) {
      causes.push({
        field: "spec.template.metadata.labels",
        message: `Invalid value: ${goMap(templateLabels)}: \`selector\` does not match template \`labels\``,
      });
    }
    const containers = obj(obj(spec.template)?.spec)?.containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      causes.push({ field: "spec.template.spec.containers", message: "Required value" });
    } else {
      containers.forEach((c, i) => {
        if (!isObject(c) || typeof c.image !== "string" || !c.image) {
          causes.push({ field: `spec.template.spec.containers[${i}].image`, message: "Required value" });
        }
      });
    }
  }
  if (causes.length > 0) throw invalid(type.kind, type.group, name, causes);
}

/** The selector and template of a Deployment's selector may not change (it is immutable). */
export function validateUpdate(type: ResourceType, before: KubeObject, after: KubeObject): void {
  if (
    !(
      type.builtin &&
      type.group === "apps" &&
      ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"].includes(type.kind)
    )
  )
    return;
  const a = JSON.stringify(obj(before.spec)?.selector ?? null);
  const b = JSON.stringify(obj(after.spec)?.selector ?? null);
  if (a !== b) {
    throw invalid(type.kind, type.group, String(after.metadata.name ?? ""), [
      {
        field: "spec.selector",
        message: `Invalid value: ${selectorText(obj(after.spec)?.selector)}: field is immutable`,
      },
    ]);
  }
}

function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split("/");
  if (parts.length > 2)
    return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined && (!DNS_SUBDOMAIN.test(prefix) || prefix.length > 253)) {
    return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  if (!name || name.length > 63 || !LABEL_NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  }
  return undefined;
}

/** Go's %#v of a map[string]string, as the API server prints it. */
function goMap(m: JsonObject): string {
  const entries = Object.keys(m)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(m[k]))}`);
  return `map[string]string{${entries.join(", ")}}`;
}

function selectorText(selector: unknown): string {
  const labels = isObject(selector) ? obj(selector.matchLabels) : undefined;
  return `v1.LabelSelector{MatchLabels:${goMap(labels ?? {})}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`;
}
