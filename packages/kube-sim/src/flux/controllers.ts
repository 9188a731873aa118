// The Flux simulator (test tooling and demo aid): it plays the controllers of a Flux "installed" into the
// simulated cluster. Each controller acts only while its Deployment in flux-system has ready pods, so an
// install is observable (controllers become Ready, then objects reconcile) and an uninstall stops it.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Json, type JsonObject, type KubeObject, obj, str } from "../json.ts";
import type { ResourceType } from "../resources.ts";
import type { ClusterStore, StoredEvent } from "../store.ts";
import { type Condition, now, parseDuration } from "./conditions.ts";
import { reconcileHelmRelease } from "./helm-controller.ts";
import { reconcileKustomization } from "./kustomize-controller.ts";
import { FLUX_NAMESPACE } from "./manifest.ts";
import { forwardEvent } from "./notification-controller.ts";
import { reconcileGitRepository } from "./source-controller.ts";
import type { FluxController } from "./versions.ts";

export const REQUESTED_AT_ANNOTATION = "reconcile.fluxcd.io/requestedAt";
export const FLUX_FINALIZER = "finalizers.fluxcd.io";

export const GIT_REPOSITORY = { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository" } as const;
export const KUSTOMIZATION = { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization" } as const;
export const HELM_RELEASE = { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease" } as const;
const KINDS = { GitRepository: GIT_REPOSITORY, Kustomization: KUSTOMIZATION, HelmRelease: HELM_RELEASE } as const;
type FluxKind = keyof typeof KINDS;

export interface GitCredentials {
  username: string;
  password: string;
}

export interface FluxSimulatorOptions {
  /**
   * Credentials for a GitRepository URL whose object has no `spec.secretRef` (e.g. the demo's local Git
   * server). A secretRef, when set, always wins.
   */
  gitCredentials?: (url: string) => GitCredentials | undefined;
  /**
   * The kustomize to run: a `kustomize` binary (`kustomize build DIR`) or a kubectl (`kubectl kustomize DIR`).
   * Default: the repository's `.tools/kubectl-v35/kubectl`, else `kustomize` or `kubectl` on PATH.
   */
  kustomize?: string;
  /** The helm binary for HelmReleases (`helm template`). Default: `helm` beside the kustomize binary, else on PATH. */
  helm?: string;
  /** Where Git checkouts and artifacts live. Default: a new temporary directory, removed by stop(). */
  workDir?: string;
  /** Pause between the visible steps of a reconciliation (Progressing → built → applied). Default 150 ms. */
  stepDelayMs?: number;
  /** How often health checks look at workloads (Flux polls every 5 s). Default 100 ms. */
  pollMs?: number;
  /** Retry delay when a dependency or a source artifact is not ready yet (Flux: 30 s). Default 500 ms. */
  dependencyRequeueMs?: number;
  /** Reconciliations each controller runs at once (Flux's --concurrent; kustomize-controller's default is 4). */
  concurrency?: number;
}

type Key = string;
const keyOf = (kind: string, ns: string, name: string): Key => `${kind}/${ns}/${name}`;

const repoRoot = fileURLToPath(new URL("../../../..", import.meta.url));

/** The default kustomize: the repository's kubectl v1.35 when fetched, else a `kustomize` or `kubectl` on PATH. */
export function defaultKustomizeBinary(): string {
  const tools = path.join(repoRoot, ".tools", "kubectl-v35", "kubectl");
  if (existsSync(tools)) return tools;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, "kustomize"))) return path.join(dir, "kustomize");
  }
  return "kubectl";
}

/**
 * The controllers of a simulated Flux attached to a ClusterStore: source-controller (GitRepository from real
 * Git), kustomize-controller (Kustomization through the real kustomize, applied with server-side apply),
 * helm-controller (HelmRelease of a chart kept in Git, through the real `helm template`) and
 * notification-controller (events to generic/generic-hmac Providers). See README.md for what is left out.
 */
