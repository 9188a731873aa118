import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { type KubeSim, startKubeSim } from "@juanie/kube-sim";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitopsWorld, startGitopsWorld } from "./gitops-world.ts";
import { auditSince, failure, lastAuditId, waitFor } from "./support.ts";

/**
 * Clusters as an organization admin registers them: checked before saving, stored encrypted, never
 * returned; refused with the precise reason; bound to environments, whose Flux objects are applied there.
 */
describe("clusters", () => {
  let w: GitopsWorld;
  let sim: KubeSim;
  let other: KubeSim;

  beforeAll(async () => {
    [w, sim, other] = await Promise.all([
      startGitopsWorld({ JUANIE_CLUSTER_CHECK_INTERVAL_MS: "1000" }),
      startKubeSim({ users: { "no-nodes-token": { user: "viewer", forbidden: ["nodes"] } } }),
      startKubeSim(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await w?.close();
    await sim?.close();
    await other?.close();
  });

  it("registers a cluster from a kubeconfig: version, nodes, simulated — and never answers with the kubeconfig", async () => {
    const kubeconfig = sim.kubeconfig();
    const c = await w.admin.api.clusters.register.mutate({
      organizationId: w.org.id,
      name: "k3s-dev",
      connection: { type: "kubeconfig", kubeconfig },
    });
    expect(c).toMatchObject({ name: "k3s-dev", status: "connected", simulated: true, nodes: { total: 1, ready: 1 } });
    expect(c.serverVersion).toContain("+juanie-simulator");
    expect(c.server).toBe(sim.url);
    const listed = await w.admin.api.clusters.list.query({ organizationId: w.org.id });
    for (const answer of [c, listed]) expect(JSON.stringify(answer)).not.toContain(sim.token);
    // Encrypted at rest, and in no log line or file of the server's data directory.
    const rows = await w.back.handle.db.execute<{ kubeconfig: string }>(
      sql`select kubeconfig from clusters where name = 'k3s-dev'`,
    );
    expect(rows.rows[0]?.kubeconfig).not.toContain(sim.token);
    expect(w.server.logs.join("\n")).not.toContain(sim.token);
    const files = await readdir(w.server.dataDir, { recursive: true });
    for (const f of files) {
      const full = path.join(w.server.dataDir, String(f));
      const text = await readFile(full, "utf8").catch(() => "");
      expect(text.includes(sim.token), full).toBe(false);
    }
  });

  it("refuses a cluster it cannot use, saying why: unreachable, wrong CA, wrong token, forbidden, exec plugin", async () => {
    const register = (name: string, kubeconfig: string) =>
      failure(
        w.admin.api.clusters.register.mutate({
          organizationId: w.org.id,
          name,
          connection: { type: "kubeconfig", kubeconfig },
        }),
      );
    const closed = sim.kubeconfig().replace(sim.url, "https://127.0.0.1:9");
    const unreachable = await register("closed", closed);
    expect(unreachable.juanie.code).toBe("INVALID_INPUT");
    expect(unreachable.juanie.fieldErrors?.["connection.kubeconfig"]?.[0]).toMatch(/cannot reach|refused/i);

    // The other simulator's CA does not sign this one's certificate.
    const wrongCa = sim
      .kubeconfig()
      .replace(Buffer.from(sim.certificate).toString("base64"), Buffer.from(other.certificate).toString("base64"));
    const tls = await register("wrong-ca", wrongCa);
    expect(tls.juanie.fieldErrors?.["connection.kubeconfig"]?.[0]).toMatch(/certificate/i);

    const badToken = await register("bad-token", sim.kubeconfig({ token: "not-a-token" }));
    expect(badToken.juanie.fieldErrors?.["connection.kubeconfig"]?.[0]).toMatch(/401|credentials|unauthori/i);

    const forbidden = await register("no-nodes", sim.kubeconfig({ token: "no-nodes-token" }));
    expect(forbidden.juanie.fieldErrors?.["connection.kubeconfig"]?.[0]).toMatch(/forbidden|403/i);

    const exec = sim
      .kubeconfig()
      .replace(
        /users:\n(\s+)- name: (\S+)\n\s+user:\n\s+token: \S+/,
        "users:\n$1- name: $2\n$1  user:\n$1    exec:\n$1      apiVersion: client.authentication.k8s.io/v1\n$1      command: aws",
      );
    expect(exec).toContain("command: aws");
    const refused = await register("exec", exec);
    expect(refused.juanie.fieldErrors?.["connection.kubeconfig"]?.[0]).toMatch(/exec/);

    const listed = await w.admin.api.clusters.list.query({ organizationId: w.org.id });
    expect(listed.map((c) => c.name)).toEqual(["k3s-dev"]);
  });

  it("only organization admins manage clusters: others get 403, audited as denied, and the cluster is not contacted", async () => {
    const before = await lastAuditId(w.back);
    const denied = await failure(
      w.s.alice.api.clusters.register.mutate({
        organizationId: w.org.id,
        name: "sneaky",
        connection: { type: "kubeconfig", kubeconfig: sim.kubeconfig() },
      }),
    );
    expect(denied.juanie.code).toBe("FORBIDDEN");
    expect(denied.juanie.requiredRole).toBe("organization admin");
    const entries = await auditSince(w.back, before);
    expect(entries.map((e) => [e.action, e.result])).toContainEqual(["cluster.register", "denied"]);
    // Members see the clusters (to bind environments), without credentials.
    const seen = await w.s.alice.api.clusters.list.query({ organizationId: w.org.id });
    expect(seen.map((c) => c.name)).toEqual(["k3s-dev"]);
    const [c] = seen;
    const checkDenied = await failure(w.s.alice.api.clusters.check.mutate({ clusterId: c!.id }));
    expect(checkDenied.juanie.code).toBe("FORBIDDEN");
  });

  it("binds an environment to a cluster without Flux: the environment says Flux must be installed first", async () => {
    const [c] = await w.admin.api.clusters.list.query({ organizationId: w.org.id });
    const envs = await w.admin.api.environments.list.query({ projectId: w.project.id });
    const dev = envs.find((e) => e.name === "development")!;
    const updated = await w.admin.api.environments.update.mutate({
      environmentId: dev.id,
      name: dev.name,
      type: dev.type,
      cloudProvider: dev.cloudProvider as null,
      region: dev.region,
      approvalRequired: dev.approvalRequired,
      minApprovals: dev.minApprovals,
      gitops: { ...dev.gitops, clusterId: c!.id },
    });
    expect(updated.cluster).toMatchObject({ name: "k3s-dev", namespace: "shop-development", gitopsState: "applying" });
    // No Flux in this cluster: the GitRepository kind is not served, and the environment says so.
    const failed = await waitFor(
      () => w.admin.api.environments.list.query({ projectId: w.project.id }),
      (l) => l.find((e) => e.id === dev.id)?.cluster?.gitopsState === "error",
      20_000,
    );
    const message = failed.find((e) => e.id === dev.id)?.cluster?.gitopsError ?? "";
    expect(message).toBe(
      `Flux is not installed in the cluster "k3s-dev": install or adopt it in the organization's Clusters settings first`,
    );
  });

  it("tells organization admins in-app when a Flux controller turns unhealthy (once, not at every check)", async () => {
    const fluxed = await startKubeSim({ flux: { preinstalled: true } });
    try {
      const c = await w.admin.api.clusters.register.mutate({
        organizationId: w.org.id,
        name: "watched",
        connection: { type: "kubeconfig", kubeconfig: fluxed.kubeconfig() },
      });
      await waitFor(
        () => w.admin.api.clusters.flux.query({ clusterId: c.id }),
        (f) => f.healthy,
        30_000,
      );
      // Let the periodic check see it healthy first, then lose a controller.
      await waitFor(
        async () =>
          (
            await w.back.handle.db.execute<{ h: string | null }>(
              sql`select flux_health as h from clusters where id = ${c.id}`,
            )
          ).rows[0]?.h,
        (h) => h === "healthy",
        20_000,
      );
      fluxed.store.delete(fluxed.type("apps/v1", "Deployment"), "flux-system", "kustomize-controller", {});
      const notes = await waitFor(
        () => w.admin.api.notifications.list.query({ unreadOnly: false, limit: 50 }),
        (p) => p.items.some((n) => n.kind === "cluster.flux_unhealthy"),
        20_000,
      );
      const note = notes.items.find((n) => n.kind === "cluster.flux_unhealthy")!;
      expect(note.data).toMatchObject({ clusterName: "watched", components: "kustomize-controller" });
      // Not repeated at the next checks.
      await new Promise((r) => setTimeout(r, 2_500));
      const again = await w.admin.api.notifications.list.query({ unreadOnly: false, limit: 50 });
      expect(again.items.filter((n) => n.kind === "cluster.flux_unhealthy")).toHaveLength(1);
      // A project maintainer who is not an organization admin is not told.
      const alice = await w.s.alice.api.notifications.list.query({ unreadOnly: false, limit: 50 });
      expect(alice.items.some((n) => n.kind === "cluster.flux_unhealthy")).toBe(false);
    } finally {
      await fluxed.close();
    }
  }, 90_000);
});
