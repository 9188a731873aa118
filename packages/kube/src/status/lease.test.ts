import { type KubeSim, startKubeSim } from "@juanie/kube-sim";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LeaseElector, type LeaseElectorOptions } from "./lease.ts";
import { startRelay } from "./relay.testing.ts";

const until = async (check: () => boolean, what: string, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const LEASE_SECONDS = 1;
const RENEW_SECONDS = 0.1;

let sim: KubeSim;
const electors: LeaseElector[] = [];

function kubeConfig(server?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig());
  if (server) kc.clusters = kc.clusters.map((c) => ({ ...c, server }));
  return kc;
}

function elector(identity: string, name: string, extra: Partial<LeaseElectorOptions> = {}) {
  const log: string[] = [];
  const errors: string[] = [];
  const e = new LeaseElector({
    kc: kubeConfig(),
    namespace: "kube-system",
    name,
    identity,
    leaseDurationSeconds: LEASE_SECONDS,
    renewEverySeconds: RENEW_SECONDS,
    onStartedLeading: () => log.push("started"),
    onStoppedLeading: () => log.push("stopped"),
    onError: (m) => errors.push(m),
    ...extra,
  });
  electors.push(e);
  return { e, log, errors };
}

const leaseSpec = (name: string) => {
  const lease = sim.store.get(sim.type("coordination.k8s.io/v1", "Lease"), "kube-system", name);
  return lease.spec as { holderIdentity?: string; renewTime?: string; acquireTime?: string; leaseTransitions?: number };
};

beforeAll(async () => {
  sim = await startKubeSim({ workloads: false });
});

afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
});

afterAll(async () => {
  await sim?.close();
});

