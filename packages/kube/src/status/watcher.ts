import { EventEmitter } from "node:events";
import {
  ApiException,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from "@kubernetes/client-node";
import { withDeadline } from "./deadline.ts";
import { KUSTOMIZE_NAME_LABEL } from "./reducers.ts";

/** API coordinates of a kind to watch across all namespaces. */
export interface WatchedKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
  labelSelector?: string;
}

export const GIT_REPOSITORY: WatchedKind = {
  group: "source.toolkit.fluxcd.io",
  version: "v1",
  plural: "gitrepositories",
  kind: "GitRepository",
};
export const OCI_REPOSITORY: WatchedKind = {
  group: "source.toolkit.fluxcd.io",
  version: "v1",
  plural: "ocirepositories",
  kind: "OCIRepository",
};
export const HELM_REPOSITORY: WatchedKind = {
  group: "source.toolkit.fluxcd.io",
  version: "v1",
  plural: "helmrepositories",
  kind: "HelmRepository",
};
export const KUSTOMIZATION: WatchedKind = {
  group: "kustomize.toolkit.fluxcd.io",
  version: "v1",
  plural: "kustomizations",
  kind: "Kustomization",
};
export const HELM_RELEASE: WatchedKind = {
  group: "helm.toolkit.fluxcd.io",
  version: "v2",
  plural: "helmreleases",
  kind: "HelmRelease",
};
/** Deployments applied by a Flux Kustomization (kustomize-controller labels what it applies). */
export const FLUX_DEPLOYMENT: WatchedKind = {
  group: "apps",
  version: "v1",
  plural: "deployments",
  kind: "Deployment",
  labelSelector: KUSTOMIZE_NAME_LABEL,
};

/** What the platform follows: Flux sources, Kustomizations, HelmReleases, and the Deployments Flux applied. */
export const DEFAULT_WATCHED_KINDS: readonly WatchedKind[] = [
  GIT_REPOSITORY,
  OCI_REPOSITORY,
  HELM_REPOSITORY,
  KUSTOMIZATION,
  HELM_RELEASE,
  FLUX_DEPLOYMENT,
];

export type WatchedObject = KubernetesObject & { spec?: unknown; status?: unknown };

export interface ClusterEvent {
  type: "upsert" | "delete";
  cluster: string;
  kind: string;
  object: WatchedObject;
}

export interface ConnectionChange {
  cluster: string;
  state: "connected" | "reconnecting";
  /** The last error while reconnecting (never contains credentials). */
  error: string | null;
  at: Date;
}

export interface ClusterWatcherOptions {
  /** The platform's id of the cluster, copied into every event. */
  id: string;
  kc: KubeConfig;
  kinds?: readonly WatchedKind[];
  /** How often to ask the cluster which kinds it serves (Flux may be installed later). Default 60 s. */
  discoveryIntervalMs?: number;
  /** Restart delays after an error: doubling from initialMs to maxMs, back to initialMs after resetAfterMs of health. */
  backoff?: Partial<BackoffPolicy>;
  /** Each watch asks the server to end it after this long (then resumes). Default: random 300–600 s, as client-go. */
  watchTimeoutSeconds?: number;
  /** A watch still open this long after its timeout is taken for dead and aborted. Default 30 s. */
  watchGraceMs?: number;
  /**
   * Called when an `event` listener throws (the event is not retried). A throw must not reach client-node's
   * stream handlers, where it would be an uncaught exception. Default: console.error.
   */
  onListenerError?: (err: unknown, event: ClusterEvent) => void;
  /** Lists and discovery calls without an answer in this long count as failed (and are retried). Default 30 s. */
  requestTimeoutMs?: number;
}

interface Events {
  event: [ClusterEvent];
  connection: [ConnectionChange];
}

interface Timeouts {
  watchTimeoutSeconds: number | null;
  watchGraceMs: number;
  requestTimeoutMs: number;
}

const kindKey = (k: WatchedKind) => `${k.group}/${k.version}/${k.plural}`;

