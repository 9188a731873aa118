import type { EnvVar, ImagePullPolicy, Probe } from "@juanie/manifests/deploy-spec";

/**
 * The deploy form's model. The form is prefilled with what the environment runs; the request
 * carries only what the user changed, so an untouched field never overwrites a concurrent edit
 * made in Git (and an untouched form is refused before it reaches the server).
 */

const pullPolicies: readonly ImagePullPolicy[] = ["Always", "IfNotPresent", "Never"];

export interface ResourceForm {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface ContainerValues {
  image: string;
  imagePullPolicy: ImagePullPolicy | "";
  env: EnvVar[];
  /** Entries set from secrets or config maps: kept by every edit, shown for information. */
  valueFromEnv: string[];
  resources: ResourceForm;
  livenessProbe: Probe | null;
  readinessProbe: Probe | null;
}

export const workloadKinds = ["Deployment", "StatefulSet", "DaemonSet"] as const;
export type WorkloadKind = (typeof workloadKinds)[number];

export interface WorkloadOption {
  kind: WorkloadKind;
  name: string;
  containers: string[];
}

/** What `deployments.deployableValues` says the environment runs: one container of one workload. */
export interface DeployableValues {
  kind: WorkloadKind | null;
  workloadName: string | null;
  /** Every workload (Deployment, StatefulSet, DaemonSet) of the environment; the values describe `workloadName`. */
  workloads: WorkloadOption[];
  containerName: string | null;
  /** The workload's containers; the values describe `containerName`. */
  containers: string[];
  /** Null for a DaemonSet (one pod per node). */
  replicas: number | null;
  container: ContainerValues;
}

export const probeTypes = ["none", "http", "tcp", "exec"] as const;
export type ProbeType = (typeof probeTypes)[number];

export interface ProbeForm {
  type: ProbeType;
  path: string;
  port: string;
  /** exec probes: one argument per line. */
  command: string;
  initialDelaySeconds: string;
  periodSeconds: string;
  /** Timing the form does not show, carried over as the manifest has it. */
  timeoutSeconds: number | undefined;
  failureThreshold: number | undefined;
}

export interface EnvRow {
  /** Stable identity for the list rendering; not sent. */
  id: number;
  name: string;
  value: string;
}

export interface DeployForm {
  image: string;
  imagePullPolicy: ImagePullPolicy | "";
  replicas: string;
  env: EnvRow[];
  resources: ResourceForm;
  livenessProbe: ProbeForm;
  readinessProbe: ProbeForm;
}

export const probeKinds = ["livenessProbe", "readinessProbe"] as const;
export type ProbeKind = (typeof probeKinds)[number];
export const resourceGroups = ["requests", "limits"] as const;
export const resourceNames = ["cpu", "memory"] as const;
const probeTimings = ["initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold"] as const;

// ---------------------------------------------------------------------------
// Reading the server's values (a loose record: read what is there, ignore the rest)
// ---------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function readEnv(value: unknown): EnvVar[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry) =>
    isRecord(entry) && typeof entry.name === "string" && entry.valueFrom == null
      ? [{ name: entry.name, value: text(entry.value) }]
      : [],
  );
}

function readResources(value: unknown): ResourceForm {
  const resources: ResourceForm = { requests: { cpu: "", memory: "" }, limits: { cpu: "", memory: "" } };
  if (!isRecord(value)) return resources;
  for (const group of resourceGroups) {
    const amounts = value[group];
    if (!isRecord(amounts)) continue;
    for (const name of resourceNames) resources[group][name] = text(amounts[name]);
  }
  return resources;
}