describe("LeaseElector", () => {
  it("lets exactly one of two replicas lead, and keeps it while it renews", async () => {
    const a = elector("replica-a", "one-leader");
    const b = elector("replica-b", "one-leader");
    await a.e.start();
    await b.e.start();
    expect([a.e.isLeader, b.e.isLeader]).toEqual([true, false]);
    const spec = leaseSpec("one-leader");
    expect(spec.holderIdentity).toBe("replica-a");
    // MicroTime, as a real API server requires it.
    expect(spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    // Several renewals later (beyond one lease duration), still the same leader.
    const firstRenew = Date.parse(spec.renewTime ?? "");
    await until(
      () => Date.parse(leaseSpec("one-leader").renewTime ?? "") > firstRenew + LEASE_SECONDS * 1000,
      "renewals",
    );
    expect(leaseSpec("one-leader").holderIdentity).toBe("replica-a");
    expect(a.log).toEqual(["started"]);
    expect(b.log).toEqual([]);
  });

  it("hands over at once when the leader stops (it releases the Lease)", async () => {
    const a = elector("replica-a", "handover");
    const b = elector("replica-b", "handover");
    await a.e.start();
    await b.e.start();
    await a.e.stop();
    expect(a.log).toEqual(["started", "stopped"]);
    const released = leaseSpec("handover");
    expect(released.holderIdentity).toBe("");
    await until(() => b.e.isLeader, "replica-b to lead", LEASE_SECONDS * 1000);
    const taken = leaseSpec("handover");
    expect(taken).toMatchObject({ holderIdentity: "replica-b", leaseTransitions: 1 });
    // Before replica-a's last renewal would have expired: the release, not the expiry, handed it over.
    expect(Date.parse(taken.acquireTime ?? "")).toBeLessThan(
      Date.parse(released.renewTime ?? "") + LEASE_SECONDS * 1000,
    );
  });

  it("takes over a crashed leader's Lease only after renewTime + leaseDurationSeconds", async () => {
    const a = elector("replica-a", "crash");
    const b = elector("replica-b", "crash");
    await a.e.start();
    await b.e.start();
    await a.e.stop({ release: false }); // as if the process died
    const lastRenew = Date.parse(leaseSpec("crash").renewTime ?? "");
    await until(() => b.e.isLeader, "replica-b to take over", 3 * LEASE_SECONDS * 1000);
    const acquired = Date.parse(leaseSpec("crash").acquireTime ?? "");
    expect(acquired).toBeGreaterThan(lastRenew + LEASE_SECONDS * 1000);
    expect(leaseSpec("crash").holderIdentity).toBe("replica-b");
  });

  it("stops leading at once when a renewal gets 409 Conflict (someone else wrote the Lease)", async () => {
    const a = elector("replica-a", "conflict");
    await a.e.start();
    expect(a.e.isLeader).toBe(true);
    // Another replica (with an unusual clock or a forced takeover) writes the Lease.
    sim.store.patch(
      sim.type("coordination.k8s.io/v1", "Lease"),
      "kube-system",
      "conflict",
      "merge",
      { spec: { holderIdentity: "intruder", leaseDurationSeconds: 3600, renewTime: new Date().toISOString() } },
      { manager: "intruder" },
    );
    await until(() => !a.e.isLeader, "replica-a to stop leading", LEASE_SECONDS * 1000);
    expect(a.log).toEqual(["started", "stopped"]);
    expect(a.errors).toEqual([]); // a conflict is a normal loss of leadership, not an error
    // It competes again but respects the intruder's live Lease.
    const renewedBy = leaseSpec("conflict").renewTime;
    await new Promise((r) => setTimeout(r, RENEW_SECONDS * 1000 * 3));
    expect(a.e.isLeader).toBe(false);
    expect(leaseSpec("conflict")).toMatchObject({ holderIdentity: "intruder", renewTime: renewedBy });
  });

  it("stops leading when it cannot renew for longer than the lease duration", async () => {
    const relay = await startRelay(sim.url);
    try {
      const a = elector("replica-a", "outage", { kc: kubeConfig(relay.url) });
      await a.e.start();
      expect(a.e.isLeader).toBe(true);
      const renewedBefore = Date.parse(leaseSpec("outage").renewTime ?? "");
      relay.cut();
      await until(() => !a.e.isLeader, "replica-a to give up", 4 * LEASE_SECONDS * 1000);
      // Not before its last successful renewal had expired for the others.
      expect(Date.now()).toBeGreaterThan(renewedBefore + LEASE_SECONDS * 1000);
      expect(a.errors.length).toBeGreaterThan(0);
      expect(a.errors.join("\n")).not.toContain(sim.token);
    } finally {
      await Promise.all(electors.splice(0).map((e) => e.stop()));
      await relay.close();
    }
  });

  it("stops leading when its renewals get no answer at all (requests hang)", async () => {
    const relay = await startRelay(sim.url);
    try {
      const a = elector("replica-a", "dead-route", { kc: kubeConfig(relay.url) });
      await a.e.start();
      expect(a.e.isLeader).toBe(true);
      const renewedBefore = Date.parse(leaseSpec("dead-route").renewTime ?? "");
      relay.blackhole();
      await until(() => !a.e.isLeader, "replica-a to give up", 4 * LEASE_SECONDS * 1000);
      expect(Date.now()).toBeGreaterThan(renewedBefore + LEASE_SECONDS * 1000);
      // Another replica can now take the expired Lease.
      const b = elector("replica-b", "dead-route");
      await b.e.start();
      expect(b.e.isLeader).toBe(true);
      await a.e.stop(); // does not hang on the unanswered request
    } finally {
      await Promise.all(electors.splice(0).map((e) => e.stop()));
      await relay.close();
    }
  });

  it("refuses to start in a namespace that does not exist, with a clear message", async () => {
    const a = elector("replica-a", "nowhere", { namespace: "no-such-namespace" });
    await expect(a.e.start()).rejects.toThrow(
      'LeaseElector namespace: namespace "no-such-namespace" does not exist; pass an existing namespace (e.g. the Flux namespace or kube-system)',
    );
    expect(a.e.isLeader).toBe(false);
  });

  it("validates its timing options", () => {
    expect(() => elector("x", "bad", { renewEverySeconds: 15, leaseDurationSeconds: 15 })).toThrow(
      "LeaseElector renewEverySeconds: must be greater than 0 and less than leaseDurationSeconds",
    );
    expect(() => elector("", "bad")).toThrow("LeaseElector identity: must not be empty");
  });
});
