import { createHash } from "node:crypto";
import { clusters } from "@juanie/db";
import { accessOf, type GitOpsDeps, ingestClusterEvent, publish, type RealtimeEvent } from "@juanie/domain";
import { KubeCluster } from "@juanie/kube";
import { type ClusterEvent, ClusterWatcher, type ConnectionChange, LeaseElector } from "@juanie/kube/status";
import { eq } from "drizzle-orm";
import type { Logger } from "pino";

interface Watched {
  key: string;
  elector: LeaseElector;
  watcher: ClusterWatcher | null;
  /** Events of one cluster are applied in order, one at a time. */
  queue: Promise<void>;
}

export interface ClusterWatchOptions {
  /** This process, unique among the platform's replicas (the Lease holder identity). */
  identity: string;
  /** Where the per-cluster Lease lives (an existing namespace). */
  leaseNamespace: string;
  leaseDurationSeconds: number;
  /** How often a cluster is asked which Flux kinds it serves (Flux installed later is picked up). */
  discoveryIntervalMs: number;
}

/**
 * Live status: for every registered cluster, one replica of the platform (the holder of a
 * `coordination.k8s.io` Lease in that cluster) watches its Flux objects and the workloads Flux applied,
 * and applies each change through the domain's reducers. Clusters added, changed or removed are picked
 * up from the realtime events.
 */
export class ClusterWatchSupervisor {
  private readonly watched = new Map<string, Watched>();
  private stopped = false;

  constructor(
    private readonly deps: GitOpsDeps,
    private readonly log: Logger,
    private readonly opts: ClusterWatchOptions,
  ) {}

  async start(): Promise<void> {
    const rows = await this.deps.db.select().from(clusters);
    await Promise.all(rows.map((c) => this.sync(c.id)));
  }

  /** Reacts to a realtime event: a cluster changed (its credentials, or it was removed). */
  onEvent(event: RealtimeEvent): void {
    if (event.type === "cluster.changed") void this.sync(event.clusterId).catch(() => {});
  }

  private credentialsKey(c: typeof clusters.$inferSelect): string {
    return createHash("sha256")
      .update(`${c.connection}\n${c.context ?? ""}\n${c.kubeconfig ?? ""}`)
      .digest("hex");
  }

  async sync(clusterId: string): Promise<void> {
    if (this.stopped) return;
    const [c] = await this.deps.db.select().from(clusters).where(eq(clusters.id, clusterId));
    const current = this.watched.get(clusterId);
    if (!c) {
      if (current) await this.stopOne(clusterId);
      return;
    }
    const key = this.credentialsKey(c);
    if (current?.key === key) return;
    if (current) await this.stopOne(clusterId);
    let kube: KubeCluster;
    try {
      const access = accessOf(this.deps, c);
      kube = new KubeCluster(
        access.kind === "in-cluster"
          ? { kind: "in-cluster" }
          : {
              kind: "kubeconfig",
              kubeconfig: access.kubeconfig,
              ...(access.context ? { context: access.context } : {}),
              allowExec: this.deps.kube.allowExec,
            },
      );
    } catch (err) {
      await this.recordConnection(c.id, c.organizationId, "stopped", err instanceof Error ? err.message : String(err));
      return;
    }
    const entry: Watched = { key, watcher: null, queue: Promise.resolve(), elector: null as unknown as LeaseElector };
    entry.elector = new LeaseElector({
      kc: kube.kc,
      namespace: this.opts.leaseNamespace,
      name: `juanie-status-${c.id}`,
      identity: this.opts.identity,
      leaseDurationSeconds: this.opts.leaseDurationSeconds,
      renewEverySeconds: Math.max(1, Math.floor(this.opts.leaseDurationSeconds / 3)),
      onStartedLeading: () => void this.lead(c.id, c.organizationId, entry, kube),
      onStoppedLeading: () => {
        const w = entry.watcher;
        entry.watcher = null;
        void w?.stop();
      },
      onError: (message) => this.log.debug({ clusterId: c.id, err: message }, "cluster lease"),
    });
    this.watched.set(c.id, entry);
    await entry.elector.start().catch(async (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ clusterId: c.id, err: message }, "cluster status watch could not start");
      await this.recordConnection(c.id, c.organizationId, "reconnecting", message);
    });
  }

  private async lead(clusterId: string, organizationId: string, entry: Watched, kube: KubeCluster) {
    if (this.stopped || entry.watcher) return;
    const watcher = new ClusterWatcher({
      id: clusterId,
      kc: kube.kc,
      discoveryIntervalMs: this.opts.discoveryIntervalMs,
    });
    entry.watcher = watcher;
    watcher.on("event", (e: ClusterEvent) => {
      entry.queue = entry.queue
        .then(() => ingestClusterEvent(this.deps, clusterId, e))
        .catch((err: unknown) =>
          this.log.warn({ clusterId, kind: e.kind, err: String(err) }, "status event not applied"),
        );
    });
    watcher.on("connection", (change: ConnectionChange) => {
      void this.recordConnection(clusterId, organizationId, change.state, change.error);
    });
    await watcher.start().catch((err: unknown) => {
      this.log.warn({ clusterId, err: String(err) }, "cluster status watch failed to start");
    });
  }

  private async recordConnection(clusterId: string, organizationId: string, state: string, error: string | null) {
    await this.deps.db
      .transaction(async (tx) => {
        await tx.update(clusters).set({ watchState: state, watchError: error }).where(eq(clusters.id, clusterId));
        await publish(tx, { type: "cluster.changed", clusterId, organizationId });
      })
      .catch(() => {});
  }

  private async stopOne(clusterId: string) {
    const entry = this.watched.get(clusterId);
    this.watched.delete(clusterId);
    if (!entry) return;
    await entry.watcher?.stop();
    await entry.elector.stop({ release: true }).catch(() => {});
    await entry.queue;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.watched.keys()].map((id) => this.stopOne(id)));
  }
}
