import { isObject, type Json, type JsonObject, type KubeObject, obj, str } from "./json.ts";
import type { PrinterColumn, ResourceType } from "./resources.ts";

/**
 * Server-side printing (`kubectl get` asks for `as=Table`): the columns a real API server prints for the
 * built-in kinds, and a CRD's additionalPrinterColumns evaluated by JSONPath.
 */
export function toTable(
  type: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  now = Date.now(),
): JsonObject {
  const columns = type.columns;
  const nameLast = type.nameLast === true;
  const hasAge = nameLast || columns.some((c) => c.name === "Age");
  const nameColumn: JsonObject = {
    name: "Name",
    type: "string",
    format: "name",
    description: "Name must be unique within a namespace.",
    priority: nameLast ? 1 : 0,
  };
  const definitions: JsonObject[] = [
    ...(nameLast ? [] : [nameColumn]),
    ...columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: "",
      description: c.description ?? "",
      priority: c.priority ?? 0,
    })),
    ...(hasAge ? [] : [{ name: "Age", type: "date", format: "", description: "CreationTimestamp", priority: 0 }]),
    ...(nameLast ? [nameColumn] : []),
  ];
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: definitions,
    rows: objects.map((o) => {
      const name = str(o.metadata.name) ?? "";
      const cells = [...columns.map((c) => cell(c, o, now)), ...(hasAge ? [] : [age(o, now)])];
      return { cells: nameLast ? [...cells, name] : [name, ...cells], object: o };
    }),
  };
}

function cell(column: PrinterColumn, o: KubeObject, now: number): Json {
  const special = SPECIAL[column.jsonPath];
  if (special) return special(o, now);
  const values = jsonPath(o, column.jsonPath);
  const v = values[0];
  if (column.type === "date" && typeof v === "string") return since(Date.parse(v), now);
  if (column.type === "integer" && v === undefined) return 0;
  if (v === undefined || v === null) return "";
  return typeof v === "object" ? JSON.stringify(v) : (v as Json);
}

const num = (v: Json | undefined) => (typeof v === "number" ? v : 0);

const SPECIAL: Record<string, (o: KubeObject, now: number) => Json> = {
  "#age": (o, now) => age(o, now),
  "#lastSeen": (o, now) => {
    const last = str(o.lastTimestamp) ?? str(o.metadata.creationTimestamp);
    return last ? since(Date.parse(last), now) : "<unknown>";
  },
  "#involvedObject": (o) => {
    const io = obj(o.involvedObject);
    return `${String(io?.kind ?? "").toLowerCase()}/${String(io?.name ?? "")}`;
  },
  "#data": (o) => Object.keys(obj(o.data) ?? {}).length + Object.keys(obj(o.binaryData) ?? {}).length,
  "#externalIP": (o) => {
    const ips = obj(o.spec)?.externalIPs;
    return Array.isArray(ips) && ips.length > 0 ? ips.join(",") : "<none>";
  },
  "#ports": (o) => {
    const ports = obj(o.spec)?.ports;
    if (!Array.isArray(ports) || ports.length === 0) return "<none>";
    return ports
      .filter(isObject)
      .map((p) => `${String(p.port)}/${String(p.protocol ?? "TCP")}`)
      .join(",");
  },
  "#ready": (o) => {
    const statuses = containerStatuses(o);
    const specContainers = obj(o.spec)?.containers;
    const total = Array.isArray(specContainers) ? specContainers.length : statuses.length;
    return `${statuses.filter((s) => s.ready === true).length}/${total}`;
  },
  "#restarts": (o) => containerStatuses(o).reduce((sum, s) => sum + num(s.restartCount), 0),
  "#podStatus": (o) => podStatus(o),
  "#deployReady": (o) => `${num(obj(o.status)?.readyReplicas)}/${num(obj(o.spec)?.replicas ?? 1)}`,
  "#nodeStatus": (o) => {
    const conditions = obj(o.status)?.conditions;
    const ready =
      Array.isArray(conditions) && conditions.some((c) => isObject(c) && c.type === "Ready" && c.status === "True");
    return ready ? "Ready" : "NotReady";
  },
  "#roles": (o) => {
    const roles = Object.keys(obj(o.metadata.labels) ?? {})
      .filter((k) => k.startsWith("node-role.kubernetes.io/"))
      .map((k) => k.slice("node-role.kubernetes.io/".length));
    return roles.length > 0 ? roles.join(",") : "<none>";
  },
};

function containerStatuses(o: KubeObject): JsonObject[] {
  const s = obj(o.status)?.containerStatuses;
  return Array.isArray(s) ? s.filter(isObject) : [];
}

/** What `kubectl get pods` shows in STATUS: a waiting or terminated reason wins over the phase. */
export function podStatus(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return "Terminating";
  for (const s of containerStatuses(o)) {
    const waiting = obj(obj(s.state)?.waiting);
    if (waiting && str(waiting.reason) && waiting.reason !== "ContainerCreating") return String(waiting.reason);
    const terminated = obj(obj(s.state)?.terminated);
    if (terminated && str(terminated.reason)) return String(terminated.reason);
  }
  const phase = str(obj(o.status)?.phase) ?? "Pending";
  if (phase === "Pending" && containerStatuses(o).length > 0) return "ContainerCreating";
  return phase;
}

function age(o: KubeObject, now: number): string {
  const created = str(o.metadata.creationTimestamp);
  return created ? since(Date.parse(created), now) : "<unknown>";
}

/** kubectl's human durations: 45s, 3m20s, 15m, 5h, 3d. */
export function since(then: number, now: number): string {
  const s = Math.max(0, Math.floor((now - then) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** The JSONPath subset printer columns use: `.a.b`, `.a[0]`, `.a[*]`, `.a[?(@.type=="Ready")].status`. */
export function jsonPath(root: Json, path: string): Json[] {
  let nodes: Json[] = [root];
  const re = /\.([A-Za-z0-9_$-]+)|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*["']([^"']*)["']\)\]/g;
  const expr = path.replace(/^\{|\}$/g, "").replace(/^\$/, "");
  let m: RegExpExecArray | null = re.exec(expr);
  while (m) {
    const [, field, index, filterKey, filterValue] = m;
    const next: Json[] = [];
    for (const n of nodes) {
      if (field !== undefined) {
        if (isObject(n) && n[field] !== undefined) next.push(n[field] as Json);
      } else if (index !== undefined) {
        if (!Array.isArray(n)) continue;
        if (index === "*") next.push(...n);
        else if (n[Number(index)] !== undefined) next.push(n[Number(index)] as Json);
      } else if (filterKey !== undefined && Array.isArray(n)) {
        for (const item of n) {
          let v: Json | undefined = item;
          for (const k of filterKey.split(".")) v = isObject(v) ? v[k] : undefined;
          if (String(v) === filterValue) next.push(item);
        }
      }
    }
    nodes = next;
    m = re.exec(expr);
  }
  return nodes;
}
