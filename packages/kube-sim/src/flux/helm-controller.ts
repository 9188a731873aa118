// The simulated helm-controller (test tooling): a HelmRelease (helm.toolkit.fluxcd.io/v2) whose chart lives
// in a GitRepository (`spec.chart.spec.sourceRef`) is rendered with the real `helm template`, applied into
// the simulated cluster, recorded as a Helm release Secret, waited for, and reported with the status
// fields, conditions and messages of Flux's helm-controller. No remediation, tests or HelmRepository.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { StatusError } from "../errors.ts";
import { isObject, type Json, type JsonObject, type KubeObject, obj, str } from "../json.ts";
import type { ResourceType } from "../resources.ts";
import { goDuration, parseDuration, readConditions, removeCondition, setCondition } from "./conditions.ts";
import { type FluxSimulator, GIT_REPOSITORY, REQUESTED_AT_ANNOTATION } from "./controllers.ts";
import { checkHealth, type HealthTarget } from "./health.ts";
import { readObjects } from "./kustomize-build.ts";
import { artifactDir } from "./source-controller.ts";

const run = promisify(execFile);
const MANAGER = "helm-controller";
const GROUP = "helm.toolkit.fluxcd.io";

interface ObjectRef extends JsonObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Reconciles one HelmRelease; returns when to run again (ms), or undefined to wait for a change. */
export async function reconcileHelmRelease(
  sim: FluxSimulator,
  type: ResourceType,
  hr: KubeObject,
): Promise<number | undefined> {
  const ns = str(hr.metadata.namespace) as string;
  const name = str(hr.metadata.name) as string;
  const spec = obj(hr.spec) ?? {};
  const storageNs = str(spec.storageNamespace) ?? ns;
  const releaseNs = str(spec.targetNamespace) ?? ns;
  const release = str(spec.releaseName) ?? (str(spec.targetNamespace) ? `${releaseNs}-${name}` : name);
  if (hr.metadata.deletionTimestamp) {
    deleteObjects(sim, lastReleaseObjects(sim, storageNs, release), []);
    for (const s of releaseSecrets(sim, storageNs, release)) {
      sim.store.delete(sim.store.findKind("v1", "Secret") as ResourceType, storageNs, str(s.metadata.name) as string);
    }
    sim.setFinalizer(type, hr, MANAGER, false);
    return undefined;
  }
  if (spec.suspend === true) return undefined;
  const current = sim.setFinalizer(type, hr, MANAGER, true) ?? hr;
  const generation = Number(current.metadata.generation ?? 1);
  const requestedAt = str(obj(current.metadata.annotations)?.[REQUESTED_AT_ANNOTATION]);
  const handled: JsonObject = requestedAt ? { lastHandledReconcileAt: requestedAt } : {};
  const status = obj(current.status) ?? {};
  const history = Array.isArray(status.history) ? status.history.filter(isObject) : [];
  const latest = history[0];
  const action = latest ? "upgrade" : "install";
  const timeoutMs = parseDuration(spec.timeout) ?? 300_000;

  const patch = (s: JsonObject) => {
    const o = sim.store.tryGet(type, ns, name);
    return o ? sim.patchStatus(type, o, MANAGER, s) : undefined;
  };
  const fail = (reason: string, message: string, extra: JsonObject = {}) => {
    const o = sim.store.tryGet(type, ns, name);
    if (!o) return;
    let c = removeCondition(readConditions(o.status), "Reconciling");
    c = setCondition(c, "Ready", "False", reason, message, generation);
    const updated = sim.patchStatus(type, o, MANAGER, {
      conditions: c,
      observedGeneration: generation,
      ...handled,
      ...extra,
    });
    if (updated) sim.recordEvent(updated, MANAGER, "Warning", reason, message);
  };

  const chartSpec = obj(obj(spec.chart)?.spec);
  const sourceRef = obj(chartSpec?.sourceRef) ?? {};
  if (!chartSpec || (str(sourceRef.kind) ?? "") !== GIT_REPOSITORY.kind) {
    fail(
      "ArtifactFailed",
      "the Juanie Flux simulator (test tooling) only renders charts from a GitRepository (spec.chart.spec.sourceRef.kind: GitRepository)",
    );
    return undefined;
  }
  const sourceNs = str(sourceRef.namespace) ?? ns;
  const sourceName = str(sourceRef.name) ?? "";
  const gitType = sim.type(GIT_REPOSITORY);
  const source = gitType ? sim.store.tryGet(gitType, sourceNs, sourceName) : undefined;
  const revision = str(obj(obj(source?.status)?.artifact)?.revision);
  if (!revision) {
    fail(
      "ArtifactFailed",
      `HelmChart '${sourceNs}/${ns}-${name}' is not ready: GitRepository '${sourceNs}/${sourceName}' has no artifact`,
    );
    return sim.dependencyRequeueMs;
  }
  const sha = revision.slice(revision.lastIndexOf(":") + 1);
  const root = artifactDir(await sim.workDir(), sourceNs, sourceName, sha);
  const chartDir = path.resolve(root, str(chartSpec.chart) ?? ".");
  const chartFile = path.join(chartDir, "Chart.yaml");
  if (!chartDir.startsWith(root) || !existsSync(chartFile)) {
    fail("ArtifactFailed", `chart '${str(chartSpec.chart)}' not found in GitRepository '${sourceNs}/${sourceName}'`);
    return sim.intervalOf(current);
  }
  const chart = (parse(await readFile(chartFile, "utf8")) ?? {}) as Record<string, unknown>;
  const chartName = String(chart.name ?? path.basename(chartDir));
  const chartVersion =
    String(chart.version ?? "0.0.0") + (str(chartSpec.reconcileStrategy) === "Revision" ? `+${sha.slice(0, 12)}` : "");
  const values = mergeValues(sim, ns, spec);
  const configDigest = `sha256:${createHash("sha256").update(JSON.stringify(values)).digest("hex")}`;
  const upToDate =
    latest?.status === "deployed" && latest.chartVersion === chartVersion && latest.configDigest === configDigest;
  if (upToDate && status.observedGeneration === generation) {
    patch({ ...handled });
    return sim.intervalOf(current);
  }

  const progress = `Running '${action}' action with timeout of ${goDuration(timeoutMs)}`;
  let c = setCondition(readConditions(current.status), "Reconciling", "True", "Progressing", progress, generation);
  c = setCondition(c, "Ready", "Unknown", "Progressing", progress, generation);
  patch({
    conditions: c,
    lastAttemptedGeneration: generation,
    lastAttemptedRevision: chartVersion,
    lastAttemptedConfigDigest: configDigest,
    lastAttemptedReleaseAction: action,
    helmChart: `${sourceNs}/${ns}-${name}`,
    storageNamespace: storageNs,
  });
  await sim.sleep(sim.stepDelayMs);
  if (sim.isStopped) return undefined;

  const versionNo = Number(status.lastReleaseRevision ?? 0) + 1;
  const releaseId = `${releaseNs}/${release}.v${versionNo}`;
  const chartId = `${chartName}@${chartVersion}`;
  const failReason = action === "install" ? "InstallFailed" : "UpgradeFailed";
  const failMessage = (err: string) =>
    `Helm ${action} failed for release ${releaseNs}/${release} with chart ${chartId}: ${err}`;
  const started = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  let manifest = "";
  let applied: ObjectRef[] = [];
  try {
    manifest = await template(sim, release, releaseNs, chartDir, values);
    applied = applyRelease(sim, readObjects(manifest), { release, releaseNs, hrName: name, hrNs: ns });
    deleteObjects(sim, lastReleaseObjects(sim, storageNs, release), applied);
  } catch (err) {
    recordRelease(sim, storageNs, release, versionNo, "failed", applied);
    const snapshot = snapshotOf(
      release,
      releaseNs,
      versionNo,
      "failed",
      chartName,
      chartVersion,
      chart,
      configDigest,
      manifest,
      started,
    );
    fail(failReason, failMessage((err as Error).message), {
      history: [snapshot, ...history].slice(0, 5),
      lastReleaseRevision: versionNo,
    });
    return sim.intervalOf(current, "retryInterval");
  }
  const wait = obj(spec[action])?.disableWait !== true;
  const targets: HealthTarget[] = applied.map((a) => ({ ...a }));
  const healthError = wait ? await checkHealth(sim, targets, timeoutMs) : undefined;
  if (sim.isStopped) return undefined;
  const ok = healthError === undefined;
  recordRelease(sim, storageNs, release, versionNo, ok ? "deployed" : "failed", applied);
  const snapshot = snapshotOf(
    release,
    releaseNs,
    versionNo,
    ok ? "deployed" : "failed",
    chartName,
    chartVersion,
    chart,
    configDigest,
    manifest,
    started,
  );
  const base = { history: [snapshot, ...history].slice(0, 5), lastReleaseRevision: versionNo };
  if (!ok) {
    const message = typeof healthError === "string" ? healthError : healthError.canceled;
    const o = sim.store.tryGet(type, ns, name);
    if (o) {
      const rc = setCondition(
        readConditions(o.status),
        "Released",
        "False",
        failReason,
        failMessage(message),
        generation,
      );
      sim.patchStatus(type, o, MANAGER, { conditions: rc });
    }
    fail(failReason, failMessage(message), base);
    return sim.intervalOf(current, "retryInterval");
  }
  const reason = action === "install" ? "InstallSucceeded" : "UpgradeSucceeded";
  const message = `Helm ${action} succeeded for release ${releaseId} with chart ${chartId}`;
  const o = sim.store.tryGet(type, ns, name);
  if (!o) return undefined;
  let done = removeCondition(readConditions(o.status), "Reconciling");
  done = setCondition(done, "Released", "True", reason, message, generation);
  done = setCondition(done, "Ready", "True", reason, message, generation);
  const updated = sim.patchStatus(type, o, MANAGER, {
    ...base,
    conditions: done,
    observedGeneration: generation,
    ...handled,
  });
  if (updated) sim.recordEvent(updated, MANAGER, "Normal", reason, message);
  return sim.intervalOf(current);
}

