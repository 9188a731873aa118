import { createHash } from "node:crypto";
import { StatusError } from "./errors.ts";
import { clone, isObject, type Json, type JsonObject, type KubeObject, obj, str } from "./json.ts";
import type { ResourceType } from "./resources.ts";
import type { LogSource } from "./server.ts";
import { type ClusterStore, type StoredEvent, timestamp } from "./store.ts";

export type PodFailure = "ImagePullBackOff" | "ErrImagePull" | "CrashLoopBackOff";

/** Pod template annotation that makes its containers fail the given way (`ImagePullBackOff`, `CrashLoopBackOff`). */
export const FAILURE_ANNOTATION = "kube-sim.juanie.dev/failure";
/** Pod template annotation whose lines (newline-separated) every container prints when it starts. */
export const LOG_ANNOTATION = "kube-sim.juanie.dev/log";

export interface WorkloadOptions {
  /** From a pod's creation to its containers running and Ready. Default 200 ms. */
  podStartMs?: number;
  /** From a pod's deletion to its removal (it shows Terminating meanwhile). Default 100 ms. */
  podStopMs?: number;
  /** How often a crash-looping container restarts (restartCount grows). Default 2 s. */
  restartIntervalMs?: number;
  /** Images that fail: a substring or pattern of the image reference, and how. */
  failures?: { image: string | RegExp; reason: PodFailure }[];
}

const MANAGER = "kube-controller-manager";
const KUBELET = "kubelet";

/**
 * A minimal kube-controller-manager + kubelet: Deployments get pods (labelled with a template hash, owned
 * by the Deployment), pods go Pending → Running and Ready after a moment — or fail with ImagePullBackOff or
 * CrashLoopBackOff when their image or template says so — and the Deployment's status counts them the way
 * the real controller does (observedGeneration, replicas, updated/ready/available, Available and
 * Progressing conditions, ProgressDeadlineExceeded). Images containing "does-not-exist" cannot be pulled.
 */
export class WorkloadController implements LogSource {
  private readonly pending = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly logs = new Map<string, Map<string, string[]>>();
  private readonly followers = new Map<string, Set<(line: string) => void>>();
  private readonly rollouts = new Map<string, { hash: string; since: number }>();
  private readonly failures: { image: string | RegExp; reason: PodFailure }[];
  private readonly unsubscribe: () => void;
  private flushScheduled = false;
  /** Event names end in a hex timestamp, like the real ones, so a list is in the order they happened. */
  private eventSeq = 0;
  private stopped = false;
  private readonly deployments: ResourceType;
  private readonly pods: ResourceType;
  private readonly events: ResourceType;

  constructor(
    private readonly store: ClusterStore,
    private readonly opts: WorkloadOptions,
  ) {
    this.failures = [...(opts.failures ?? []), { image: "does-not-exist", reason: "ImagePullBackOff" }];
    this.deployments = store.findKind("apps/v1", "Deployment") as ResourceType;
    this.pods = store.findKind("v1", "Pod") as ResourceType;
    this.events = store.findKind("v1", "Event") as ResourceType;
    this.unsubscribe = store.subscribe((e) => this.onEvent(e));
  }

  /** Makes containers with this image fail from now on (pods created later). */
  setImageFailure(image: string | RegExp, reason: PodFailure) {
    this.failures.unshift({ image, reason });
  }

