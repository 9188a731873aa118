import { StatusError } from "./errors.ts";
import type { Json, JsonObject } from "./json.ts";

/**
 * Decodes the protobuf bodies kubectl's `create` generators send (`kubectl create namespace|configmap|
 * secret generic|serviceaccount|deployment`): the `k8s\0` envelope around the object's own message. Only the
 * messages and fields those generators fill are known; Go's encoder also writes every empty field, which is
 * read as unset. A non-empty field the table does not know is refused (415), never silently dropped.
 */
type FieldKind =
  | "string"
  | "int"
  | "intPtr"
  | "bool"
  | "bytes"
  | "strings"
  | "map"
  | "mapBytes"
  | { msg: string }
  | { msgs: string };

const SCHEMA: Record<string, Record<number, [string, FieldKind]>> = {
  Unknown: {
    1: ["typeMeta", { msg: "TypeMeta" }],
    2: ["raw", "bytes"],
    3: ["contentEncoding", "string"],
    4: ["contentType", "string"],
  },
  TypeMeta: { 1: ["apiVersion", "string"], 2: ["kind", "string"] },
  ObjectMeta: {
    1: ["name", "string"],
    2: ["generateName", "string"],
    3: ["namespace", "string"],
    4: ["selfLink", "string"],
    5: ["uid", "string"],
    6: ["resourceVersion", "string"],
    7: ["generation", "int"],
    8: ["creationTimestamp", { msg: "Time" }],
    11: ["labels", "map"],
    12: ["annotations", "map"],
    14: ["finalizers", "strings"],
  },
  Time: {},
  ConfigMap: {
    1: ["metadata", { msg: "ObjectMeta" }],
    2: ["data", "map"],
    3: ["binaryData", "mapBytes"],
    4: ["immutable", "bool"],
  },
  Secret: {
    1: ["metadata", { msg: "ObjectMeta" }],
    2: ["data", "mapBytes"],
    3: ["type", "string"],
    4: ["stringData", "map"],
    5: ["immutable", "bool"],
  },
  Namespace: {
    1: ["metadata", { msg: "ObjectMeta" }],
    2: ["spec", { msg: "NamespaceSpec" }],
    3: ["status", { msg: "NamespaceStatus" }],
  },
  NamespaceSpec: { 1: ["finalizers", "strings"] },
  NamespaceStatus: { 1: ["phase", "string"] },
  ServiceAccount: { 1: ["metadata", { msg: "ObjectMeta" }], 4: ["automountServiceAccountToken", "bool"] },
  Deployment: {
    1: ["metadata", { msg: "ObjectMeta" }],
    2: ["spec", { msg: "DeploymentSpec" }],
    3: ["status", { msg: "Ignored" }],
  },
  Ignored: {},
  DeploymentSpec: {
    1: ["replicas", "intPtr"],
    2: ["selector", { msg: "LabelSelector" }],
    3: ["template", { msg: "PodTemplateSpec" }],
    4: ["strategy", { msg: "DeploymentStrategy" }],
    5: ["minReadySeconds", "int"],
    6: ["revisionHistoryLimit", "intPtr"],
    7: ["paused", "bool"],
    9: ["progressDeadlineSeconds", "intPtr"],
  },
  DeploymentStrategy: { 1: ["type", "string"] },
  LabelSelector: { 1: ["matchLabels", "map"] },
  PodTemplateSpec: { 1: ["metadata", { msg: "ObjectMeta" }], 2: ["spec", { msg: "PodSpec" }] },
  PodSpec: {
    2: ["containers", { msgs: "Container" }],
    3: ["restartPolicy", "string"],
    4: ["terminationGracePeriodSeconds", "intPtr"],
    6: ["dnsPolicy", "string"],
    7: ["nodeSelector", "map"],
    8: ["serviceAccountName", "string"],
    10: ["nodeName", "string"],
    16: ["hostname", "string"],
    17: ["subdomain", "string"],
    19: ["schedulerName", "string"],
  },
  Container: {
    1: ["name", "string"],
    2: ["image", "string"],
    3: ["command", "strings"],
    4: ["args", "strings"],
    5: ["workingDir", "string"],
    6: ["ports", { msgs: "ContainerPort" }],
    7: ["env", { msgs: "EnvVar" }],
    8: ["resources", { msg: "Ignored" }],
    13: ["terminationMessagePath", "string"],
    14: ["imagePullPolicy", "string"],
    16: ["stdin", "bool"],
    17: ["stdinOnce", "bool"],
    18: ["tty", "bool"],
    20: ["terminationMessagePolicy", "string"],
  },
  ContainerPort: {
    1: ["name", "string"],
    2: ["hostPort", "int"],
    3: ["containerPort", "int"],
    4: ["protocol", "string"],
    5: ["hostIP", "string"],
  },
  EnvVar: { 1: ["name", "string"], 2: ["value", "string"] },
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export function decodeKubernetesProtobuf(body: Buffer): JsonObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC))
    throw unsupported("the body lacks the k8s protobuf envelope");
  const envelope = decode(body.subarray(4), "Unknown", { raw: true });
  const typeMeta = (envelope.typeMeta ?? {}) as JsonObject;
  const kind = String(typeMeta.kind ?? "");
  if (!SCHEMA[kind] || kind === "Unknown") throw unsupported(`no protobuf decoder for kind ${kind || "(none)"}`);
  const raw = envelope.raw;
  if (typeof raw !== "string") throw unsupported("the envelope holds no object");
  const object = decode(Buffer.from(raw, "base64"), kind);
  return { apiVersion: String(typeMeta.apiVersion ?? ""), kind, ...object };
}

