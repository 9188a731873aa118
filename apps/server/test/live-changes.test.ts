import { type KubeSim, startKubeSim } from "@juanie/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitopsWorld, startGitopsWorld } from "./gitops-world.ts";
import type { Session } from "./harness.ts";
import { createUser, signIn, waitFor } from "./support.ts";

/** A subscription's items and errors, collected for assertions. */
function collect<T>(
  subscribe: (h: { onStarted(): void; onData(v: T): void; onError(e: unknown): void }) => {
    unsubscribe(): void;
  },
) {
  const got = { started: false, data: [] as T[], errors: [] as unknown[], unsubscribe: () => {} };
  const sub = subscribe({
    onStarted: () => {
      got.started = true;
    },
    onData: (v) => got.data.push(v),
    onError: (e) => got.errors.push(e),
  });
  got.unsubscribe = () => sub.unsubscribe();
  return got;
}

/**
 * The browser's live view of clusters and environments: `cluster.changed` reaches the organization's
 * members and `environment.changed` the project's readers, over SSE; outsiders hear nothing.
 */
describe("live cluster and environment changes", () => {
  let w: GitopsWorld;
  let sim: KubeSim;
  let outsider: Session;

  beforeAll(async () => {
    [w, sim] = await Promise.all([startGitopsWorld(), startKubeSim()]);
    outsider = await signIn(w.server, await createUser(w.back, "zed"));
  }, 120_000);
  afterAll(async () => {
    await w?.close();
    await sim?.close();
  });

  it("streams cluster changes to organization members, and tells an outsider the organization does not exist", async () => {
    const member = collect<{ clusterId: string }>((h) =>
      w.s.alice.api.clusters.onChange.subscribe({ organizationId: w.org.id }, h),
    );
    const stranger = collect<{ clusterId: string }>((h) =>
      outsider.api.clusters.onChange.subscribe({ organizationId: w.org.id }, h),
    );
    try {
      await waitFor(
        async () => member.started,
        (ok) => ok,
      );
      const c = await w.admin.api.clusters.register.mutate({
        organizationId: w.org.id,
        name: "live",
        connection: { type: "kubeconfig", kubeconfig: sim.kubeconfig() },
      });
      await waitFor(
        async () => member.data.length,
        (n) => n > 0,
      );
      expect(member.data).toContainEqual({ clusterId: c.id });

      // One cluster's stream hears that cluster only.
      const one = collect<{ clusterId: string }>((h) =>
        w.s.alice.api.clusters.onChange.subscribe({ clusterId: c.id }, h),
      );
      try {
        await waitFor(
          async () => one.started,
          (ok) => ok,
        );
        await w.admin.api.clusters.update.mutate({ clusterId: c.id, description: "watched live" });
        await waitFor(
          async () => one.data.length,
          (n) => n > 0,
        );
        // The cluster's own background check may report a change too; every
        // event on this stream is about this cluster.
        expect(one.data.length).toBeGreaterThan(0);
        for (const event of one.data) expect(event).toEqual({ clusterId: c.id });
        expect(one.errors).toEqual([]);
      } finally {
        one.unsubscribe();
      }

      await waitFor(
        async () => stranger.errors.length,
        (n) => n > 0,
      );
      expect(stranger.errors[0]).toMatchObject({ data: { httpStatus: 404 } });
      expect(stranger.data).toEqual([]);
      expect(member.errors).toEqual([]);
    } finally {
      member.unsubscribe();
      stranger.unsubscribe();
    }
  });

  it("streams an environment's Flux changes to project readers, and nothing to outsiders", async () => {
    const [c] = await w.admin.api.clusters.list.query({ organizationId: w.org.id });
    const reader = collect<{ environmentId: string }>((h) =>
      w.s.bob.api.environments.onChange.subscribe({ projectId: w.project.id }, h),
    );
    const stranger = collect<{ environmentId: string }>((h) =>
      outsider.api.environments.onChange.subscribe({ projectId: w.project.id }, h),
    );
    try {
      await waitFor(
        async () => reader.started,
        (ok) => ok,
      );
      const envs = await w.admin.api.environments.list.query({ projectId: w.project.id });
      const dev = envs.find((e) => e.name === "development");
      if (!dev || !c) throw new Error("world not prepared");
      await w.admin.api.environments.update.mutate({
        environmentId: dev.id,
        name: dev.name,
        type: dev.type,
        cloudProvider: null,
        region: dev.region,
        approvalRequired: dev.approvalRequired,
        minApprovals: dev.minApprovals,
        gitops: { ...dev.gitops, clusterId: c.id },
      });
      // The apply job reports back (here: Flux is missing in the cluster) and the reader hears of it.
      await waitFor(
        async () => reader.data.length,
        (n) => n > 0,
        20_000,
      );
      expect(reader.data[0]).toEqual({ environmentId: dev.id });
      expect(reader.errors).toEqual([]);
      await waitFor(
        async () => stranger.errors.length,
        (n) => n > 0,
      );
      expect(stranger.errors[0]).toMatchObject({ data: { httpStatus: 404 } });
      expect(stranger.data).toEqual([]);
    } finally {
      reader.unsubscribe();
      stranger.unsubscribe();
    }
  });
});
