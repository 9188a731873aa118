import { ApiException, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { withDeadline } from "./deadline.ts";
import { describeKubeError } from "./watcher.ts";

export interface LeaseElectorOptions {
  kc: KubeConfig;
  /** An existing namespace (e.g. the Flux namespace or kube-system); it is never created. */
  namespace: string;
  name: string;
  /** This replica's identity (e.g. hostname + pid); unique among the competitors. */
  identity: string;
  leaseDurationSeconds?: number;
  renewEverySeconds?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /** Errors after start (API unreachable, conflicts with unusual writers); never contains credentials. */
  onError?: (message: string) => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface LeaseObject {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

const GROUP = "coordination.k8s.io";
const VERSION = "v1";
const PLURAL = "leases";

/** MicroTime as the API server parses it: RFC 3339 with exactly six fractional digits. */
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

const statusOf = (e: unknown): number | null => (e instanceof ApiException ? e.code : null);

/** A setup problem that retrying cannot fix: start() rejects with it. */
export class LeaseSetupError extends Error {
  override readonly name = "LeaseSetupError";
}

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, so that one replica of the platform runs the
 * cluster watchers. The leader renews with the Lease's resourceVersion: any write in between (another
 * replica took over) is a 409 and leadership ends at once. Followers take over when the holder's
 * `renewTime + leaseDurationSeconds` has passed, or at once when the holder released it on shutdown.
 */
export class LeaseElector {
  private readonly api: CustomObjectsApi;
  private readonly durationMs: number;
  private readonly renewMs: number;
  private readonly requestTimeoutMs: number;
  private lease: LeaseObject | null = null;
  private leading = false;
  private lastRenewAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private started = false;

  constructor(private readonly opts: LeaseElectorOptions) {
    this.api = opts.kc.makeApiClient(CustomObjectsApi);
    const duration = opts.leaseDurationSeconds ?? 15;
    const renew = opts.renewEverySeconds ?? 5;
    if (!(duration > 0)) throw new Error("LeaseElector leaseDurationSeconds: must be greater than 0");
    if (!(renew > 0) || renew >= duration) {
      throw new Error("LeaseElector renewEverySeconds: must be greater than 0 and less than leaseDurationSeconds");
    }
    if (!opts.identity) throw new Error("LeaseElector identity: must not be empty");
    this.durationMs = duration * 1000;
    this.renewMs = renew * 1000;
    // A request must not hang past the point where leadership has to be given up.
    this.requestTimeoutMs = Math.max(1000, this.renewMs);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Makes the first attempt and keeps competing every renewEverySeconds. Rejects (and does not keep
   * trying) when the namespace does not exist or access to Leases is forbidden.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error("LeaseElector.start: already started");
    this.started = true;
    await this.runTick(true);
    this.schedule();
  }

  /** One tick every renewEverySeconds; a tick still running (slow API) is not doubled, but the lease clock runs on. */
  private schedule() {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.running) this.giveUpIfExpired();
      else void this.runTick(false);
      this.schedule();
    }, this.renewMs);
  }

  private giveUpIfExpired() {
    if (this.leading && Date.now() - this.lastRenewAt > this.durationMs) {
      this.lease = null;
      this.setLeading(false);
    }
  }

  /** Stops competing; a leader releases the Lease (empty holderIdentity) so another replica takes over at once. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const running = this.running;
    if (running) await withDeadline(running, this.requestTimeoutMs, "the last attempt").catch(() => {});
    // Also when an attempt in flight acquired the Lease just as we stopped (we never announced leading).
    const holding = this.lease?.spec.holderIdentity === this.opts.identity;
    if (holding && opts.release !== false) await this.release();
    this.setLeading(false);
  }

  private runTick(first: boolean): Promise<void> {
    const run = this.tick().catch((e: unknown) => {
      if (e instanceof LeaseSetupError && first) throw e;
      this.report(e instanceof LeaseSetupError ? e.message : describeKubeError(e));
    });
    this.running = run;
    return run.finally(() => {
      if (this.running === run) this.running = null;
    });
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.leading && this.lease) return this.renew(this.lease);
    return this.compete();
  }

  private async renew(lease: LeaseObject): Promise<void> {
    const now = new Date();
    try {
      this.lease = await this.replace({ ...lease, spec: { ...lease.spec, renewTime: microTime(now) } });
      this.lastRenewAt = now.getTime();
    } catch (e) {
      if (statusOf(e) === 409 || statusOf(e) === 404) {
        // Someone wrote (or deleted) the Lease since our last renewal: another replica took over.
        this.lease = null;
        this.setLeading(false);
        return;
      }
      this.giveUpIfExpired();
      throw e;
    }
  }

  private async compete(): Promise<void> {
    const current = await this.read();
    const now = new Date();
    if (!current) {
      const created = await this.create({
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "Lease",
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: {
          holderIdentity: this.opts.identity,
          leaseDurationSeconds: this.durationMs / 1000,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      });
      if (created) this.acquired(created, now);
      return;
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const ours = holder === this.opts.identity;
    const renewedAt = spec.renewTime ? Date.parse(spec.renewTime) : Number.NaN;
    const durationMs = (spec.leaseDurationSeconds ?? this.durationMs / 1000) * 1000;
    const expired = !Number.isFinite(renewedAt) || renewedAt + durationMs < now.getTime();
    if (!ours && holder !== "" && !expired) return; // held by a live leader
    const next: LeaseObject = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: this.durationMs / 1000,
        renewTime: microTime(now),
        ...(ours ? {} : { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      this.acquired(await this.replace(next), now);
    } catch (e) {
      if (statusOf(e) === 409) return; // another replica was faster
      throw e;
    }
  }

  private acquired(lease: LeaseObject, at: Date) {
    this.lease = lease;
    this.lastRenewAt = at.getTime();
    if (this.stopped) return;
    this.setLeading(true);
  }

  private async release(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    try {
      await this.replace({
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", renewTime: microTime(new Date()) },
      });
    } catch (e) {
      // The Lease simply expires for the others.
      this.report(`releasing Lease ${this.opts.namespace}/${this.opts.name}: ${describeKubeError(e)}`);
    }
    this.lease = null;
  }

  private setLeading(leading: boolean) {
    if (this.leading === leading) return;
    this.leading = leading;
    try {
      if (leading) this.opts.onStartedLeading();
      else this.opts.onStoppedLeading();
    } catch (e) {
      this.report(`${leading ? "onStartedLeading" : "onStoppedLeading"} threw: ${describeKubeError(e)}`);
    }
  }

  private report(message: string) {
    this.opts.onError?.(message);
  }

  private call<T>(request: Promise<T>, verb: string): Promise<T> {
    return withDeadline(request, this.requestTimeoutMs, `${verb} Lease ${this.opts.namespace}/${this.opts.name}`);
  }

  private where() {
    return { group: GROUP, version: VERSION, namespace: this.opts.namespace, plural: PLURAL };
  }

  private setupError(e: unknown, verb: string): Error {
    const code = statusOf(e);
    const lease = `Lease ${this.opts.namespace}/${this.opts.name}`;
    if (code === 403) {
      return new LeaseSetupError(
        `${lease}: not allowed to ${verb} leases.coordination.k8s.io in namespace "${this.opts.namespace}" (${describeKubeError(e)})`,
      );
    }
    return e instanceof Error ? e : new Error(String(e));
  }

  private async read(): Promise<LeaseObject | null> {
    try {
      return (await this.call(
        this.api.getNamespacedCustomObject({ ...this.where(), name: this.opts.name }),
        "get",
      )) as LeaseObject;
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw this.setupError(e, "get");
    }
  }

  /** Creates the Lease; null when another replica created it first. */
  private async create(lease: LeaseObject): Promise<LeaseObject | null> {
    try {
      return (await this.call(
        this.api.createNamespacedCustomObject({ ...this.where(), body: lease }),
        "create",
      )) as LeaseObject;
    } catch (e) {
      if (statusOf(e) === 409) return null;
      if (statusOf(e) === 404) {
        throw new LeaseSetupError(
          `LeaseElector namespace: namespace "${this.opts.namespace}" does not exist; pass an existing namespace (e.g. the Flux namespace or kube-system)`,
        );
      }
      throw this.setupError(e, "create");
    }
  }

  private async replace(lease: LeaseObject): Promise<LeaseObject> {
    try {
      return (await this.call(
        this.api.replaceNamespacedCustomObject({ ...this.where(), name: this.opts.name, body: lease }),
        "update",
      )) as LeaseObject;
    } catch (e) {
      throw this.setupError(e, "update");
    }
  }
}