/** A probe in the deploy spec's terms, or as a container spec writes it (httpGet, tcpSocket, exec). */
export function readProbe(value: unknown): Probe | null {
  if (!isRecord(value)) return null;
  const timing: {
    initialDelaySeconds?: number;
    periodSeconds?: number;
    timeoutSeconds?: number;
    failureThreshold?: number;
  } = {};
  for (const key of probeTimings) {
    const seconds = optionalNumber(value[key]);
    if (seconds !== undefined) timing[key] = seconds;
  }
  const port = (v: unknown): number | string => (typeof v === "number" ? v : text(v));
  if (value.type === "http") return { type: "http", path: text(value.path) || "/", port: port(value.port), ...timing };
  if (value.type === "tcp") return { type: "tcp", port: port(value.port), ...timing };
  if (value.type === "exec" && Array.isArray(value.command)) {
    return { type: "exec", command: value.command.map(text), ...timing };
  }
  if (isRecord(value.httpGet)) {
    return { type: "http", path: text(value.httpGet.path) || "/", port: port(value.httpGet.port), ...timing };
  }
  if (isRecord(value.tcpSocket)) return { type: "tcp", port: port(value.tcpSocket.port), ...timing };
  if (isRecord(value.exec) && Array.isArray(value.exec.command)) {
    return { type: "exec", command: value.exec.command.map(text), ...timing };
  }
  return null;
}

function names(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((n): n is string => typeof n === "string") : [];
}

function workloadOptions(value: unknown): WorkloadOption[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((w) => {
    if (!w || typeof w !== "object") return [];
    const { kind, name, containers } = w as Record<string, unknown>;
    const k = workloadKinds.find((x) => x === kind);
    return k && typeof name === "string" ? [{ kind: k, name, containers: names(containers) }] : [];
  });
}

/** The server's `values`: the workload and container it describes, their fields at the top level. */
export function readDeployableValues(values: Record<string, unknown>): DeployableValues {
  const policy = pullPolicies.find((p) => p === values.imagePullPolicy);
  return {
    kind: workloadKinds.find((k) => k === values.kind) ?? null,
    workloadName: text(values.workload) || null,
    workloads: workloadOptions(values.workloads),
    containerName: text(values.container) || null,
    containers: names(values.containers),
    replicas: optionalNumber(values.replicas) ?? null,
    container: {
      image: text(values.image),
      imagePullPolicy: policy ?? "",
      env: readEnv(values.env),
      valueFromEnv: names(values.valueFromEnv),
      resources: readResources(values.resources),
      livenessProbe: readProbe(values.livenessProbe),
      readinessProbe: readProbe(values.readinessProbe),
    },
  };
}

// ---------------------------------------------------------------------------
// Form state
// ---------------------------------------------------------------------------

let nextRowId = 1;

export function envRow(name = "", value = ""): EnvRow {
  return { id: nextRowId++, name, value };
}

export function probeForm(probe: Probe | null): ProbeForm {
  const form: ProbeForm = {
    type: probe?.type ?? "none",
    path: probe?.type === "http" ? probe.path : "/",
    port: probe && probe.type !== "exec" ? String(probe.port) : "",
    command: probe?.type === "exec" ? probe.command.join("\n") : "",
    initialDelaySeconds: probe?.initialDelaySeconds !== undefined ? String(probe.initialDelaySeconds) : "",
    periodSeconds: probe?.periodSeconds !== undefined ? String(probe.periodSeconds) : "",
    timeoutSeconds: probe?.timeoutSeconds,
    failureThreshold: probe?.failureThreshold,
  };
  return form;
}

export function formFromValues(values: DeployableValues): DeployForm {
  const container = values.container;
  return {
    image: container.image,
    imagePullPolicy: container.imagePullPolicy,
    replicas: values.replicas === null ? "" : String(values.replicas),
    env: container.env.map((e) => envRow(e.name, e.value)),
    resources: {
      requests: { ...container.resources.requests },
      limits: { ...container.resources.limits },
    },
    livenessProbe: probeForm(container.livenessProbe),
    readinessProbe: probeForm(container.readinessProbe),
  };
}

