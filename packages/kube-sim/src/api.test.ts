import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeSim, startKubeSim } from "./cluster.ts";
import { request, watch } from "./http.testing.ts";
import { isObject, type JsonObject } from "./json.ts";

// The API machinery at the HTTP level: what any client sees, beyond what kubectl happens to exercise.
let sim: KubeSim;
const CM = "/api/v1/namespaces/default/configmaps";
const DEPLOY = "/apis/apps/v1/namespaces/default/deployments";

beforeAll(async () => {
  sim = await startKubeSim({ workloads: { podStartMs: 30 }, crdEstablishDelayMs: 500 });
});
afterAll(async () => {
  await sim?.close();
});

const meta = (o: JsonObject) => o.metadata as JsonObject;

describe("discovery", () => {
  it("answers the aggregated discovery kubectl asks for, and the classic documents", async () => {
    const accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    const agg = await request(sim, "GET", "/apis", { accept });
    expect(agg.contentType).toBe("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    const apps = (agg.json.items as JsonObject[]).find((g) => meta(g).name === "apps") as JsonObject;
    const v1 = (apps.versions as JsonObject[])[0] as JsonObject;
    const deployments = (v1.resources as JsonObject[]).find((r) => r.resource === "deployments");
    expect(deployments).toMatchObject({
      responseKind: { group: "apps", version: "v1", kind: "Deployment" },
      scope: "Namespaced",
      shortNames: ["deploy"],
      subresources: [
        { subresource: "status", verbs: ["get", "patch", "update"] },
        { subresource: "scale", responseKind: { group: "autoscaling", version: "v1", kind: "Scale" } },
      ],
    });
    const classic = await request(sim, "GET", "/apis");
    expect(classic.json.kind).toBe("APIGroupList");
    const core = await request(sim, "GET", "/api/v1");
    expect((core.json.resources as JsonObject[]).map((r) => r.name)).toEqual(
      expect.arrayContaining(["pods", "pods/log", "namespaces"]),
    );
  });

  it("serves a CRD's group only once the CRD is Established", async () => {
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "gitrepositories.source.toolkit.fluxcd.io" },
      spec: {
        group: "source.toolkit.fluxcd.io",
        names: {
          kind: "GitRepository",
          plural: "gitrepositories",
          singular: "gitrepository",
          listKind: "GitRepositoryList",
        },
        scope: "Namespaced",
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: { openAPIV3Schema: { type: "object" } },
          },
        ],
      },
    };
    const created = await request(sim, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
      body: crd,
    });
    expect(created.status).toBe(201);
    const early = await request(sim, "GET", "/apis/source.toolkit.fluxcd.io/v1/namespaces/default/gitrepositories");
    expect(early.status).toBe(404);
    let list = early;
    for (let i = 0; i < 100 && list.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 20));
      list = await request(sim, "GET", "/apis/source.toolkit.fluxcd.io/v1/namespaces/default/gitrepositories");
    }
    expect(list.json).toMatchObject({
      kind: "GitRepositoryList",
      apiVersion: "source.toolkit.fluxcd.io/v1",
      items: [],
    });
    const got = await request(
      sim,
      "GET",
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gitrepositories.source.toolkit.fluxcd.io",
    );
    const conditions = (got.json.status as JsonObject).conditions as JsonObject[];
    expect(conditions.find((c) => c.type === "Established")?.status).toBe("True");
  });
});