function decode(buf: Buffer, type: string, opts: { raw?: boolean } = {}): JsonObject {
  const fields = SCHEMA[type] ?? {};
  const out: JsonObject = {};
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw unsupported("truncated protobuf");
      const byte = buf[i++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (!(byte & 0x80)) return result;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const number = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value: bigint | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = Number(varint());
      value = buf.subarray(i, i + len);
      i += len;
    } else throw unsupported(`unexpected protobuf wire type ${wire} in ${type}`);
    const spec = fields[number];
    if (!spec) {
      if (type === "Ignored" || isEmpty(value)) continue;
      throw unsupported(`field ${number} of ${type} is not supported by the simulator's protobuf decoder`);
    }
    const [name, kind] = spec;
    const set = decodeField(kind, value, opts.raw === true && name === "raw");
    if (set === undefined) continue;
    if (kind === "strings" || (typeof kind === "object" && "msgs" in kind)) {
      out[name] = [...((out[name] as Json[] | undefined) ?? []), set];
    } else if (kind === "map" || kind === "mapBytes") {
      out[name] = { ...((out[name] as JsonObject | undefined) ?? {}), ...(set as JsonObject) };
    } else out[name] = set;
  }
  return out;
}

function decodeField(kind: FieldKind, value: bigint | Buffer, keepBytes: boolean): Json | undefined {
  if (typeof value === "bigint") {
    if (kind === "bool") return value !== 0n ? true : undefined;
    if (kind === "intPtr") return Number(value);
    return value !== 0n ? Number(value) : undefined;
  }
  if (kind === "bytes") return keepBytes || value.length > 0 ? value.toString("base64") : undefined;
  if (kind === "string") return value.length > 0 ? value.toString("utf8") : undefined;
  if (kind === "strings") return value.toString("utf8");
  if (kind === "map" || kind === "mapBytes") {
    const entry = decode(value, kind === "map" ? "MapEntry" : "MapEntryBytes");
    return { [String(entry.key ?? "")]: String(entry.value ?? "") };
  }
  if (typeof kind === "object") {
    const inner = decode(value, "msg" in kind ? kind.msg : kind.msgs);
    if ("msgs" in kind) return inner;
    return Object.keys(inner).length > 0 ? inner : undefined;
  }
  return undefined;
}

SCHEMA.MapEntry = { 1: ["key", "string"], 2: ["value", "string"] };
SCHEMA.MapEntryBytes = { 1: ["key", "string"], 2: ["value", "bytes"] };

function isEmpty(value: bigint | Buffer): boolean {
  if (typeof value === "bigint") return value === 0n;
  if (value.length === 0) return true;
  // An embedded message whose fields are all empty (Go writes empty strings and zero numbers).
  try {
    let i = 0;
    while (i < value.length) {
      let key = 0n;
      let shift = 0n;
      for (;;) {
        const b = value[i++] as number;
        key |= BigInt(b & 0x7f) << shift;
        shift += 7n;
        if (!(b & 0x80)) break;
      }
      const wire = Number(key & 7n);
      let v = 0n;
      shift = 0n;
      for (;;) {
        const b = value[i++] as number;
        v |= BigInt(b & 0x7f) << shift;
        shift += 7n;
        if (!(b & 0x80)) break;
      }
      if (i > value.length) return false;
      if (wire === 0 && v !== 0n) return false;
      if (wire === 2) {
        const inner = value.subarray(i, i + Number(v));
        i += Number(v);
        if (!isEmpty(inner)) return false;
      } else if (wire !== 0) return false;
    }
    return true;
  } catch {
    return false;
  }
}

const unsupported = (why: string) =>
  new StatusError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (the juanie simulator decodes protobuf only for kubectl's create generators: ${why})`,
  );