/** An error as a short message safe to show and log: status code and the API server's message only. */
export function describeKubeError(err: unknown): string {
  let text: string;
  if (err instanceof ApiException) {
    let message = "";
    try {
      const body = typeof err.body === "string" ? JSON.parse(err.body) : err.body;
      if (body && typeof body.message === "string") message = body.message;
    } catch {
      // Not a Status object.
    }
    text = `HTTP ${err.code}${message ? `: ${message}` : ""}`;
  } else if (err instanceof Error) {
    const code = (err as Error & { statusCode?: unknown }).statusCode;
    text = typeof code === "number" ? `HTTP ${code}: ${err.message}` : err.message;
  } else {
    text = String(err);
  }
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/**
 * client-node's Watch with fixes for long-running informers:
 * - `close()` aborts every request (also one still connecting);
 * - only the newest watch may report to the ListWatch — a stale watch's late `done` (e.g. the abort of
 *   the previous connection) would otherwise stop the current one;
 * - every watch asks the server to end it after `timeoutSeconds` and is aborted by a client watchdog a
 *   little later, so a connection that died silently (NAT timeout, half-open TCP) cannot hang forever.
 *   (client-node 1.4 builds a 30 s timeout signal but never uses it.)
 */
class TrackedWatch extends Watch {
  private seq = 0;
  private closed = false;
  private readonly live = new Map<AbortController, () => void>();

  constructor(
    kc: KubeConfig,
    private readonly timeouts: Timeouts,
  ) {
    super(kc);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const id = ++this.seq;
    if (this.closed) {
      const c = new AbortController();
      c.abort();
      return c;
    }
    // Like client-go: between the minimum and twice the minimum, so reconnects of many watches spread out.
    const timeoutSeconds = this.timeouts.watchTimeoutSeconds ?? Math.round(300 * (1 + Math.random()));
    let finished = false;
    let expired = false;
    let watchdog: NodeJS.Timeout | undefined;
    let controller: AbortController | undefined;
    const current = () => !this.closed && id === this.seq;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(watchdog);
      if (controller) this.live.delete(controller);
      // Our own watchdog ended it: an ordinary end of a watch, resumed from the last resourceVersion.
      if (current()) done(expired ? null : err);
    };
    controller = await super.watch(
      path,
      { ...queryParams, timeoutSeconds },
      (phase, obj, raw) => {
        if (current() && !finished) callback(phase, obj, raw);
      },
      finish,
    );
    if (this.closed) {
      controller.abort();
    } else if (!finished) {
      const c = controller;
      watchdog = setTimeout(
        () => {
          expired = true;
          c.abort();
          finish(null);
        },
        timeoutSeconds * 1000 + this.timeouts.watchGraceMs,
      );
      this.live.set(c, () => clearTimeout(watchdog));
    }
    return controller;
  }

  close(): void {
    this.closed = true;
    for (const [c, clear] of this.live) {
      clear();
      c.abort();
    }
    this.live.clear();
  }
}

/** Restart delays after errors: doubling from initialMs to maxMs, back to initialMs after resetAfterMs of health. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

/**
 * The delay before the next restart, given how many restarts in a row came before (`attempt`) and for how
 * long the last connection was healthy (null: it never connected). Returns the attempt count to keep.
 */
export function nextRestart(
  policy: BackoffPolicy,
  attempt: number,
  healthyForMs: number | null,
): { delayMs: number; attempt: number } {
  const n = healthyForMs !== null && healthyForMs >= policy.resetAfterMs ? 0 : Math.min(attempt, 30);
  return { delayMs: Math.min(policy.maxMs, policy.initialMs * 2 ** n), attempt: n + 1 };
}

/** Per-kind list+watch with restart-on-error and event filtering. */
class KindInformer {
  private readonly watch: TrackedWatch;
  private readonly lw: ListWatch<WatchedObject>;
  private stopped = false;
  private starting: Promise<void> | null = null;
  private failedWhileStarting = false;
  private timer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private connectedAt: number | null = null;
  /** Newest resourceVersion seen per uid (deleted uids too, so a late update cannot resurrect them). */
  private readonly lastRv = new Map<string, { rv: string; deleted: boolean }>();
  /** uid per namespace/name: a name re-created under a new uid while disconnected retires the old uid. */
  private readonly uidByName = new Map<string, string>();
  /** The accepted objects by uid (the ListWatch cache may hold an out-of-order copy we dropped). */
  private readonly known = new Map<string, WatchedObject>();
  state: "starting" | "connected" | "backoff" = "starting";
  lastError: string | null = null;