  stop() {
    this.stopped = true;
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  // ---- LogSource ----

  read(pod: KubeObject, container: string | undefined): string[] {
    const name = this.containerOf(pod, container);
    const status = containerStatuses(pod).find((s) => s.name === name);
    const waiting = obj(obj(status?.state)?.waiting);
    const reason = str(waiting?.reason) ?? "ContainerCreating";
    const lines = this.logs.get(String(pod.metadata.uid))?.get(name);
    if (!lines || reason === "ImagePullBackOff" || reason === "ErrImagePull") {
      const why =
        reason === "ImagePullBackOff" || reason === "ErrImagePull" ? "trying and failing to pull image" : reason;
      throw new StatusError(
        400,
        "BadRequest",
        `container "${name}" in pod "${String(pod.metadata.name)}" is waiting to start: ${why}`,
      );
    }
    return [...lines];
  }

  follow(pod: KubeObject, container: string | undefined, onLine: (line: string) => void): () => void {
    const key = `${String(pod.metadata.uid)}/${this.containerOf(pod, container)}`;
    const set = this.followers.get(key) ?? new Set();
    set.add(onLine);
    this.followers.set(key, set);
    return () => set.delete(onLine);
  }

  private containerOf(pod: KubeObject, container: string | undefined): string {
    const names = containers(pod).map((c) => String(c.name));
    if (container === undefined) {
      if (names.length === 1) return names[0] as string;
      throw new StatusError(
        400,
        "BadRequest",
        `a container name must be specified for pod ${String(pod.metadata.name)}, choose one of: [${names.join(" ")}]`,
      );
    }
    if (!names.includes(container)) {
      throw new StatusError(
        400,
        "BadRequest",
        `container ${container} is not valid for pod ${String(pod.metadata.name)}`,
      );
    }
    return container;
  }

  private appendLog(pod: KubeObject, container: string, line: string) {
    const uid = String(pod.metadata.uid);
    const byContainer = this.logs.get(uid) ?? new Map<string, string[]>();
    this.logs.set(uid, byContainer);
    byContainer.set(container, [...(byContainer.get(container) ?? []), line]);
    for (const f of this.followers.get(`${uid}/${container}`) ?? []) f(line);
  }

  // ---- reconciliation ----

  private onEvent(e: StoredEvent) {
    if (this.stopped) return;
    const meta = e.object.metadata;
    if (e.resource === "apps/deployments" && e.type !== "DELETED") {
      this.enqueue(`${String(meta.namespace)}/${String(meta.name)}`);
    } else if (e.resource === "/pods") {
      if (e.type === "DELETED") this.logs.delete(String(meta.uid));
      if (e.type === "ADDED") this.startPod(e.object);
      if (e.type === "MODIFIED" && meta.deletionTimestamp && !e.previous?.metadata.deletionTimestamp)
        this.stopPod(e.object);
      const owner = ownerDeployment(e.object);
      if (owner) this.enqueue(`${String(meta.namespace)}/${owner}`);
    }
  }

  private enqueue(key: string) {
    this.pending.add(key);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const keys = [...this.pending];
      this.pending.clear();
      for (const k of keys) {
        const [ns, name] = k.split("/") as [string, string];
        try {
          this.reconcile(ns, name);
        } catch (error) {
          // A concurrent write (409) or a deletion: the next event reconciles again.
          if (!(error instanceof StatusError)) throw error;
        }
      }
    });
  }

  private later(ms: number, fn: () => void) {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.stopped) return;
      try {
        fn();
      } catch (error) {
        if (!(error instanceof StatusError)) throw error;
      }
    }, ms);
    this.timers.add(t);
  }

  private reconcile(namespace: string, name: string) {
    const deployment = this.store.tryGet(this.deployments, namespace, name);
    if (!deployment || deployment.metadata.deletionTimestamp) return;
    const spec = obj(deployment.spec) ?? {};
    const template = obj(spec.template) ?? {};
    const hash = templateHash(template);
    const replicas = typeof spec.replicas === "number" ? spec.replicas : 1;
    const uid = String(deployment.metadata.uid);
    const owned = this.store
      .list(this.pods, namespace)
      .filter((p) => !p.metadata.deletionTimestamp && ownerUid(p) === uid);
    const current = owned.filter((p) => labelsOf(p)["pod-template-hash"] === hash);
    const old = owned.filter((p) => labelsOf(p)["pod-template-hash"] !== hash);

    const rollout = this.rollouts.get(uid);
    if (!rollout || rollout.hash !== hash) this.rollouts.set(uid, { hash, since: Date.now() });

    const rsName = `${name}-${hash}`;
    if (current.length !== replicas) {
      const verb = current.length < replicas ? "up" : "down";
      this.emit(
        deployment,
        "Normal",
        "ScalingReplicaSet",
        `Scaled ${verb} replica set ${rsName} from ${current.length} to ${replicas}`,
        "deployment-controller",
      );
    }
    for (let i = current.length; i < replicas; i++) current.push(this.createPod(deployment, template, hash));
    while (current.length > replicas) {
      const extra = current.pop() as KubeObject;
      this.store.delete(this.pods, namespace, String(extra.metadata.name));
    }
    const currentReady = current.filter(isReady).length;
    const recreate = obj(spec.strategy)?.type === "Recreate";
    if (recreate || (currentReady === replicas && old.length > 0)) {
      for (const p of old) this.store.delete(this.pods, namespace, String(p.metadata.name));
      old.length = 0;
    }
    this.writeStatus(deployment, current, old, hash, replicas);
  }

  private createPod(deployment: KubeObject, template: JsonObject, hash: string): KubeObject {
    const tmeta = obj(template.metadata) ?? {};
    const name = String(deployment.metadata.name);
    const pod: JsonObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${name}-${hash}-`,
        namespace: String(deployment.metadata.namespace),
        labels: { ...(obj(tmeta.labels) ?? {}), "pod-template-hash": hash },
        ...(obj(tmeta.annotations) ? { annotations: clone(obj(tmeta.annotations) as JsonObject) } : {}),
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name,
            uid: String(deployment.metadata.uid),
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { ...clone(obj(template.spec) ?? {}), nodeName: "sim-node-1" },
    };
    return this.store.create(this.pods, String(deployment.metadata.namespace), pod, { manager: MANAGER });
  }

  /** A new pod (from a Deployment or not): scheduled at once, its containers start after podStartMs. */
  private startPod(created: KubeObject) {
    if (obj(created.status)?.phase) return;
    const ns = String(created.metadata.namespace);
    const name = String(created.metadata.name);
    const uid = String(created.metadata.uid);
    setImmediate(() => {
      if (this.stopped) return;
      const pod = this.store.tryGet(this.pods, ns, name);
      if (!pod || pod.metadata.uid !== uid) return;
      const now = timestamp();
      this.emit(pod, "Normal", "Scheduled", `Successfully assigned ${ns}/${name} to sim-node-1`, "default-scheduler");
      this.writePodStatus(pod, {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: now }],
        hostIP: "10.0.0.1",
        startTime: now,
        containerStatuses: containers(pod).map((c) => ({
          name: c.name ?? "",
          image: c.image ?? "",
          imageID: "",
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason: "ContainerCreating" } },
        })),
      });
      this.later(this.opts.podStartMs ?? 200, () => this.runContainers(ns, name, uid));
    });
  }

  /** A pod being deleted: its containers stop, then the kubelet removes it (after podStopMs). */
  private stopPod(pod: KubeObject) {
    const ns = String(pod.metadata.namespace);
    const name = String(pod.metadata.name);
    const uid = String(pod.metadata.uid);
    const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000;
    this.later(Math.min(grace, this.opts.podStopMs ?? 100), () => {
      const current = this.store.tryGet(this.pods, ns, name);
      if (!current || current.metadata.uid !== uid) return;
      this.store.delete(this.pods, ns, name, { gracePeriodSeconds: 0 });
    });
  }

  private failureOf(pod: KubeObject, container: JsonObject): PodFailure | undefined {
    const annotated = str(obj(pod.metadata.annotations)?.[FAILURE_ANNOTATION]);
    if (annotated === "ImagePullBackOff" || annotated === "ErrImagePull" || annotated === "CrashLoopBackOff")
      return annotated;
    const image = String(container.image ?? "");
    return this.failures.find((f) => (typeof f.image === "string" ? image.includes(f.image) : f.image.test(image)))
      ?.reason;
  }

  private runContainers(ns: string, name: string, uid: string) {
    const pod = this.store.tryGet(this.pods, ns, name);
    if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) return;
    const now = timestamp();
    const annotationLines = (str(obj(pod.metadata.annotations)?.[LOG_ANNOTATION]) ?? "").split("\n").filter(Boolean);
    let crashing = false;
    const statuses = containers(pod).map((c) => {
      const cname = String(c.name ?? "");
      const image = String(c.image ?? "");
      const failure = this.failureOf(pod, c);
      const base = {
        name: cname,
        image,
        imageID: "",
        restartCount: 0,
        containerID: `sim://${uid.slice(0, 8)}-${cname}`,
      };
      this.emit(pod, "Normal", "Pulling", `Pulling image "${image}"`, "kubelet");
      if (failure === "ImagePullBackOff" || failure === "ErrImagePull") {
        this.emit(
          pod,
          "Warning",
          "Failed",
          `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`,
          "kubelet",
        );
        this.emit(pod, "Warning", "Failed", "Error: ErrImagePull", "kubelet");
        if (failure === "ImagePullBackOff") {
          this.emit(pod, "Normal", "BackOff", `Back-off pulling image "${image}"`, "kubelet");
          this.emit(pod, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet");
        }
        return {
          ...base,
          ready: false,
          started: false,
          state: { waiting: { reason: failure, message: `Back-off pulling image "${image}"` } },
        };
      }
      this.emit(pod, "Normal", "Pulled", `Successfully pulled image "${image}"`, "kubelet");
      this.emit(pod, "Normal", "Created", `Created container: ${cname}`, "kubelet");
      this.emit(pod, "Normal", "Started", `Started container ${cname}`, "kubelet");
      this.appendLog(pod, cname, `container ${cname} started (image ${image})`);
      for (const line of annotationLines) this.appendLog(pod, cname, line);
      if (failure === "CrashLoopBackOff") {
        crashing = true;
        this.emit(
          pod,
          "Warning",
          "BackOff",
          `Back-off restarting failed container ${cname} in pod ${name}_${ns}(${uid})`,
          "kubelet",
        );
        this.appendLog(pod, cname, `fatal: container ${cname} exited with code 1`);
        return {
          ...base,
          ready: false,
          started: false,
          restartCount: 1,
          state: {
            waiting: {
              reason: "CrashLoopBackOff",
              message: `back-off 10s restarting failed container=${cname} pod=${name}_${ns}(${uid})`,
            },
          },
          lastState: { terminated: { exitCode: 1, reason: "Error", startedAt: now, finishedAt: now } },
        };
      }
      return { ...base, ready: true, started: true, state: { running: { startedAt: now } } };
    });
    const allReady = statuses.every((s) => s.ready);
    const pulling = statuses.some((s) => !s.ready && !("lastState" in s));
    const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
    const readyCondition = allReady
      ? { status: "True" }
      : {
          status: "False",
          reason: "ContainersNotReady",
          message: `containers with unready status: [${notReady.join(" ")}]`,
        };
    this.writePodStatus(pod, {
      phase: pulling && !crashing ? "Pending" : "Running",
      conditions: [
        { type: "PodReadyToStartContainers", status: "True", lastTransitionTime: now },
        { type: "Initialized", status: "True", lastTransitionTime: now },
        { type: "Ready", ...readyCondition, lastTransitionTime: now },
        { type: "ContainersReady", ...readyCondition, lastTransitionTime: now },
        { type: "PodScheduled", status: "True", lastTransitionTime: now },
      ],
      hostIP: "10.0.0.1",
      podIP: podIp(uid),
      startTime: str(obj(pod.status)?.startTime) ?? now,
      containerStatuses: statuses as unknown as Json,
    });
    if (crashing) this.later(this.opts.restartIntervalMs ?? 2000, () => this.restart(ns, name, uid));
  }

  /** A crash-looping container restarts, crashes again, and its restartCount grows. */
  private restart(ns: string, name: string, uid: string) {
    const pod = this.store.tryGet(this.pods, ns, name);
    if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) return;
    const status = clone(obj(pod.status) ?? {});
    const list = Array.isArray(status.containerStatuses) ? status.containerStatuses.filter(isObject) : [];
    for (const s of list) {
      if (str(obj(obj(s.state)?.waiting)?.reason) !== "CrashLoopBackOff") continue;
      s.restartCount = Number(s.restartCount ?? 0) + 1;
      this.emit(
        pod,
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${String(s.name)} in pod ${name}_${ns}(${uid})`,
        "kubelet",
      );
      this.appendLog(pod, String(s.name), `container ${String(s.name)} started (image ${String(s.image)})`);
      this.appendLog(pod, String(s.name), `fatal: container ${String(s.name)} exited with code 1`);
    }
    status.containerStatuses = list;
    this.writePodStatus(pod, status);
    this.later(this.opts.restartIntervalMs ?? 2000, () => this.restart(ns, name, uid));
  }

  /**
   * Records a core/v1 Event about an object, as the scheduler, kubelet and deployment controller do (what
   * `kubectl describe` lists); a repeated one (same object, reason and message) counts up instead.
   */
  private emit(about: KubeObject, type: "Normal" | "Warning", reason: string, message: string, component: string) {
    const ns = String(about.metadata.namespace ?? "default");
    const uid = String(about.metadata.uid);
    const now = timestamp();
    const same = this.store
      .list(this.events, ns)
      .find((e) => obj(e.involvedObject)?.uid === uid && e.reason === reason && e.message === message);
    if (same) {
      const next = clone(same);
      next.count = Number(same.count ?? 1) + 1;
      next.lastTimestamp = now;
      this.store.update(this.events, ns, String(same.metadata.name), next, { manager: component });
      return;
    }
    const event: JsonObject = {
      apiVersion: "v1",
      kind: "Event",
      metadata: {
        name: `${String(about.metadata.name)}.${(Date.now() * 1000 + (this.eventSeq++ % 1000)).toString(16)}`,
        namespace: ns,
      },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        namespace: ns,
        name: String(about.metadata.name),
        uid,
      },
      type,
      reason,
      message,
      source: { component, host: component === "kubelet" ? "sim-node-1" : null },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: component,
      reportingInstance: component === "kubelet" ? "sim-node-1" : "",
    };
    if (!obj(event.source)?.host) delete (event.source as JsonObject).host;
    this.store.create(this.events, ns, event, { manager: component });
  }

  private writePodStatus(pod: KubeObject, status: JsonObject) {
    const next = clone(pod);
    next.status = status;
    this.store.update(this.pods, String(pod.metadata.namespace), String(pod.metadata.name), next, {
      manager: KUBELET,
      scope: "status",
    });
  }

  private writeStatus(
    deployment: KubeObject,
    current: KubeObject[],
    old: KubeObject[],
    hash: string,
    replicas: number,
  ) {
    const uid = String(deployment.metadata.uid);
    const spec = obj(deployment.spec) ?? {};
    const all = [...current, ...old];
    const ready = all.filter(isReady).length;
    const updatedReady = current.filter(isReady).length;
    const maxUnavailable = resolveMaxUnavailable(spec, replicas);
    const available = ready >= replicas - maxUnavailable;
    const rsName = `${String(deployment.metadata.name)}-${hash}`;
    const complete = updatedReady === replicas && current.length === replicas && old.length === 0;
    const deadline = Number(spec.progressDeadlineSeconds ?? 600) * 1000;
    const since = this.rollouts.get(uid)?.since ?? Date.now();
    const timedOut = !complete && Date.now() - since >= deadline;
    if (!complete && !timedOut)
      this.later(Math.max(0, since + deadline - Date.now()) + 5, () =>
        this.enqueue(`${String(deployment.metadata.namespace)}/${String(deployment.metadata.name)}`),
      );
    const previous = obj(deployment.status) ?? {};
    const previousConditions = Array.isArray(previous.conditions) ? previous.conditions.filter(isObject) : [];
    const now = timestamp();
    const condition = (type: string, status: string, reason: string, message: string): JsonObject => {
      const before = previousConditions.find((c) => c.type === type);
      const changed = !before || before.status !== status;
      const same = before && before.status === status && before.reason === reason && before.message === message;
      return {
        type,
        status,
        lastUpdateTime: same ? (before.lastUpdateTime as Json) : now,
        lastTransitionTime: changed ? now : ((before?.lastTransitionTime as Json) ?? now),
        reason,
        message,
      };
    };
    const progressing = complete
      ? condition(
          "Progressing",
          "True",
          "NewReplicaSetAvailable",
          `ReplicaSet "${rsName}" has successfully progressed.`,
        )
      : timedOut
        ? condition(
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            `ReplicaSet "${rsName}" has timed out progressing.`,
          )
        : condition("Progressing", "True", "ReplicaSetUpdated", `ReplicaSet "${rsName}" is progressing.`);
    const availableCondition = available
      ? condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
      : condition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.");
    const status: JsonObject = {
      observedGeneration: Number(deployment.metadata.generation ?? 1),
      replicas: all.length,
      updatedReplicas: current.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(all.length - ready > 0 || replicas - ready > 0
        ? { unavailableReplicas: Math.max(all.length, replicas) - ready }
        : {}),
      conditions: [availableCondition, progressing],
    };
    for (const k of ["readyReplicas", "availableReplicas"]) if (status[k] === 0) delete status[k];
    const comparable = (s: JsonObject) =>
      JSON.stringify({
        ...s,
        conditions: (Array.isArray(s.conditions) ? s.conditions.filter(isObject) : []).map(
          ({ lastUpdateTime: _u, lastTransitionTime: _t, ...c }) => c,
        ),
      });
    if (comparable(status) === comparable(previous)) return;
    const next = clone(deployment);
    next.status = status;
    this.store.update(this.deployments, String(deployment.metadata.namespace), String(deployment.metadata.name), next, {
      manager: MANAGER,
      scope: "status",
    });
  }
}

function containers(pod: KubeObject): JsonObject[] {
  const list = obj(pod.spec)?.containers;
  return Array.isArray(list) ? list.filter(isObject) : [];
}

function containerStatuses(pod: KubeObject): JsonObject[] {
  const list = obj(pod.status)?.containerStatuses;
  return Array.isArray(list) ? list.filter(isObject) : [];
}

function labelsOf(o: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(o.metadata.labels) ?? {})) if (typeof v === "string") out[k] = v;
  return out;
}

function ownerUid(o: KubeObject): string | undefined {
  const refs = o.metadata.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  const ref = refs.find((r) => isObject(r) && r.controller === true);
  return isObject(ref) ? str(ref.uid) : undefined;
}

function ownerDeployment(o: KubeObject): string | undefined {
  const refs = o.metadata.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  const ref = refs.find((r) => isObject(r) && r.kind === "Deployment" && r.controller === true);
  return isObject(ref) ? str(ref.name) : undefined;
}

function isReady(pod: KubeObject): boolean {
  const conditions = obj(pod.status)?.conditions;
  return Array.isArray(conditions) && conditions.some((c) => isObject(c) && c.type === "Ready" && c.status === "True");
}

/** The pod-template-hash label: stable for a template, different when it changes (like the real one). */
function templateHash(template: JsonObject): string {
  const hex = createHash("sha256").update(JSON.stringify(template)).digest("hex");
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let out = "";
  for (let i = 0; i < 10; i++) out += alphabet[Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  return out;
}

function podIp(uid: string): string {
  const n = Number.parseInt(uid.replace(/-/g, "").slice(0, 4), 16);
  return `10.42.${(n >> 8) % 256}.${(n % 254) + 1}`;
}

function resolveMaxUnavailable(spec: JsonObject, replicas: number): number {
  const v = obj(obj(spec.strategy)?.rollingUpdate)?.maxUnavailable;
  if (typeof v === "number") return v;
  const percent = typeof v === "string" && v.endsWith("%") ? Number(v.slice(0, -1)) : 25;
  return Math.floor((replicas * percent) / 100);
}
