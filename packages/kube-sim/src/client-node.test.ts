import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  Watch,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeSim, startKubeSim } from "./cluster.ts";
import type { ResourceType } from "./resources.ts";

// Conformance with the official JavaScript client (the one packages/kube will use): informers, watches
// with bookmarks, 410 Gone, server-side apply conflicts and optimistic concurrency.
let sim: KubeSim;
let kc: KubeConfig;
let core: CoreV1Api;
let configMaps: ResourceType;
const NS = "informed";

const until = async (check: () => boolean, what: string, timeoutMs = 5000) => {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const cm = (name: string, data: Record<string, string> = { a: "1" }) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: NS },
  data,
});

beforeAll(async () => {
  sim = await startKubeSim({ bookmarkIntervalMs: 100, workloads: false });
  kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig());
  core = kc.makeApiClient(CoreV1Api);
  configMaps = sim.type("v1", "ConfigMap");
  await core.createNamespace({ body: { metadata: { name: NS } } });
});

afterAll(async () => {
  await sim?.close();
});

describe("@kubernetes/client-node against the simulated cluster", () => {
  it("keeps an informer's cache in step: add, update, delete", async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: cm("before") });
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${NS}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: NS }),
    );
    const seen: string[] = [];
    informer.on("add", (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on("update", (o) => seen.push(`update ${o.metadata?.name} ${o.data?.a}`));
    informer.on("delete", (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: NS, body: cm("live") });
    await core.patchNamespacedConfigMap(
      { name: "live", namespace: NS, body: { data: { a: "2" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ name: "before", namespace: NS });
    await until(() => seen.length >= 4, "four informer events");
    await informer.stop();
    expect(seen).toEqual(["add before", "add live", "update live 2", "delete before"]);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(["live"]);
  });

  it("re-lists when its watch resumes from a compacted resourceVersion (410 Gone)", async () => {
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${NS}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: NS }),
    );
    const events: string[] = [];
    informer.on("add", (o) => events.push(`add ${o.metadata?.name}`));
    informer.on("delete", (o) => events.push(`delete ${o.metadata?.name}`));
    await informer.start();
    await until(() => events.includes("add live"), "the initial list");
    // While the informer is disconnected, things change and the history is compacted: the resumed
    // watch gets 410 and only a fresh list can tell it what happened.
    sim.server.dropWatches();
    sim.store.delete(configMaps, NS, "live");
    sim.store.create(configMaps, NS, cm("arrived-while-away"), { manager: "test" });
    sim.store.compact();
    await until(() => events.includes("add arrived-while-away") && events.includes("delete live"), "the re-list");
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(["arrived-while-away"]);
    // The informer kept watching after the re-list.
    sim.store.create(configMaps, NS, cm("after-relist"), { manager: "test" });
    await until(() => events.includes("add after-relist"), "an event after the re-list");
    await informer.stop();
  });

  it("sends a 410 ERROR event to a raw watch from a compacted resourceVersion", async () => {
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    const staleRv = list.metadata?.resourceVersion as string;
    sim.store.create(configMaps, NS, cm("newer"), { manager: "test" });
    sim.store.compact();
    const received: { type: string; code?: number; reason?: string }[] = [];
    await new Promise<void>((resolve) => {
      void new Watch(kc).watch(
        `/api/v1/namespaces/${NS}/configmaps`,
        { resourceVersion: staleRv },
        (type, object: { code?: number; reason?: string }) =>
          received.push({ type, code: object.code, reason: object.reason }),
        () => resolve(),
      );
    });
    expect(received).toEqual([{ type: "ERROR", code: 410, reason: "Expired" }]);
  });

  it("delivers bookmarks with the current resourceVersion to a watch that asks for them", async () => {
    const bookmarks: string[] = [];
    const events: string[] = [];
    const controller = await new Watch(kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { allowWatchBookmarks: true, resourceVersion: String(sim.store.resourceVersion) },
      (type, object: { metadata?: { name?: string; resourceVersion?: string } }) => {
        if (type === "BOOKMARK") bookmarks.push(object.metadata?.resourceVersion ?? "");
        else events.push(`${type} ${object.metadata?.name}`);
      },
      () => {},
    );
    sim.store.create(configMaps, NS, cm("bookmarked"), { manager: "test" });
    await until(() => bookmarks.length >= 2, "two bookmarks");
    controller.abort();
    expect(events).toEqual(["ADDED bookmarked"]);
    expect(Number(bookmarks[bookmarks.length - 1])).toBe(sim.store.resourceVersion);
  });

  it("refuses a server-side apply that changes another manager's field (409) unless forced", async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const apply = (data: Record<string, string>, manager: string, force = false) =>
      objects.patch<V1ConfigMap>(
        cm("owned", data),
        undefined,
        undefined,
        manager,
        force,
        PatchStrategy.ServerSideApply,
      );
    await apply({ a: "1" }, "flux");
    const error = await apply({ a: "2" }, "juanie").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    const api = error as ApiException<string>;
    expect(api.code).toBe(409);
    const status = JSON.parse(api.body) as {
      reason: string;
      message: string;
      details: { causes: { field: string }[] };
    };
    expect(status.reason).toBe("Conflict");
    expect(status.message).toBe('Apply failed with 1 conflict: conflict with "flux": .data.a');
    expect(status.details.causes[0]?.field).toBe(".data.a");
    const forced = await apply({ a: "2" }, "juanie", true);
    expect(forced.data).toEqual({ a: "2" });
    const managers = (forced.metadata?.managedFields ?? []).map((f) => `${f.manager}:${f.operation}`);
    expect(managers).toEqual(expect.arrayContaining(["juanie:Apply"]));
    // "flux" lost the field it was forced out of; applying its old value again now conflicts with juanie.
    const back = await apply({ a: "1" }, "flux").catch((e: unknown) => e);
    expect((back as ApiException<string>).code).toBe(409);
  });

  it("refuses an update with a stale resourceVersion (409) and reports kind: Status errors", async () => {
    const current = await core.readNamespacedConfigMap({ name: "owned", namespace: NS });
    await core.replaceNamespacedConfigMap({ name: "owned", namespace: NS, body: { ...current, data: { a: "3" } } });
    const stale = await core
      .replaceNamespacedConfigMap({ name: "owned", namespace: NS, body: { ...current, data: { a: "4" } } })
      .catch((e: unknown) => e);
    expect((stale as ApiException<string>).code).toBe(409);
    expect(JSON.parse((stale as ApiException<string>).body)).toMatchObject({
      kind: "Status",
      reason: "Conflict",
      message:
        'Operation cannot be fulfilled on configmaps "owned": the object has been modified; please apply your changes to the latest version and try again',
    });
    const missing = await core.readNamespacedConfigMap({ name: "nope", namespace: NS }).catch((e: unknown) => e);
    expect((missing as ApiException<string>).code).toBe(404);
    expect(JSON.parse((missing as ApiException<string>).body)).toMatchObject({
      kind: "Status",
      reason: "NotFound",
      message: 'configmaps "nope" not found',
    });
  });
});