  constructor(
    readonly kind: WatchedKind,
    private readonly owner: ClusterWatcher,
    kc: KubeConfig,
    private readonly backoff: BackoffPolicy,
    timeouts: Timeouts,
  ) {
    this.watch = new TrackedWatch(kc, timeouts);
    const api = kc.makeApiClient(CustomObjectsApi);
    const base = `/apis/${kind.group}/${kind.version}`;
    const list = async (): Promise<KubernetesListObject<WatchedObject>> => {
      const res = (await withDeadline(
        api.listClusterCustomObject({
          group: kind.group,
          version: kind.version,
          plural: kind.plural,
          ...(kind.labelSelector ? { labelSelector: kind.labelSelector } : {}),
        }),
        timeouts.requestTimeoutMs,
        `listing ${kind.plural}.${kind.group}`,
      )) as KubernetesListObject<WatchedObject>;
      // Stopped while the list was in flight: fail it so the ListWatch does not open a watch nobody will close.
      if (this.stopped) throw new Error("stopped");
      return res;
    };
    this.lw = new ListWatch<WatchedObject>(`${base}/${kind.plural}`, this.watch, list, false, kind.labelSelector);
    this.lw.on("add", (o) => this.upsert(o));
    this.lw.on("update", (o) => this.upsert(o));
    this.lw.on("delete", (o) => this.remove(o));
    this.lw.on("error", (err) => this.failed(err));
  }

  objects(): WatchedObject[] {
    return [...this.known.values()];
  }

  start(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.timer = null;
    this.state = "starting";
    this.failedWhileStarting = false;
    const run = this.lw.start().then(
      () => {
        if (this.stopped || this.failedWhileStarting) return;
        this.state = "connected";
        this.lastError = null;
        this.connectedAt = Date.now();
        this.owner.recompute();
      },
      (err: unknown) => this.failed(err),
    );
    const tracked: Promise<void> = run.finally(() => {
      if (this.starting === tracked) this.starting = null;
    });
    this.starting = tracked;
    return tracked;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // An attempt still in flight cannot open a watch any more: its list fails once stopped, and the
    // closed TrackedWatch aborts a watch that was connecting. No need to wait for it.
    await this.lw.stop();
    this.watch.close();
  }

  private failed(err: unknown) {
    if (this.stopped) return;
    if (this.state === "starting") this.failedWhileStarting = true;
    this.lastError = describeKubeError(err);
    if (this.timer) return; // a restart is already scheduled
    const next = nextRestart(
      this.backoff,
      this.attempt,
      this.connectedAt === null ? null : Date.now() - this.connectedAt,
    );
    this.connectedAt = null;
    this.attempt = next.attempt;
    this.state = "backoff";
    this.timer = setTimeout(() => void this.start(), next.delayMs);
    this.owner.recompute();
  }

  private typed(o: WatchedObject): WatchedObject {
    // List items of built-in kinds come without apiVersion/kind; events should not depend on how they arrived.
    if (o.kind && o.apiVersion) return o;
    return { ...o, apiVersion: `${this.kind.group}/${this.kind.version}`, kind: this.kind.kind };
  }

  private upsert(o: WatchedObject) {
    const uid = o.metadata?.uid;
    const rv = o.metadata?.resourceVersion;
    const key = `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    if (uid && rv) {
      const last = this.lastRv.get(uid);
      if (last?.deleted) return; // a late event for a deleted object (uids are never reused)
      // Duplicate or out of order: not newer than what we saw.
      const order = last ? compareResourceVersions(rv, last.rv) : null;
      if (order !== null && order <= 0) return;
      this.lastRv.set(uid, { rv, deleted: false });
    }
    const previousUid = this.uidByName.get(key);
    if (uid && previousUid && previousUid !== uid) {
      // Deleted and re-created under the same name while we were away: the old object is gone.
      const old = this.known.get(previousUid);
      this.forget(previousUid, key, "");
      if (old) this.owner.emitEvent("delete", this.kind.kind, old);
    }
    const typed = this.typed(o);
    if (uid) this.uidByName.set(key, uid);
    this.known.set(uid ?? key, typed);
    this.owner.emitEvent("upsert", this.kind.kind, typed);
  }

  private remove(o: WatchedObject) {
    const uid = o.metadata?.uid;
    const key = `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    if (uid && this.lastRv.get(uid)?.deleted) return; // already gone
    if (!this.known.has(uid ?? key)) return;
    this.forget(uid, key, o.metadata?.resourceVersion ?? "");
    this.owner.emitEvent("delete", this.kind.kind, this.typed(o));
  }