/** `spec.valuesFrom` (ConfigMap/Secret, key `values.yaml` by default) then `spec.values`, merged deeply. */
function mergeValues(sim: FluxSimulator, ns: string, spec: JsonObject): JsonObject {
  let out: JsonObject = {};
  const from = Array.isArray(spec.valuesFrom) ? spec.valuesFrom.filter(isObject) : [];
  for (const ref of from) {
    const kind = str(ref.kind) === "Secret" ? "Secret" : "ConfigMap";
    const o = sim.store.tryGet(sim.store.findKind("v1", kind) as ResourceType, ns, str(ref.name) ?? "");
    const key = str(ref.valuesKey) ?? "values.yaml";
    const raw = str(obj(o?.data)?.[key]);
    const text =
      raw === undefined
        ? str(obj(o?.stringData)?.[key])
        : kind === "Secret"
          ? Buffer.from(raw, "base64").toString("utf8")
          : raw;
    const parsed = text ? (parse(text) as Json) : undefined;
    if (isObject(parsed)) out = deepMerge(out, parsed);
  }
  return deepMerge(out, obj(spec.values) ?? {});
}

function deepMerge(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isObject(prev) && isObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

/** The helm binary next to the default kubectl (the tools layer ships both), else `helm` on PATH. */
function helmBinary(sim: FluxSimulator): string {
  if (sim.options.helm) return sim.options.helm;
  const beside = path.join(path.dirname(sim.kustomizeBinary), "helm");
  return existsSync(beside) ? beside : "helm";
}

async function template(sim: FluxSimulator, release: string, ns: string, chartDir: string, values: JsonObject) {
  const tmp = await mkdtemp(path.join(await sim.workDir(), "helm-"));
  try {
    const valuesFile = path.join(tmp, "values.yaml");
    await writeFile(valuesFile, stringify(values), { mode: 0o600 });
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: tmp,
      HELM_CACHE_HOME: tmp,
      HELM_CONFIG_HOME: tmp,
      HELM_DATA_HOME: tmp,
    };
    try {
      const { stdout } = await run(
        helmBinary(sim),
        ["template", release, chartDir, "--namespace", ns, "--include-crds", "--values", valuesFile],
        { env, maxBuffer: 64 * 1024 * 1024 },
      );
      return stdout;
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message);
      throw new Error(
        stderr
          .replace(/^Error: /, "")
          .trim()
          .split("\n")
          .join("; ")
          .replaceAll(`${chartDir}/`, ""),
      );
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function applyRelease(
  sim: FluxSimulator,
  objects: KubeObject[],
  r: { release: string; releaseNs: string; hrName: string; hrNs: string },
): ObjectRef[] {
  const out: ObjectRef[] = [];
  for (const o of objects) {
    const type = sim.store.findKind(o.apiVersion, o.kind);
    const name = str(o.metadata.name) as string;
    if (!type)
      throw new Error(
        `resource mapping not found for name: "${name}" kind: "${o.kind}" from "": no matches for kind "${o.kind}" in version "${o.apiVersion}"`,
      );
    const ns = type.namespaced ? (str(o.metadata.namespace) ?? r.releaseNs) : undefined;
    const body: KubeObject = {
      ...o,
      metadata: {
        ...o.metadata,
        ...(ns ? { namespace: ns } : {}),
        labels: {
          ...(obj(o.metadata.labels) ?? {}),
          "app.kubernetes.io/managed-by": "Helm",
          [`${GROUP}/name`]: r.hrName,
          [`${GROUP}/namespace`]: r.hrNs,
        },
        annotations: {
          ...(obj(o.metadata.annotations) ?? {}),
          "meta.helm.sh/release-name": r.release,
          "meta.helm.sh/release-namespace": r.releaseNs,
        },
      },
    };
    try {
      sim.store.patch(type, ns, name, "apply", body, { manager: MANAGER, force: true });
    } catch (err) {
      if (err instanceof StatusError) throw new Error(`${o.kind} "${name}": ${err.message}`);
      throw err;
    }
    out.push({ apiVersion: o.apiVersion, kind: o.kind, namespace: ns ?? "", name });
  }
  return out;
}

function releaseSecrets(sim: FluxSimulator, storageNs: string, release: string): KubeObject[] {
  const secrets = sim.store.findKind("v1", "Secret") as ResourceType;
  return sim.store
    .list(secrets, storageNs)
    .filter((s) => s.type === "helm.sh/release.v1" && obj(s.metadata.labels)?.name === release)
    .sort((a, b) => Number(obj(b.metadata.labels)?.version) - Number(obj(a.metadata.labels)?.version));
}

function lastReleaseObjects(sim: FluxSimulator, storageNs: string, release: string): ObjectRef[] {
  const latest = releaseSecrets(sim, storageNs, release)[0];
  const raw = str(obj(latest?.data)?.release);
  if (!raw) return [];
  const parsed = JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as { objects?: ObjectRef[] };
  return parsed.objects ?? [];
}

/** Helm's release record (a Secret `sh.helm.release.v1.<release>.v<N>`); its payload is the simulator's own. */
function recordRelease(
  sim: FluxSimulator,
  storageNs: string,
  release: string,
  version: number,
  status: string,
  objects: ObjectRef[],
) {
  const secrets = sim.store.findKind("v1", "Secret") as ResourceType;
  for (const s of releaseSecrets(sim, storageNs, release)) {
    if (obj(s.metadata.labels)?.status === "deployed") {
      sim.store.patch(
        secrets,
        storageNs,
        str(s.metadata.name) as string,
        "merge",
        { metadata: { labels: { status: "superseded" } } },
        { manager: MANAGER },
      );
    }
  }
  const payload = Buffer.from(JSON.stringify({ name: release, version, status, objects, simulated: true })).toString(
    "base64",
  );
  sim.store.patch(
    secrets,
    storageNs,
    `sh.helm.release.v1.${release}.v${version}`,
    "apply",
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: `sh.helm.release.v1.${release}.v${version}`,
        namespace: storageNs,
        labels: { name: release, owner: "helm", status, version: String(version) },
      },
      type: "helm.sh/release.v1",
      data: { release: payload },
    },
    { manager: MANAGER, force: true },
  );
}

function deleteObjects(sim: FluxSimulator, previous: ObjectRef[], keep: ObjectRef[]) {
  const key = (r: ObjectRef) => `${r.apiVersion}/${r.kind}/${r.namespace}/${r.name}`;
  const kept = new Set(keep.map(key));
  for (const r of previous) {
    if (kept.has(key(r))) continue;
    const type = sim.store.findKind(r.apiVersion, r.kind);
    if (!type || !sim.store.tryGet(type, r.namespace || undefined, r.name)) continue;
    sim.store.delete(type, r.namespace || undefined, r.name, { propagationPolicy: "Background" });
  }
}

function snapshotOf(
  release: string,
  ns: string,
  version: number,
  status: string,
  chartName: string,
  chartVersion: string,
  chart: Record<string, unknown>,
  configDigest: string,
  manifest: string,
  firstDeployed: string,
): JsonObject {
  return {
    digest: `sha256:${createHash("sha256").update(`${release}/${version}/${manifest}`).digest("hex")}`,
    name: release,
    namespace: ns,
    version,
    status,
    chartName,
    chartVersion,
    ...(typeof chart.appVersion === "string" ? { appVersion: chart.appVersion } : {}),
    configDigest,
    firstDeployed,
    lastDeployed: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
}