describe("errors and auth", () => {
  it("answers 401 with a Status without a valid token, and serves /version to anyone", async () => {
    const denied = await request(sim, "GET", CM, { token: "wrong" });
    expect(denied.status).toBe(401);
    expect(denied.json).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "Unauthorized",
      reason: "Unauthorized",
      code: 401,
    });
    const version = await request(sim, "GET", "/version", { token: null });
    expect(version.json.gitVersion).toBe("v1.35.0+juanie-simulator");
  });

  it("refuses expired tokens (401) and resources RBAC would deny (403)", async () => {
    const other = await startKubeSim({
      workloads: false,
      users: {
        expired: { user: "old", expiresAt: new Date(Date.now() - 1000) },
        limited: { user: "system:serviceaccount:juanie:agent", forbidden: ["nodes"] },
      },
    });
    try {
      expect((await request(other, "GET", "/api/v1/namespaces", { token: "expired" })).status).toBe(401);
      const nodes = await request(other, "GET", "/api/v1/nodes", { token: "limited" });
      expect(nodes.json).toMatchObject({
        code: 403,
        reason: "Forbidden",
        message:
          'nodes is forbidden: User "system:serviceaccount:juanie:agent" cannot list resource "nodes" in API group "" at the cluster scope',
      });
      expect((await request(other, "GET", "/api/v1/namespaces", { token: "limited" })).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it("names the resource in NotFound and AlreadyExists", async () => {
    const missing = await request(sim, "GET", `${DEPLOY}/nope`);
    expect(missing.json).toMatchObject({ code: 404, reason: "NotFound", message: 'deployments.apps "nope" not found' });
    await request(sim, "POST", CM, { body: { metadata: { name: "dup" } } });
    const dup = await request(sim, "POST", CM, { body: { metadata: { name: "dup" } } });
    expect(dup.json).toMatchObject({ code: 409, reason: "AlreadyExists", message: 'configmaps "dup" already exists' });
  });
});

describe("writes", () => {
  it("bumps generation on spec changes only; status goes through the status subresource", async () => {
    const body = {
      metadata: { name: "gen" },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "gen" } },
        template: { metadata: { labels: { app: "gen" } }, spec: { containers: [{ name: "c", image: "x" }] } },
      },
      status: { replicas: 99 },
    };
    const created = await request(sim, "POST", DEPLOY, { body });
    expect(meta(created.json).generation).toBe(1);
    expect((created.json.status as JsonObject | undefined)?.replicas).toBeUndefined();
    const label = await request(sim, "PATCH", `${DEPLOY}/gen`, {
      body: { metadata: { labels: { a: "b" } }, status: { replicas: 5 } },
      contentType: "application/merge-patch+json",
    });
    expect(meta(label.json).generation).toBe(1);
    expect((label.json.status as JsonObject | undefined)?.replicas).not.toBe(5);
    const spec = await request(sim, "PATCH", `${DEPLOY}/gen`, {
      body: { spec: { paused: true } },
      contentType: "application/merge-patch+json",
    });
    expect(meta(spec.json).generation).toBe(2);
    const status = await request(sim, "PATCH", `${DEPLOY}/gen/status`, {
      body: { spec: { paused: false }, status: { observedGeneration: 2 } },
      contentType: "application/merge-patch+json",
    });
    expect(status.json).toMatchObject({ spec: { paused: true }, status: { observedGeneration: 2 } });
    expect(meta(status.json).generation).toBe(2);
  });

  it("keeps an object with finalizers until the last one is removed", async () => {
    await request(sim, "POST", CM, { body: { metadata: { name: "held", finalizers: ["example.com/cleanup"] } } });
    const w = watch(sim, `${CM}?watch=1&fieldSelector=metadata.name%3Dheld`);
    await w.until(1);
    const deleting = await request(sim, "DELETE", `${CM}/held`);
    expect(meta(deleting.json).deletionTimestamp).toBeTruthy();
    expect((await request(sim, "GET", `${CM}/held`)).status).toBe(200);
    await request(sim, "PATCH", `${CM}/held`, {
      body: [{ op: "remove", path: "/metadata/finalizers" }],
      contentType: "application/json-patch+json",
    });
    expect((await request(sim, "GET", `${CM}/held`)).status).toBe(404);
    const events = await w.until(4);
    w.stop();
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "MODIFIED", "DELETED"]);
  });

  it("strategic merge patch honours $patch: delete, $setElementOrder and $deleteFromPrimitiveList", async () => {
    const body: JsonObject = {
      metadata: { name: "smp", finalizers: ["a/x", "a/y"] },
      spec: {
        selector: { matchLabels: { app: "smp" } },
        replicas: 0,
        template: {
          metadata: { labels: { app: "smp" } },
          spec: {
            containers: [
              {
                name: "one",
                image: "i1",
                env: [
                  { name: "A", value: "1" },
                  { name: "B", value: "2" },
                ],
              },
              { name: "two", image: "i2" },
            ],
          },
        },
      },
    };
    await request(sim, "POST", DEPLOY, { body });
    const patched = await request(sim, "PATCH", `${DEPLOY}/smp`, {
      contentType: "application/strategic-merge-patch+json",
      body: {
        metadata: { "$deleteFromPrimitiveList/finalizers": ["a/x"] },
        spec: {
          template: {
            spec: {
              "$setElementOrder/containers": [{ name: "two" }, { name: "one" }],
              containers: [{ name: "one", env: [{ name: "A", $patch: "delete" }] }],
            },
          },
        },
      },
    });
    expect(patched.status).toBe(200);
    const spec = ((patched.json.spec as JsonObject).template as JsonObject).spec as JsonObject;
    expect(spec.containers).toEqual([
      expect.objectContaining({ name: "two", image: "i2" }),
      expect.objectContaining({ name: "one", image: "i1", env: [{ name: "B", value: "2" }] }),
    ]);
    expect(meta(patched.json).finalizers).toEqual(["a/y"]);
    await request(sim, "PATCH", `${DEPLOY}/smp`, {
      body: [{ op: "remove", path: "/metadata/finalizers" }],
      contentType: "application/json-patch+json",
    });
  });

  it("server-side apply records FieldsV1, removes fields a manager stops applying and keeps shared ones", async () => {
    const apply = (manager: string, data: JsonObject) =>
      request(sim, "PATCH", `${CM}/ssa?fieldManager=${manager}`, {
        contentType: "application/apply-patch+yaml",
        body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa" }, data },
      });
    const created = await apply("juanie", { a: "1", b: "2" });
    expect(created.status).toBe(201);
    expect(meta(created.json).managedFields).toEqual([
      expect.objectContaining({
        manager: "juanie",
        operation: "Apply",
        apiVersion: "v1",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:data": { "f:a": {}, "f:b": {} } },
      }),
    ]);
    // Applying the same configuration again (a second later) changes nothing, not even the resourceVersion.
    await new Promise((r) => setTimeout(r, 1100));
    const again = await apply("juanie", { a: "1", b: "2" });
    expect(meta(again.json).resourceVersion).toBe(meta(created.json).resourceVersion);
    await apply("other", { b: "2" });
    const dropped = await apply("juanie", { a: "1" });
    // b stays: "other" still applies it. Had nobody else owned it, it would be gone.
    expect(dropped.json.data).toEqual({ a: "1", b: "2" });
    const gone = await apply("other", {});
    expect(gone.json.data).toEqual({ a: "1" });
    const noManager = await request(sim, "PATCH", `${CM}/ssa`, {
      contentType: "application/apply-patch+yaml",
      body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n",
    });
    expect(noManager.json).toMatchObject({ code: 422, reason: "Invalid" });
  });

  it("server-side apply merges keyed lists item by item and drops the items a manager no longer applies", async () => {
    const apply = (manager: string, containers: JsonObject[]) =>
      request(sim, "PATCH", `${DEPLOY}/keyed?fieldManager=${manager}`, {
        contentType: "application/apply-patch+yaml",
        body: {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "keyed" },
          spec: {
            replicas: 0,
            selector: { matchLabels: { app: "keyed" } },
            template: { metadata: { labels: { app: "keyed" } }, spec: { containers } },
          },
        },
      });
    await apply("flux", [
      {
        name: "app",
        image: "app:1",
        env: [
          { name: "A", value: "1" },
          { name: "B", value: "2" },
        ],
      },
      { name: "sidecar", image: "proxy:1" },
    ]);
    const second = await apply("flux", [{ name: "app", image: "app:2", env: [{ name: "A", value: "1" }] }]);
    const containers = (((second.json.spec as JsonObject).template as JsonObject).spec as JsonObject)
      .containers as JsonObject[];
    expect(containers.map((c) => [c.name, c.image, c.env])).toEqual([["app", "app:2", [{ name: "A", value: "1" }]]]);
    const fields = (meta(second.json).managedFields as JsonObject[]).find((f) => f.manager === "flux") as JsonObject;
    const containerFields = (
      (((fields.fieldsV1 as JsonObject)["f:spec"] as JsonObject)["f:template"] as JsonObject)["f:spec"] as JsonObject
    )["f:containers"] as JsonObject;
    expect(Object.keys(containerFields)).toEqual(['k:{"name":"app"}']);
  });

  it("does not persist dryRun=All writes", async () => {
    const dry = await request(sim, "POST", `${CM}?dryRun=All`, { body: { metadata: { name: "dry" } } });
    expect(dry.status).toBe(201);
    expect((await request(sim, "GET", `${CM}/dry`)).status).toBe(404);
  });
});