  private forget(uid: string | undefined, key: string, rv: string) {
    this.known.delete(uid ?? key);
    if (!uid) return;
    this.lastRv.set(uid, { rv, deleted: true });
    if (this.uidByName.get(key) === uid) this.uidByName.delete(key);
    this.pruneTombstones();
  }

  /** Emits a delete for everything known: the kind is no longer served (its CRD was removed). */
  retireAll() {
    const all = [...this.known.values()];
    this.known.clear();
    for (const o of all) this.owner.emitEvent("delete", this.kind.kind, o);
  }

  private pruneTombstones() {
    if (this.lastRv.size <= 10_000) return;
    for (const [uid, v] of this.lastRv) {
      if (v.deleted) this.lastRv.delete(uid);
      if (this.lastRv.size <= 5_000) break;
    }
  }
}

const INTEGER = /^\d+$/;
/**
 * Orders two resourceVersions when both are integers (etcd revisions, as on every real API server):
 * 1, 0 or -1; null when either is opaque — the API says resourceVersion must not be compared, so an
 * opaque one is never a reason to drop an event.
 */
export function compareResourceVersions(a: string, b: string): 1 | 0 | -1 | null {
  if (!INTEGER.test(a) || !INTEGER.test(b)) return null;
  const x = BigInt(a);
  const y = BigInt(b);
  return x > y ? 1 : x < y ? -1 : 0;
}

/**
 * Watches Flux objects and Flux-applied Deployments of one cluster across all namespaces. Only kinds the
 * cluster serves are watched; discovery is repeated so a Flux installed later is picked up. Informer errors
 * restart the informer with exponential backoff; `connection` reports `connected` / `reconnecting`.
 */
export class ClusterWatcher extends EventEmitter<Events> {
  readonly id: string;
  private readonly kc: KubeConfig;
  private readonly kinds: readonly WatchedKind[];
  private readonly discoveryIntervalMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly timeouts: Timeouts;
  private readonly informers = new Map<string, KindInformer>();
  private discoveryTimer: NodeJS.Timeout | null = null;
  private discovering: Promise<void> | null = null;
  private discoveryError: string | null = null;
  private discoveryAttempt = 0;
  private started = false;
  private stopped = false;
  private current: ConnectionChange | null = null;
  private readonly onListenerError: (err: unknown, event: ClusterEvent) => void;

  constructor(opts: ClusterWatcherOptions) {
    super();
    this.id = opts.id;
    this.kc = opts.kc;
    this.kinds = opts.kinds ?? DEFAULT_WATCHED_KINDS;
    for (const k of this.kinds) {
      if (!k.group)
        throw new Error(
          `ClusterWatcher kinds: ${k.kind} has no API group; only named groups (apps, *.fluxcd.io) are supported`,
        );
    }
    this.discoveryIntervalMs = opts.discoveryIntervalMs ?? 60_000;
    this.backoff = {
      initialMs: opts.backoff?.initialMs ?? 1_000,
      maxMs: opts.backoff?.maxMs ?? 30_000,
      resetAfterMs: opts.backoff?.resetAfterMs ?? 60_000,
    };
    this.onListenerError =
      opts.onListenerError ??
      ((err, e) =>
        console.error(
          `ClusterWatcher ${this.id}: a listener failed on ${e.type} ${e.kind} ${e.object.metadata?.namespace}/${e.object.metadata?.name}: ${describeKubeError(err)}`,
        ));
    this.timeouts = {
      watchTimeoutSeconds: opts.watchTimeoutSeconds ?? null,
      watchGraceMs: opts.watchGraceMs ?? 30_000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
    };
  }

