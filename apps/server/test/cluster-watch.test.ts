import { gitopsResources } from "@juanie/db";
import { type KubeSim, startKubeSim } from "@juanie/kube-sim";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import { type Backdoor, failure, openBackdoor, password, waitFor } from "./support.ts";

/**
 * Two replicas of the platform on one database watch one cluster: the Lease in the cluster makes exactly one
 * of them the writer of live status; when it stops, the other takes over. And a cluster that cannot be
 * reached: actions fail with a clear error and nothing is recorded as applied.
 */
describe("live status across replicas", () => {
  let a: TestServer;
  let b: TestServer;
  let back: Backdoor;
  let sim: KubeSim;
  let admin: Session;
  let clusterId: string;
  const env = { JUANIE_LEASE_DURATION_SECONDS: "3", JUANIE_CLUSTER_CHECK_INTERVAL_MS: "1000" };

  const lease = () => {
    const leases = sim.store.list(sim.type("coordination.k8s.io/v1", "Lease"), "kube-system");
    return leases.find((l) => l.metadata.name === `juanie-status-${clusterId}`);
  };
  const holder = () => (lease()?.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? "";
  const row = (name: string) =>
    back.handle.db
      .select()
      .from(gitopsResources)
      .where(and(eq(gitopsResources.clusterId, clusterId), eq(gitopsResources.name, name)));

  beforeAll(async () => {
    sim = await startKubeSim({ flux: { preinstalled: true } });
    a = await startTestServer(env);
    b = await startTestServer({ ...env, DATABASE_URL: a.platform.databaseUrl, JUANIE_DATA_DIR: a.dataDir });
    back = openBackdoor(a);
    admin = new Session(a.url);
    await admin.api.auth.setup.mutate({ email: "ada@example.com", username: "ada", displayName: "Ada", password });
    const org = await admin.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
    const c = await admin.api.clusters.register.mutate({
      organizationId: org.id,
      name: "shared",
      connection: { type: "kubeconfig", kubeconfig: sim.kubeconfig() },
    });
    clusterId = c.id;
  }, 120_000);
  afterAll(async () => {
    await back?.close();
    await b?.close().catch(() => {});
    await a?.close().catch(() => {});
    await sim?.close();
  });

  it("one replica holds the cluster's Lease and writes status; when it stops, the other takes over", async () => {
    // Both replicas learn of the new cluster (realtime across replicas); one of them takes the Lease.
    const first = await waitFor(
      async () => holder(),
      (h) => h !== "",
      20_000,
    );
    const gitRepos = sim.type("source.toolkit.fluxcd.io/v1", "GitRepository");
    sim.store.create(
      gitRepos,
      "flux-system",
      {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        metadata: { name: "one", namespace: "flux-system" },
        spec: { url: "https://example.com/x.git", interval: "1m", ref: { branch: "main" } },
      },
      { manager: "test" },
    );
    const seen = await waitFor(
      () => row("one"),
      (r) => r.length === 1,
      20_000,
    );
    expect(seen[0]?.kind).toBe("GitRepository");
    // The holder keeps it while it runs (renewals do not hand it over).
    await new Promise((r) => setTimeout(r, 2_000));
    expect(holder()).toBe(first);

    // Stop whichever replica leads: the other takes the Lease (at once: a stopping leader releases it).
    const leader = [a, b].find((s) => s.platform.watchIdentity === first)!;
    const follower = leader === a ? b : a;
    expect(leader).toBeDefined();
    await leader.platform.stop();
    const second = await waitFor(
      async () => holder(),
      (h) => h !== "" && h !== first,
      20_000,
    );
    expect(second).toBe(follower.platform.watchIdentity);
    sim.store.create(
      gitRepos,
      "flux-system",
      {
        apiVersion: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        metadata: { name: "two", namespace: "flux-system" },
        spec: { url: "https://example.com/y.git", interval: "1m", ref: { branch: "main" } },
      },
      { manager: "test" },
    );
    const taken = await waitFor(
      () => row("two"),
      (r) => r.length === 1,
      20_000,
    );
    expect(taken[0]?.name).toBe("two");
  }, 90_000);

  it("an unreachable cluster: the check says so, actions fail with UNAVAILABLE and nothing is applied", async () => {
    const gone = await startKubeSim();
    // One of the two servers was stopped above: talk to the one that still answers.
    const server = await firstAnswering([a, b]);
    const s = new Session(server.url);
    await s.api.auth.signIn.mutate({ login: "ada", password });
    const org = (await s.api.orgs.list.query())[0]!;
    const c = await s.api.clusters.register.mutate({
      organizationId: org.id,
      name: "soon-gone",
      connection: { type: "kubeconfig", kubeconfig: gone.kubeconfig() },
    });
    await gone.close();
    const checked = await s.api.clusters.check.mutate({ clusterId: c.id });
    expect(checked.status).toBe("error");
    expect(checked.statusReason).toBe("unreachable");
    expect(checked.statusMessage).toMatch(/cannot reach/);
    const status = await s.api.clusters.flux.query({ clusterId: c.id });
    expect(status).toMatchObject({ reachable: false, installed: false });
    expect(status.error).toMatch(/cannot reach/);
    const refused = await failure(
      s.api.clusters.installFlux.mutate({ clusterId: c.id, source: "release", version: "2.7.3" }),
    );
    expect(refused.juanie.code).toBe("UNAVAILABLE");
    expect(refused.message).toMatch(/soon-gone.*cannot reach/);
    const flux = await s.api.clusters.flux.query({ clusterId: c.id });
    expect(flux.operations).toEqual([]);
  }, 60_000);

  async function firstAnswering(servers: TestServer[]): Promise<TestServer> {
    for (const s of servers) {
      const ok = await fetch(`${s.url}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return s;
    }
    throw new Error("no server answers");
  }
});
