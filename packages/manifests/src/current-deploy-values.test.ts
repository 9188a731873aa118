import { describe, expect, it } from "vitest";
import { currentDeployValues, detectConflicts, filesFromRecord, filesWithChanges, planDeploy } from "./index.ts";
import { overlayRepo } from "./test-fixtures.ts";

describe("currentDeployValues", () => {
  const repo = filesFromRecord(overlayRepo());

  it("reads an overlay through to its base", () => {
    expect(currentDeployValues(repo, "k8s/overlays/development")).toEqual({
      kind: "Deployment",
      workload: "web",
      workloads: [{ kind: "Deployment", name: "web", containers: ["web"] }],
      container: "web",
      containers: ["web"],
      image: "ghcr.io/org/web:1.0",
      replicas: 1,
      env: [{ name: "LOG_LEVEL", value: "info" }],
      valueFromEnv: ["DB_PASSWORD"],
      resources: { requests: { cpu: "100m", memory: "64Mi" } },
      readinessProbe: { type: "http", path: "/ready", port: "http", periodSeconds: 5 },
    });
  });

  it("applies the overlay's images: and replicas:", () => {
    expect(currentDeployValues(repo, "k8s/overlays/staging")).toMatchObject({
      image: "ghcr.io/org/web:1.1",
      replicas: 2,
    });
  });

  it("merges the overlay's patch over the base like kustomize does", () => {
    expect(currentDeployValues(repo, "k8s/overlays/production")).toMatchObject({
      image: "ghcr.io/org/web:1.0",
      replicas: 3,
      env: [{ name: "LOG_LEVEL", value: "warn" }],
      valueFromEnv: ["DB_PASSWORD"],
      resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
    });
  });

  it("follows an overlay of an overlay, and writes only into the outer one", () => {
    const files = overlayRepo();
    files["k8s/overlays/production-eu/kustomization.yaml"] = `resources:
  - ../production
images:
  - name: ghcr.io/org/web
    newName: eu.gcr.io/org/web
`;
    const repoEu = filesFromRecord(files);
    expect(currentDeployValues(repoEu, "k8s/overlays/production-eu")).toMatchObject({
      image: "eu.gcr.io/org/web:1.0",
      replicas: 3,
    });
    const plan = planDeploy(repoEu, "k8s/overlays/production-eu", { image: "eu.gcr.io/org/web:2.0", replicas: 6 });
    expect(plan.changes).toEqual({
      "k8s/overlays/production-eu/kustomization.yaml": `resources:
  - ../production
images:
  - name: ghcr.io/org/web
    newName: eu.gcr.io/org/web
    newTag: "2.0"
replicas:
  - name: web
    count: 6
`,
    });
    expect(currentDeployValues(filesWithChanges(repoEu, plan.changes), "k8s/overlays/production-eu")).toMatchObject({
      image: "eu.gcr.io/org/web:2.0",
      replicas: 6,
    });
  });

  it("reads a targeted inline patch", () => {
    const files = overlayRepo();
    files["k8s/overlays/development/kustomization.yaml"] += `patches:
  - target:
      kind: Deployment
      name: w.*
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: any
      spec:
        replicas: 7
`;
    expect(currentDeployValues(filesFromRecord(files), "k8s/overlays/development").replicas).toBe(7);
    // The inline patch is not edited: the count goes into replicas:, which kustomize applies after patches.
    const plan = planDeploy(filesFromRecord(files), "k8s/overlays/development", { replicas: 2 });
    expect(plan.changes["k8s/overlays/development/kustomization.yaml"]).toMatch(
      /replicas:\n {2}- name: web\n {4}count: 2\n$/,
    );
  });
});

describe("detectConflicts", () => {
  const base = filesFromRecord(overlayRepo());
  const headWith = (edit: (files: Record<string, string>) => void) => {
    const files = overlayRepo();
    edit(files);
    return filesFromRecord(files);
  };
  const staging = "k8s/overlays/staging/kustomization.yaml";
  const remoteImage = headWith((f) => {
    f[staging] = (f[staging] ?? "").replace('newTag: "1.1"', 'newTag: "1.5"');
  });
  const remoteReplicas = headWith((f) => {
    f[staging] = (f[staging] ?? "").replace("count: 2", "count: 4");
  });

  it("reports a field the remote changed to X when the user wants Y, with all three values", () => {
    expect(detectConflicts(base, remoteImage, "k8s/overlays/staging", { image: "ghcr.io/org/web:2.0" })).toEqual([
      { field: "image", base: "ghcr.io/org/web:1.1", theirs: "ghcr.io/org/web:1.5", ours: "ghcr.io/org/web:2.0" },
    ]);
  });

  it("is no conflict when both sides want the same value", () => {
    expect(detectConflicts(base, remoteImage, "k8s/overlays/staging", { image: "ghcr.io/org/web:1.5" })).toEqual([]);
  });

  it("is no conflict when the remote changed a field the user leaves alone", () => {
    expect(detectConflicts(base, remoteReplicas, "k8s/overlays/staging", { image: "ghcr.io/org/web:2.0" })).toEqual([]);
  });

  it("reports replicas when both changed them differently", () => {
    expect(detectConflicts(base, remoteReplicas, "k8s/overlays/staging", { replicas: 3 })).toEqual([
      { field: "replicas", base: 2, theirs: 4, ours: 3 },
    ]);
  });

  it("compares env entry by entry: an entry the remote added and the form lacks would be undone", () => {
    const head = headWith((f) => {
      f["k8s/base/deployment.yaml"] = (f["k8s/base/deployment.yaml"] ?? "").replace(
        "            - name: DB_PASSWORD\n",
        "            - name: REGION\n              value: eu\n            - name: DB_PASSWORD\n",
      );
    });
    expect(
      detectConflicts(base, head, "k8s/overlays/staging", { env: [{ name: "LOG_LEVEL", value: "debug" }] }),
    ).toEqual([{ field: "env.REGION", base: null, theirs: "eu", ours: null }]);
    expect(
      detectConflicts(base, head, "k8s/overlays/staging", {
        env: [
          { name: "LOG_LEVEL", value: "debug" },
          { name: "REGION", value: "eu" },
        ],
      }),
    ).toEqual([]);
  });

  it("compares quantities by amount", () => {
    const head = headWith((f) => {
      f["k8s/base/deployment.yaml"] = (f["k8s/base/deployment.yaml"] ?? "").replace("cpu: 100m", "cpu: 500m");
    });
    const path = "k8s/overlays/staging";
    expect(detectConflicts(base, head, path, { resources: { requests: { cpu: "0.5" } } })).toEqual([]);
    expect(detectConflicts(base, head, path, { resources: { requests: { cpu: "1" } } })).toEqual([
      { field: "resources.requests.cpu", base: "100m", theirs: "500m", ours: "1" },
    ]);
  });

  it("reports a probe the remote removed that the user changes", () => {
    const head = headWith((f) => {
      f["k8s/base/deployment.yaml"] = (f["k8s/base/deployment.yaml"] ?? "").replace(
        / {10}readinessProbe:\n(?: {12}.*\n)+/,
        "",
      );
    });
    const conflicts = detectConflicts(base, head, "k8s/overlays/staging", {
      readinessProbe: { type: "tcp", port: 8080 },
    });
    expect(conflicts).toEqual([
      {
        field: "readinessProbe",
        base: { type: "http", path: "/ready", port: "http", periodSeconds: 5 },
        theirs: null,
        ours: { type: "tcp", port: 8080 },
      },
    ]);
  });
});