  /** The current connection state (null before the first discovery finished). */
  get connection(): ConnectionChange | null {
    return this.current;
  }

  /** The kinds being watched now (served by the cluster). */
  watchedKinds(): string[] {
    return [...this.informers.values()].map((i) => i.kind.kind);
  }

  /** The objects currently known for a kind (from the informer caches). */
  objects(kind: string): WatchedObject[] {
    return [...this.informers.values()].filter((i) => i.kind.kind === kind).flatMap((i) => i.objects());
  }

  /** Discovers the served kinds and starts their informers; resolves once each has listed or failed once. */
  async start(): Promise<void> {
    if (this.started) throw new Error("ClusterWatcher.start: already started (a watcher is started once)");
    this.started = true;
    await this.runDiscovery();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.discoveryTimer) clearTimeout(this.discoveryTimer);
    this.discoveryTimer = null;
    // A discovery still in flight starts nothing once stopped (its request ends within requestTimeoutMs).
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    this.informers.clear();
  }

  /** @internal */
  emitEvent(type: ClusterEvent["type"], kind: string, object: WatchedObject): void {
    if (this.stopped) return;
    const event: ClusterEvent = { type, cluster: this.id, kind, object };
    try {
      this.emit("event", event);
    } catch (err) {
      this.onListenerError(err, event);
    }
  }

  /** @internal Recomputes the cluster's connection state from discovery and the informers. */
  recompute(): void {
    if (this.stopped || this.discovering) return;
    const failing = [...this.informers.values()].find((i) => i.state === "backoff");
    const starting = [...this.informers.values()].some((i) => i.state === "starting");
    let state: ConnectionChange["state"];
    let error: string | null = null;
    if (this.discoveryError !== null) {
      state = "reconnecting";
      error = this.discoveryError;
    } else if (failing) {
      state = "reconnecting";
      error = failing.lastError;
    } else if (starting) {
      return; // wait for the outcome
    } else {
      state = "connected";
    }
    if (this.current?.state === state) {
      // Same state: keep the newest error readable without announcing a change.
      if (this.current.error !== error) this.current = { ...this.current, error };
      return;
    }
    this.current = { cluster: this.id, state, error, at: new Date() };
    this.emit("connection", this.current);
  }

  private runDiscovery(): Promise<void> {
    const run = this.discover().finally(() => {
      this.discovering = null;
      this.recompute();
      this.scheduleDiscovery();
    });
    this.discovering = run;
    return run;
  }

  private scheduleDiscovery() {
    if (this.stopped) return;
    let delay = this.discoveryIntervalMs;
    if (this.discoveryError !== null) {
      delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.discoveryAttempt, delay);
      this.discoveryAttempt++;
    } else {
      this.discoveryAttempt = 0;
    }
    this.discoveryTimer = setTimeout(() => void this.runDiscovery(), delay);
  }

  private async discover(): Promise<void> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    const served = new Set<string>();
    try {
      const groupVersions = [...new Set(this.kinds.map((k) => `${k.group}/${k.version}`))];
      for (const gv of groupVersions) {
        const [group, version] = gv.split("/") as [string, string];
        try {
          const list = await withDeadline(
            api.getAPIResources({ group, version }),
            this.timeouts.requestTimeoutMs,
            `discovery of ${group}/${version}`,
          );
          for (const r of list.resources) served.add(`${group}/${version}/${r.name}`);
        } catch (e) {
          if (e instanceof ApiException && e.code === 404) continue; // group/version not served
          throw e;
        }
      }
      this.discoveryError = null;
    } catch (e) {
      // Keep the informers we have; they report their own errors.
      this.discoveryError = describeKubeError(e);
      return;
    }
    if (this.stopped) return;
    const starts: Promise<void>[] = [];
    for (const kind of this.kinds) {
      const key = kindKey(kind);
      const informer = this.informers.get(key);
      if (served.has(key) && !informer) {
        const created = new KindInformer(kind, this, this.kc, this.backoff, this.timeouts);
        this.informers.set(key, created);
        starts.push(created.start());
      } else if (!served.has(key) && informer) {
        this.informers.delete(key);
        informer.retireAll();
        starts.push(informer.stop());
      }
    }
    await Promise.all(starts);
  }
}