export class FluxSimulator {
  readonly stepDelayMs: number;
  readonly pollMs: number;
  readonly dependencyRequeueMs: number;
  readonly kustomizeBinary: string;
  private workDirPath: string | undefined;
  private workDirPromise: Promise<string> | undefined;
  private readonly ownWorkDir: boolean;
  private readonly timers = new Map<Key, NodeJS.Timeout>();
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private readonly running = new Map<Key, Promise<void>>();
  private readonly again = new Set<Key>();
  /** Keys waiting for a free worker (each controller runs `concurrency` reconciliations at a time). */
  private readonly waiting = new Set<Key>();
  readonly concurrency: number;
  private readonly unsubscribe: () => void;
  private stopped = false;
  private eventSeq = 0;
  private readonly deliveries = new Set<Promise<void>>();

  constructor(
    readonly store: ClusterStore,
    readonly options: FluxSimulatorOptions = {},
  ) {
    this.stepDelayMs = options.stepDelayMs ?? 150;
    this.pollMs = options.pollMs ?? 100;
    this.dependencyRequeueMs = options.dependencyRequeueMs ?? 500;
    this.concurrency = options.concurrency ?? 4;
    this.kustomizeBinary = options.kustomize ?? defaultKustomizeBinary();
    this.ownWorkDir = !options.workDir;
    this.workDirPath = options.workDir;
    this.unsubscribe = store.subscribe((e) => this.onEvent(e));
    this.enqueueAll("GitRepository");
    this.enqueueAll("Kustomization");
    this.enqueueAll("HelmRelease");
  }

  /** Stops every controller; running reconciliations finish their current step and write nothing more. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.waiting.clear();
    for (const [t, wake] of this.sleepers) {
      clearTimeout(t);
      wake();
    }
    this.sleepers.clear();
    await Promise.allSettled([...this.running.values(), ...this.deliveries]);
    if (this.ownWorkDir && this.workDirPath) await rm(this.workDirPath, { recursive: true, force: true });
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  async workDir(): Promise<string> {
    if (this.workDirPath) return this.workDirPath;
    this.workDirPromise ??= mkdtemp(path.join(os.tmpdir(), "juanie-flux-sim-")).then((d) => {
      this.workDirPath = d;
      return d;
    });
    return this.workDirPromise;
  }

  /** Whether the controller's Deployment in flux-system exists and has a ready pod. */
  controllerReady(name: FluxController): boolean {
    const deployments = this.store.findKind("apps/v1", "Deployment") as ResourceType;
    const d = this.store.tryGet(deployments, FLUX_NAMESPACE, name);
    if (!d || d.metadata.deletionTimestamp) return false;
    return Number(obj(d.status)?.readyReplicas ?? 0) >= 1;
  }

  /** The served type of a Flux kind (undefined until its CRD is established). */
  type(ref: { apiVersion: string; kind: string }): ResourceType | undefined {
    return this.store.findKind(ref.apiVersion, ref.kind);
  }