describe("lists and watches", () => {
  it("pages a list with limit and continue", async () => {
    for (const n of ["p1", "p2", "p3"]) {
      await request(sim, "POST", CM, { body: { metadata: { name: n, labels: { page: "yes" } } } });
    }
    const first = await request(sim, "GET", `${CM}?labelSelector=page%3Dyes&limit=2`);
    expect((first.json.items as JsonObject[]).map((o) => meta(o).name)).toEqual(["p1", "p2"]);
    const token = (first.json.metadata as JsonObject).continue as string;
    expect((first.json.metadata as JsonObject).remainingItemCount).toBe(1);
    const rest = await request(sim, "GET", `${CM}?labelSelector=page%3Dyes&limit=2&continue=${token}`);
    expect((rest.json.items as JsonObject[]).map((o) => meta(o).name)).toEqual(["p3"]);
  });

  it("turns label changes into ADDED/DELETED for a selector watch, and resumes from a resourceVersion", async () => {
    const start = String(sim.store.resourceVersion);
    const w = watch(sim, `${CM}?watch=true&labelSelector=team%3Dblue&resourceVersion=${start}`);
    await request(sim, "POST", CM, { body: { metadata: { name: "sel" } } });
    await request(sim, "PATCH", `${CM}/sel`, {
      body: { metadata: { labels: { team: "blue" } } },
      contentType: "application/merge-patch+json",
    });
    await request(sim, "PATCH", `${CM}/sel`, {
      body: { data: { x: "1" } },
      contentType: "application/merge-patch+json",
    });
    await request(sim, "PATCH", `${CM}/sel`, {
      body: { metadata: { labels: { team: "red" } } },
      contentType: "application/merge-patch+json",
    });
    const events = await w.until(3);
    w.stop();
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    // The same history, replayed to a watch that starts at the old resourceVersion.
    const replay = watch(sim, `${CM}?watch=true&labelSelector=team%3Dblue&resourceVersion=${start}`);
    expect((await replay.until(3)).map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    replay.stop();
  });

  it("sends initial events then a bookmark marking their end (sendInitialEvents)", async () => {
    const w = watch(
      sim,
      `${CM}?watch=true&labelSelector=page%3Dyes&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`,
    );
    const events = await w.until(4);
    w.stop();
    expect(events.map((e) => e.type)).toEqual(["ADDED", "ADDED", "ADDED", "BOOKMARK"]);
    expect(meta(events[3]?.object as JsonObject).annotations).toEqual({ "k8s.io/initial-events-end": "true" });
  });

  it("deletes a namespace with everything in it", async () => {
    await request(sim, "POST", "/api/v1/namespaces", { body: { metadata: { name: "doomed" } } });
    await request(sim, "POST", "/api/v1/namespaces/doomed/configmaps", { body: { metadata: { name: "inside" } } });
    const deleted = await request(sim, "DELETE", "/api/v1/namespaces/doomed");
    expect(deleted.status).toBe(200);
    expect((await request(sim, "GET", "/api/v1/namespaces/doomed")).status).toBe(404);
    expect((await request(sim, "GET", "/api/v1/namespaces/doomed/configmaps/inside")).status).toBe(404);
  });
});

describe("workloads", () => {
  const deployment = (name: string, replicas: number, image: string, extra: JsonObject = {}) => ({
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
      ...extra,
    },
  });
  const statusOf = async (name: string) =>
    (await request(sim, "GET", `${DEPLOY}/${name}`)).json.status as JsonObject | undefined;
  const until = async (check: () => Promise<boolean>, what: string) => {
    const start = Date.now();
    while (!(await check())) {
      if (Date.now() - start > 5000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it("rolls a new template out: old pods stay until the new ones are ready; scale changes the count", async () => {
    await request(sim, "POST", DEPLOY, { body: deployment("roll", 2, "app:1") });
    await until(async () => (await statusOf("roll"))?.readyReplicas === 2, "2 ready replicas");
    await request(sim, "PATCH", `${DEPLOY}/roll`, {
      body: { spec: { template: { spec: { containers: [{ name: "roll", image: "app:2" }] } } } },
      contentType: "application/strategic-merge-patch+json",
    });
    await until(async () => {
      const s = await statusOf("roll");
      return s?.observedGeneration === 2 && s.updatedReplicas === 2 && s.replicas === 2 && s.readyReplicas === 2;
    }, "the rollout");
    const pods = async () => {
      const list = await request(sim, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Droll");
      return (list.json.items as JsonObject[]).map((p) => ({
        image: (((p.spec as JsonObject).containers as JsonObject[])[0] as JsonObject).image,
        terminating: meta(p).deletionTimestamp !== undefined,
      }));
    };
    // The old pods are Terminating first (graceful deletion), then the kubelet removes them.
    expect((await pods()).filter((p) => p.image === "app:1").every((p) => p.terminating)).toBe(true);
    await until(async () => (await pods()).every((p) => p.image === "app:2"), "the old pods to go");
    expect(await pods()).toEqual([
      { image: "app:2", terminating: false },
      { image: "app:2", terminating: false },
    ]);
    const scale = await request(sim, "PATCH", `${DEPLOY}/roll/scale`, {
      body: { spec: { replicas: 3 } },
      contentType: "application/merge-patch+json",
    });
    expect(scale.json).toMatchObject({ kind: "Scale", spec: { replicas: 3 } });
    await until(async () => (await statusOf("roll"))?.readyReplicas === 3, "3 ready replicas");
  });

  it("reports ProgressDeadlineExceeded when pods cannot start", async () => {
    await request(sim, "POST", DEPLOY, {
      body: deployment("stuck", 1, "app:does-not-exist", { progressDeadlineSeconds: 1 }),
    });
    await until(async () => {
      const conditions = ((await statusOf("stuck"))?.conditions ?? []) as JsonObject[];
      return conditions.some((c) => isObject(c) && c.type === "Progressing" && c.reason === "ProgressDeadlineExceeded");
    }, "ProgressDeadlineExceeded");
    const status = await statusOf("stuck");
    expect(status).toMatchObject({ replicas: 1, updatedReplicas: 1, unavailableReplicas: 1 });
    expect(status?.readyReplicas).toBeUndefined();
    const pods = await request(sim, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dstuck");
    const pod = (pods.json.items as JsonObject[])[0] as JsonObject;
    expect((pod.status as JsonObject).containerStatuses).toEqual([
      expect.objectContaining({
        ready: false,
        state: { waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "app:does-not-exist"' } },
      }),
    ]);
  });
});