export function cloneForm(form: DeployForm): DeployForm {
  return {
    ...form,
    env: form.env.map((row) => ({ ...row })),
    resources: { requests: { ...form.resources.requests }, limits: { ...form.resources.limits } },
    livenessProbe: { ...form.livenessProbe },
    readinessProbe: { ...form.readinessProbe },
  };
}

// ---------------------------------------------------------------------------
// The request: only what changed
// ---------------------------------------------------------------------------

/** Numbers typed into text fields; anything else is sent as typed, so the schema names the rule. */
function numberOrText(value: string): number | string {
  const trimmed = value.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function probeDraft(probe: ProbeForm): Record<string, unknown> | null {
  if (probe.type === "none") return null;
  const timing: Record<string, unknown> = {};
  if (probe.initialDelaySeconds.trim() !== "") timing.initialDelaySeconds = numberOrText(probe.initialDelaySeconds);
  if (probe.periodSeconds.trim() !== "") timing.periodSeconds = numberOrText(probe.periodSeconds);
  if (probe.timeoutSeconds !== undefined) timing.timeoutSeconds = probe.timeoutSeconds;
  if (probe.failureThreshold !== undefined) timing.failureThreshold = probe.failureThreshold;
  if (probe.type === "http")
    return { type: "http", path: probe.path.trim(), port: numberOrText(probe.port), ...timing };
  if (probe.type === "tcp") return { type: "tcp", port: numberOrText(probe.port), ...timing };
  const command = probe.command
    .split("\n")
    .map((arg) => arg.trim())
    .filter((arg) => arg !== "");
  return { type: "exec", command, ...timing };
}

/** Rows with neither name nor value are blank lines of the form, not entries. */
function envEntries(rows: EnvRow[]): { entries: EnvVar[]; rowIndex: number[] } {
  const entries: EnvVar[] = [];
  const rowIndex: number[] = [];
  rows.forEach((row, index) => {
    if (row.name.trim() === "" && row.value === "") return;
    entries.push({ name: row.name.trim(), value: row.value });
    rowIndex.push(index);
  });
  return { entries, rowIndex };
}

export const changeFields = [
  "image",
  "imagePullPolicy",
  "replicas",
  "env",
  "resources",
  "livenessProbe",
  "readinessProbe",
] as const;
export type ChangeField = (typeof changeFields)[number];

export interface SpecDraft {
  /** Unvalidated: the deploy spec schema checks it before it is sent. */
  spec: Record<string, unknown>;
  changed: ChangeField[];
  /** `spec.env.N` is the form's row `envRows[N]` (blank rows are not sent). */
  envRows: number[];
}

export interface SpecTarget {
  kind: WorkloadKind | null;
  workload: string | null;
  container: string | null;
}

/**
 * Names the workload and container the values describe, so that the request edits exactly what the form
 * showed (also when a later push adds a second container).
 */
export function specTarget(values: DeployableValues): SpecTarget {
  return { kind: values.kind, workload: values.workloadName, container: values.containerName };
}

export function buildSpec(initial: DeployForm, current: DeployForm, target: SpecTarget): SpecDraft {
  const spec: Record<string, unknown> = {};
  const changed: ChangeField[] = [];
  if (current.image.trim() !== initial.image.trim()) {
    spec.image = current.image.trim();
    changed.push("image");
  }
  if (current.imagePullPolicy !== initial.imagePullPolicy && current.imagePullPolicy !== "") {
    spec.imagePullPolicy = current.imagePullPolicy;
    changed.push("imagePullPolicy");
  }
  if (current.replicas.trim() !== initial.replicas.trim()) {
    spec.replicas = numberOrText(current.replicas);
    changed.push("replicas");
  }
  const before = envEntries(initial.env);
  const after = envEntries(current.env);
  if (JSON.stringify(before.entries) !== JSON.stringify(after.entries)) {
    spec.env = after.entries;
    changed.push("env");
  }
  const resources: Record<string, Record<string, string>> = {};
  for (const group of resourceGroups) {
    for (const name of resourceNames) {
      const value = current.resources[group][name].trim();
      if (value === initial.resources[group][name].trim()) continue;
      resources[group] = { ...resources[group], [name]: value };
    }
  }
  if (Object.keys(resources).length > 0) {
    spec.resources = resources;
    changed.push("resources");
  }
  for (const kind of probeKinds) {
    const probe = probeDraft(current[kind]);
    if (JSON.stringify(probe) === JSON.stringify(probeDraft(initial[kind]))) continue;
    spec[kind] = probe;
    changed.push(kind);
  }
  if (changed.length > 0) {
    if (target.kind) spec.kind = target.kind;
    if (target.workload) spec.workload = target.workload;
    if (target.container) spec.container = target.container;
  }
  return { spec, changed, envRows: after.rowIndex };
}

/** `["env", 2, "name"]` → `spec.env.2.name`, the way the server names the field. */
export function specField(path: readonly PropertyKey[]): string {
  return ["spec", ...path.map(String)].join(".");
}

/** Every field error the form can show under an input (the rest go to the dialog's alert). */
export function shownSpecFields(envRows: number[]): string[] {
  const fields = ["spec.image", "spec.imagePullPolicy", "spec.replicas", "spec.env"];
  for (let i = 0; i < envRows.length; i++) fields.push(`spec.env.${i}.name`, `spec.env.${i}.value`);
  for (const group of resourceGroups) for (const name of resourceNames) fields.push(`spec.resources.${group}.${name}`);
  for (const kind of probeKinds) {
    for (const part of ["", ".type", ".path", ".port", ".command", ".initialDelaySeconds", ".periodSeconds"]) {
      fields.push(`spec.${kind}${part}`);
    }
  }
  return fields;
}

// ---------------------------------------------------------------------------
// Commit message: generated first line, the user's text below it
// ---------------------------------------------------------------------------

/** What the user added to the generated message; the whole text when they rewrote it. */
export function commitMessageExtra(textValue: string, generated: string): string | undefined {
  const current = textValue.trim();
  const base = generated.trim();
  if (current === "" || current === base) return undefined;
  if (base !== "" && current.startsWith(base)) return current.slice(base.length).trim() || undefined;
  return current;
}

/** Keeps the user's addition when the generated message changes with the form. */
export function rebaseCommitMessage(textValue: string, previous: string, next: string): string {
  if (textValue.trim() === "" || textValue === previous) return next;
  if (previous !== "" && textValue.startsWith(previous)) return next + textValue.slice(previous.length);
  return textValue;
}

// ---------------------------------------------------------------------------
// Display helpers
// ---------------------------------------------------------------------------

/** A changed value for the field tables: strings as written, everything else as compact JSON. */
export function displayValue(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (typeof value === "string") return value === "" ? '""' : value;
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------
// The last workload and container chosen, per environment (this browser)
// ---------------------------------------------------------------------------

const choiceKey = (environmentId: string) => `juanie.deploy.target.${environmentId}`;

export interface StoredChoice {
  kind: WorkloadKind;
  workload: string;
  container: string;
}

export function loadChoice(
  environmentId: string,
  storage: Pick<Storage, "getItem"> | null = safeStorage(),
): StoredChoice | null {
  try {
    const raw = storage?.getItem(choiceKey(environmentId));
    if (!raw) return null;
    const v = JSON.parse(raw) as Record<string, unknown>;
    const kind = workloadKinds.find((k) => k === v.kind);
    if (!kind || typeof v.workload !== "string" || typeof v.container !== "string") return null;
    return { kind, workload: v.workload, container: v.container };
  } catch {
    return null;
  }
}

export function saveChoice(
  environmentId: string,
  choice: StoredChoice,
  storage: Pick<Storage, "setItem"> | null = safeStorage(),
): void {
  try {
    storage?.setItem(choiceKey(environmentId), JSON.stringify(choice));
  } catch {
    // private mode or full storage: the choice is simply not remembered
  }
}

function safeStorage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}
