import { type KubeSim, startKubeSim } from "@juanie/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyObjects, deleteObject, ensureNamespace, getObject } from "./apply.ts";
import { ClusterError } from "./client.ts";
import { crd } from "./flux.testing.ts";
import { assertKubeName, isDns1123Label, isDns1123Subdomain, KubeNameError } from "./names.ts";
import type { KubeObject } from "./objects.ts";
import { recordRequests, simCluster } from "./sim.testing.ts";

let sim: KubeSim;
beforeAll(async () => {
  sim = await startKubeSim({ workloads: false, users: { "reader-token": { user: "reader", readOnly: true } } });
});
afterAll(async () => {
  await sim?.close();
});

const configMap = (data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "settings", namespace: "team-a", labels: { app: "web" } },
  data,
});

describe("names", () => {
  it("follows DNS-1123", () => {
    expect(isDns1123Label("web-1")).toBe(true);
    expect(isDns1123Label("Web")).toBe(false);
    expect(isDns1123Label("-web")).toBe(false);
    expect(isDns1123Label("web-")).toBe(false);
    expect(isDns1123Label("a".repeat(63))).toBe(true);
    expect(isDns1123Label("a".repeat(64))).toBe(false);
    expect(isDns1123Label("a.b")).toBe(false);
    expect(isDns1123Subdomain("a.b-c.d")).toBe(true);
    expect(isDns1123Subdomain("a..b")).toBe(false);
    expect(isDns1123Subdomain(`${"a".repeat(63)}.`.repeat(4).slice(0, 254))).toBe(false);
    expect(() => assertKubeName("namespace", "Team_A", "label")).toThrow(
      `namespace "Team_A" is not a valid Kubernetes name: use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
    );
    expect(() => assertKubeName("name", "x".repeat(64), "label")).toThrow(/64 characters long; at most 63/);
  });
});

describe("applyObjects", () => {
  it("applies by server-side apply, idempotently, with field manager juanie", async () => {
    const c = simCluster(sim);
    await ensureNamespace(c, "team-a", { team: "a" });
    const [first] = await applyObjects(c, [configMap({ color: "blue" })]);
    const [second] = await applyObjects(c, [configMap({ color: "blue" })]);
    expect(second!.metadata.resourceVersion).toBe(first!.metadata.resourceVersion);
    const stored = await getObject(c, { apiVersion: "v1", kind: "ConfigMap", namespace: "team-a", name: "settings" });
    expect(stored?.data).toEqual({ color: "blue" });
    const managers = (stored!.metadata.managedFields as { manager: string; operation: string }[]).map((m) => [
      m.manager,
      m.operation,
    ]);
    expect(managers).toEqual([["juanie", "Apply"]]);
    const ns = await getObject(c, { apiVersion: "v1", kind: "Namespace", name: "team-a" });
    expect(ns?.metadata.labels).toMatchObject({ team: "a", "app.kubernetes.io/managed-by": "juanie" });

    const [third] = await applyObjects(c, [configMap({ color: "green" })]);
    expect(third!.metadata.resourceVersion).not.toBe(first!.metadata.resourceVersion);
    expect(third!.data).toEqual({ color: "green" });
  });

  it("sends CRD schemas whole (x-kubernetes-* fields survive) and returns plain JSON", async () => {
    const c = simCluster(sim);
    const [stored] = await applyObjects(c, [crd("widgets.juanie.dev", "Widget", "widgets")]);
    const versions = (stored!.spec as { versions: { schema: unknown }[] }).versions;
    expect(versions[0]!.schema).toEqual({
      openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    });
    expect(typeof stored!.metadata.creationTimestamp).toBe("string");
  });

  it("refuses invalid names before sending any request", async () => {
    const c = simCluster(sim);
    const rec = recordRequests(sim);
    try {
      const bad = { ...configMap({}), metadata: { name: "Settings_1", namespace: "team-a" } };
      let error: unknown;
      try {
        await applyObjects(c, [configMap({ a: "1" }), bad]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(KubeNameError);
      expect((error as KubeNameError).field).toBe("objects[1].metadata.name");
      await expect(ensureNamespace(c, "Team A")).rejects.toThrow(/namespace "Team A" is not a valid Kubernetes name/);
      await expect(
        getObject(c, { apiVersion: "v1", kind: "ConfigMap", namespace: "x".repeat(64), name: "a" }),
      ).rejects.toThrow(/namespace .* at most 63/);
      expect(rec.requests).toEqual([]);
    } finally {
      rec.stop();
    }
  });

  it("deletes, treating an already missing object as done", async () => {
    const c = simCluster(sim);
    await ensureNamespace(c, "team-b");
    await applyObjects(c, [{ ...configMap({}), metadata: { name: "gone", namespace: "team-b" } }]);
    const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: "team-b", name: "gone" };
    expect(await deleteObject(c, ref)).toBe(true);
    expect(await getObject(c, ref)).toBeNull();
    expect(await deleteObject(c, ref)).toBe(false);
    expect(
      await deleteObject(c, { apiVersion: "example.com/v1", kind: "Widget", namespace: "team-b", name: "w" }),
    ).toBe(false);
  });

  it("fails with forbidden when the credentials are read-only", async () => {
    const c = simCluster(sim, { token: "reader-token" });
    const e = await applyObjects(c, [configMap({ x: "1" })]).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ClusterError);
    expect((e as ClusterError).reason).toBe("forbidden");
    expect((e as ClusterError).message).toMatch(/^forbidden: /);
  });
});