  /** Resolves after `ms`, or at once when the simulator stops (the caller then checks isStopped). */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.sleepers.delete(t);
        resolve();
      }, ms);
      this.sleepers.set(t, resolve);
    });
  }

  /** Merges `status` into the object's status subresource (as a controller's status patch). */
  patchStatus(type: ResourceType, o: KubeObject, manager: string, status: JsonObject): KubeObject | undefined {
    if (this.stopped) return undefined;
    const ns = str(o.metadata.namespace);
    const name = str(o.metadata.name) as string;
    if (!this.store.tryGet(type, ns, name)) return undefined;
    return this.store.patch(type, ns, name, "merge", { status }, { manager, scope: "status" });
  }

  /** Adds or removes Flux's finalizer (a metadata write, as the controllers do). */
  setFinalizer(type: ResourceType, o: KubeObject, manager: string, present: boolean): KubeObject | undefined {
    const ns = str(o.metadata.namespace);
    const name = str(o.metadata.name) as string;
    const current = this.store.tryGet(type, ns, name);
    if (!current) return undefined;
    const list = (Array.isArray(current.metadata.finalizers) ? current.metadata.finalizers : []).filter(
      (f): f is string => typeof f === "string",
    );
    const has = list.includes(FLUX_FINALIZER);
    if (has === present) return current;
    const next = present ? [...list, FLUX_FINALIZER] : list.filter((f) => f !== FLUX_FINALIZER);
    return this.store.patch(type, ns, name, "merge", { metadata: { finalizers: next } }, { manager });
  }

  /**
   * A core/v1 Event about a Flux object, as the controllers record them, also sent to the
   * notification-controller (Alerts → Providers) when it runs.
   */
  recordEvent(o: KubeObject, controller: FluxController, type: "Normal" | "Warning", reason: string, message: string) {
    if (this.stopped) return;
    const events = this.store.findKind("v1", "Event") as ResourceType;
    const ns = str(o.metadata.namespace) ?? "default";
    const name = `${String(o.metadata.name)}.${(Date.now() * 1000 + (this.eventSeq++ % 1000)).toString(16)}`;
    const ts = now();
    const status = obj(o.status);
    const artifact = obj(status?.artifact);
    const revision = str(status?.lastAttemptedRevision) ?? str(artifact?.revision);
    const group = o.apiVersion.split("/")[0] as string;
    const metadata: Record<string, string> = {};
    if (revision) metadata.revision = revision;
    if (o.kind === "GitRepository" && str(artifact?.digest)) metadata.digest = str(artifact?.digest) as string;
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) annotations[`${group}/${k}`] = v;
    try {
      this.store.create(
        events,
        ns,
        {
          metadata: { name, namespace: ns, ...(revision ? { annotations } : {}) },
          involvedObject: {
            apiVersion: o.apiVersion,
            kind: o.kind,
            name: o.metadata.name as Json,
            namespace: ns,
            uid: o.metadata.uid as Json,
            resourceVersion: o.metadata.resourceVersion as Json,
          },
          reason,
          message,
          type,
          source: { component: controller },
          reportingComponent: controller,
          reportingInstance: `${controller}-sim`,
          firstTimestamp: ts,
          lastTimestamp: ts,
          count: 1,
        },
        { manager: controller },
      );
    } catch {
      // The namespace may be terminating: events are best-effort, as on a real cluster.
    }
    const severity = type === "Warning" ? "error" : "info";
    const delivery = forwardEvent(this, o, controller, severity, reason, message, metadata)
      .catch(() => undefined)
      .finally(() => this.deliveries.delete(delivery));
    this.deliveries.add(delivery);
  }

  /** Runs the object's reconciliation after `delayMs` (replacing any scheduled run). */
  schedule(kind: string, ns: string, name: string, delayMs: number) {
    if (this.stopped) return;
    const key = keyOf(kind, ns, name);
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.run(key);
    }, delayMs);
    this.timers.set(key, t);
  }

  /** Requeues a reconciliation after its interval (`spec.interval`, Flux's default 1m when absent). */
  intervalOf(o: KubeObject, field: "interval" | "retryInterval" = "interval"): number {
    const spec = obj(o.spec);
    return parseDuration(spec?.[field]) ?? parseDuration(spec?.interval) ?? 60_000;
  }

  private run(key: Key) {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.again.add(key);
      return;
    }
    const kind = key.slice(0, key.indexOf("/"));
    const active = [...this.running.keys()].filter((k) => k.startsWith(`${kind}/`)).length;
    if (active >= this.concurrency) {
      this.waiting.add(key);
      return;
    }
    this.waiting.delete(key);
    const p = this.reconcile(key)
      .catch((err: unknown) => {
        if (!this.stopped) process.stderr.write(`flux-sim: ${key}: ${(err as Error).message}\n`);
      })
      .finally(() => {
        this.running.delete(key);
        if (this.again.delete(key)) this.run(key);
        const next = [...this.waiting].find((k) => k.startsWith(`${kind}/`));
        if (next) this.run(next);
      });
    this.running.set(key, p);
  }

  private async reconcile(key: Key) {
    const [kind, ns, name] = key.split("/") as [FluxKind, string, string];
    const controller: FluxController =
      kind === "GitRepository"
        ? "source-controller"
        : kind === "Kustomization"
          ? "kustomize-controller"
          : "helm-controller";
    if (!this.controllerReady(controller)) return;
    const type = this.type(KINDS[kind]);
    const o = type && this.store.tryGet(type, ns, name);
    if (!type || !o) return;
    const next =
      kind === "GitRepository"
        ? await reconcileGitRepository(this, type, o)
        : kind === "Kustomization"
          ? await reconcileKustomization(this, type, o)
          : await reconcileHelmRelease(this, type, o);
    if (next !== undefined) this.schedule(kind, ns, name, next);
  }

  private enqueueAll(kind: FluxKind) {
    const type = this.type(KINDS[kind]);
    if (!type) return;
    for (const o of this.store.list(type, undefined)) {
      this.schedule(kind, str(o.metadata.namespace) ?? "", str(o.metadata.name) as string, 0);
    }
  }

  private onEvent(e: StoredEvent) {
    if (this.stopped) return;
    const o = e.object;
    const prev = e.previous;
    const ns = str(o.metadata.namespace) ?? "";
    const name = str(o.metadata.name) as string;
    if (e.resource === "apps/deployments" && ns === FLUX_NAMESPACE) {
      const wasReady = Number(obj(prev?.status)?.readyReplicas ?? 0) >= 1;
      const isReady = e.type !== "DELETED" && Number(obj(o.status)?.readyReplicas ?? 0) >= 1;
      if (!wasReady && isReady) {
        if (name === "source-controller") this.enqueueAll("GitRepository");
        if (name === "kustomize-controller") this.enqueueAll("Kustomization");
        if (name === "helm-controller") this.enqueueAll("HelmRelease");
      }
      return;
    }
    const isGit = e.resource === "source.toolkit.fluxcd.io/gitrepositories";
    const isKs = e.resource === "kustomize.toolkit.fluxcd.io/kustomizations";
    const isHr = e.resource === "helm.toolkit.fluxcd.io/helmreleases";
    if (!isGit && !isKs && !isHr) return;
    const kind: FluxKind = isGit ? "GitRepository" : isKs ? "Kustomization" : "HelmRelease";
    if (e.type === "DELETED") {
      const t = this.timers.get(keyOf(kind, ns, name));
      if (t) clearTimeout(t);
      this.timers.delete(keyOf(kind, ns, name));
      return;
    }
    if (wantsReconcile(prev, o)) this.schedule(kind, ns, name, 0);
    if (isGit && artifactRevision(prev) !== artifactRevision(o)) this.enqueueKustomizationsOf(ns, name);
    if (isKs && readyChanged(prev, o)) this.enqueueDependents(ns, name);
  }

  private enqueueKustomizationsOf(ns: string, repo: string) {
    for (const kind of ["Kustomization", "HelmRelease"] as const) {
      const type = this.type(KINDS[kind]);
      if (!type) continue;
      for (const k of this.store.list(type, undefined)) {
        const spec = obj(k.spec);
        const ref = kind === "Kustomization" ? obj(spec?.sourceRef) : obj(obj(obj(spec?.chart)?.spec)?.sourceRef);
        const kns = str(k.metadata.namespace) ?? "";
        if (str(ref?.kind) === GIT_REPOSITORY.kind && str(ref?.name) === repo && (str(ref?.namespace) ?? kns) === ns) {
          this.schedule(kind, kns, str(k.metadata.name) as string, 0);
        }
      }
    }
  }

  private enqueueDependents(ns: string, name: string) {
    const type = this.type(KUSTOMIZATION);
    if (!type) return;
    for (const k of this.store.list(type, undefined)) {
      const kns = str(k.metadata.namespace) ?? "";
      const deps = obj(k.spec)?.dependsOn;
      if (!Array.isArray(deps)) continue;
      if (deps.some((d) => str(obj(d)?.name) === name && (str(obj(d)?.namespace) ?? kns) === ns)) {
        this.schedule(KUSTOMIZATION.kind, kns, str(k.metadata.name) as string, 0);
      }
    }
  }
}

function wantsReconcile(prev: KubeObject | undefined, o: KubeObject): boolean {
  if (!prev) return true;
  if (prev.metadata.generation !== o.metadata.generation) return true;
  if (!prev.metadata.deletionTimestamp && o.metadata.deletionTimestamp) return true;
  const req = (x: KubeObject) => str(obj(x.metadata.annotations)?.[REQUESTED_AT_ANNOTATION]);
  return req(prev) !== req(o);
}

const artifactRevision = (o: KubeObject | undefined) => str(obj(obj(o?.status)?.artifact)?.revision);

function readyChanged(prev: KubeObject | undefined, o: KubeObject): boolean {
  const ready = (x: KubeObject | undefined) => {
    const conditions = obj(x?.status)?.conditions;
    const c = Array.isArray(conditions)
      ? (conditions.find((c) => str(obj(c)?.type) === "Ready") as Condition | undefined)
      : undefined;
    return `${c?.status}/${str(obj(x?.status)?.lastAppliedRevision)}`;
  };
  return ready(prev) !== ready(o);
}
