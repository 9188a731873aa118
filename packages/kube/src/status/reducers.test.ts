import { describe, expect, it } from "vitest";
import {
  canAdvance,
  deploymentReadiness,
  deploymentRollout,
  fluxResourceState,
  isNewerIn,
  type KubeObjectLike,
  type RolloutInput,
  type RolloutStep,
} from "./reducers.ts";

const A = "1111111111111111111111111111111111111111";
const B = "2222222222222222222222222222222222222222";
const C = "3333333333333333333333333333333333333333";
const X = "9999999999999999999999999999999999999999"; // pushed to Git directly, unknown to the platform
const ORDER = [A, B, C];

type Cond = [type: string, status: string, reason?: string, message?: string];
const conditions = (cs: Cond[]) =>
  cs.map(([type, status, reason, message]) => ({
    type,
    status,
    reason: reason ?? "Whatever",
    message: message ?? `${type} is ${status}`,
    lastTransitionTime: "2026-12-03T10:00:00Z",
  }));

const kustomization = (
  opts: {
    conditions?: Cond[];
    applied?: string;
    attempted?: string;
    generation?: number;
    observedGeneration?: number;
    suspend?: boolean;
    wait?: boolean;
  } = {},
): KubeObjectLike => ({
  apiVersion: "kustomize.toolkit.fluxcd.io/v1",
  kind: "Kustomization",
  metadata: { name: "web", namespace: "apps", uid: "uid-ks", generation: opts.generation ?? 1 },
  spec: {
    sourceRef: { kind: "GitRepository", name: "repo", namespace: "flux-system" },
    path: "./k8s/overlays/production",
    ...(opts.suspend !== undefined ? { suspend: opts.suspend } : {}),
    ...(opts.wait !== undefined ? { wait: opts.wait } : {}),
  },
  status: {
    observedGeneration: opts.observedGeneration ?? 1,
    conditions: conditions(opts.conditions ?? []),
    ...(opts.applied ? { lastAppliedRevision: opts.applied } : {}),
    ...(opts.attempted ? { lastAttemptedRevision: opts.attempted } : {}),
  },
});

const gitRepository = (revision: string | null, cs: Cond[] = [["Ready", "True", "Succeeded"]]): KubeObjectLike => ({
  apiVersion: "source.toolkit.fluxcd.io/v1",
  kind: "GitRepository",
  metadata: { name: "repo", namespace: "flux-system", uid: "uid-repo", generation: 1 },
  spec: { url: "https://git.example.com/team/app.git", ref: { branch: "main" } },
  status: {
    observedGeneration: 1,
    conditions: conditions(cs),
    ...(revision ? { artifact: { revision, digest: "sha256:abc" } } : {}),
  },
});

describe("fluxResourceState: the state rules", () => {
  it.each<[string, Parameters<typeof kustomization>[0], string, string | null]>([
    ["no status yet", {}, "unknown", null],
    [
      "Ready=True, generation observed",
      { conditions: [["Ready", "True", "ReconciliationSucceeded"]] },
      "ready",
      "ReconciliationSucceeded",
    ],
    [
      "Ready=True but a newer spec not observed yet",
      { conditions: [["Ready", "True", "ReconciliationSucceeded"]], generation: 2, observedGeneration: 1 },
      "reconciling",
      "ReconciliationSucceeded",
    ],
    [
      "in progress: Reconciling=True, Ready=Unknown",
      {
        conditions: [
          ["Reconciling", "True", "Progressing"],
          ["Ready", "Unknown", "Progressing"],
        ],
      },
      "reconciling",
      "Progressing",
    ],
    ["Ready=Unknown alone", { conditions: [["Ready", "Unknown", "Progressing"]] }, "reconciling", "Progressing"],
    ["Ready=False", { conditions: [["Ready", "False", "BuildFailed"]] }, "failed", "BuildFailed"],
    [
      "failed and retrying (Flux leaves Reconciling=True ProgressingWithRetry)",
      {
        conditions: [
          ["Reconciling", "True", "ProgressingWithRetry"],
          ["Ready", "False", "HealthCheckFailed"],
        ],
      },
      "failed",
      "HealthCheckFailed",
    ],
    [
      "Ready=False from the previous attempt while a new attempt progresses",
      {
        conditions: [
          ["Reconciling", "True", "Progressing"],
          ["Ready", "False", "BuildFailed"],
        ],
      },
      "reconciling",
      "Progressing",
    ],
    [
      "Stalled wins over Reconciling",
      {
        conditions: [
          ["Stalled", "True", "InvalidCELExpression"],
          ["Reconciling", "True", "Progressing"],
          ["Ready", "False", "InvalidCELExpression"],
        ],
      },
      "failed",
      "InvalidCELExpression",
    ],
    [
      "suspended wins over everything",
      {
        suspend: true,
        conditions: [
          ["Stalled", "True", "X"],
          ["Ready", "False", "BuildFailed"],
        ],
      },
      "suspended",
      "BuildFailed",
    ],
  ])("%s → %s", (_name, opts, state, reason) => {
    const s = fluxResourceState(kustomization(opts));
    expect(s.state).toBe(state);
    expect(s.reason).toBe(reason);
  });

  it("reads a Kustomization's revisions, sync-now token, source, history and inventory", () => {
    const obj = kustomization({
      conditions: [["Ready", "True", "ReconciliationSucceeded", `Applied revision: main@sha1:${B}`]],
      applied: `main@sha1:${B}`,
      attempted: `main@sha1:${C}`,
    });
    obj.metadata = {
      ...obj.metadata,
      annotations: { "reconcile.fluxcd.io/requestedAt": "2026-12-03T10:05:00.123456789Z" },
    };
    obj.status = {
      ...(obj.status as object),
      lastHandledReconcileAt: "2026-12-03T10:05:00.123456789Z",
      inventory: {
        entries: [
          { id: "apps_web_apps_Deployment", v: "v1" },
          { id: "apps_web__Service", v: "v1" },
        ],
      },
      history: [
        {
          digest: "sha256:43ad",
          firstReconciled: "2026-12-03T10:11:00Z",
          lastReconciled: "2026-12-03T11:12:00Z",
          lastReconciledDuration: "2.8s",
          lastReconciledStatus: "ReconciliationSucceeded",
          totalReconciliations: 2,
          metadata: { revision: `main@sha1:${B}` },
        },
        {
          digest: "sha256:ec8d",
          firstReconciled: "2026-12-02T13:10:00Z",
          lastReconciled: "2026-12-03T10:00:00Z",
          lastReconciledStatus: "HealthCheckFailed",
          totalReconciliations: 120,
          metadata: { revision: `main@sha1:${A}` },
        },
      ],
    };
    expect(fluxResourceState(obj)).toEqual({
      kind: "Kustomization",
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      namespace: "apps",
      name: "web",
      uid: "uid-ks",
      generation: 1,
      observedGeneration: 1,
      state: "ready",
      reason: "ReconciliationSucceeded",
      message: `Applied revision: main@sha1:${B}`,
      artifactRevision: null,
      appliedRevision: `main@sha1:${B}`,
      attemptedRevision: `main@sha1:${C}`,
      lastHandledReconcileAt: "2026-12-03T10:05:00.123456789Z",
      requestedAt: "2026-12-03T10:05:00.123456789Z",
      lastReconcileAt: "2026-12-03T11:12:00Z",
      suspended: false,
      sourceRef: { kind: "GitRepository", name: "repo", namespace: "flux-system" },
      waitsForHealth: false,
      history: [
        {
          revision: `main@sha1:${B}`,
          digest: "sha256:43ad",
          firstReconciled: "2026-12-03T10:11:00Z",
          lastReconciled: "2026-12-03T11:12:00Z",
          status: "ReconciliationSucceeded",
          totalReconciliations: 2,
        },
        {
          revision: `main@sha1:${A}`,
          digest: "sha256:ec8d",
          firstReconciled: "2026-12-02T13:10:00Z",
          lastReconciled: "2026-12-03T10:00:00Z",
          status: "HealthCheckFailed",
          totalReconciliations: 120,
        },
      ],
      inventory: ["apps_web_apps_Deployment", "apps_web__Service"],
    });
  });

  it("reads a source's artifact revision; sources have no sourceRef", () => {
    const s = fluxResourceState(gitRepository(`main@sha1:${A}`));
    expect(s).toMatchObject({
      kind: "GitRepository",
      state: "ready",
      artifactRevision: `main@sha1:${A}`,
      sourceRef: null,
    });
    expect(s.lastReconcileAt).toBe("2026-12-03T10:00:00Z");
  });

  it("reads a HelmRelease v2: chartRef or chart.spec.sourceRef, applied = newest deployed release, waits unless disabled", () => {
    const hr = (spec: object): KubeObjectLike => ({
      apiVersion: "helm.toolkit.fluxcd.io/v2",
      kind: "HelmRelease",
      metadata: { name: "podinfo", namespace: "apps", uid: "uid-hr", generation: 3 },
      spec,
      status: {
        observedGeneration: 3,
        lastAttemptedRevision: "6.0.2",
        conditions: conditions([["Ready", "False", "UpgradeFailed", "Helm upgrade failed"]]),
        history: [
          {
            chartVersion: "6.0.2",
            status: "failed",
            digest: "sha256:2",
            firstDeployed: "2026-12-03T11:00:00Z",
            lastDeployed: "2026-12-03T11:00:00Z",
          },
          {
            chartVersion: "6.0.1",
            status: "deployed",
            digest: "sha256:1",
            firstDeployed: "2026-12-01T11:00:00Z",
            lastDeployed: "2026-12-01T11:00:00Z",
          },
        ],
      },
    });
    const viaChart = fluxResourceState(
      hr({ chart: { spec: { chart: "podinfo", sourceRef: { kind: "HelmRepository", name: "podinfo" } } } }),
    );
    expect(viaChart).toMatchObject({
      state: "failed",
      reason: "UpgradeFailed",
      appliedRevision: "6.0.1",
      attemptedRevision: "6.0.2",
      sourceRef: { kind: "HelmRepository", name: "podinfo", namespace: "apps" },
      waitsForHealth: true,
      lastReconcileAt: "2026-12-03T11:00:00Z",
    });
    expect(viaChart.history.map((h) => `${h.revision}:${h.status}`)).toEqual(["6.0.2:failed", "6.0.1:deployed"]);
    const viaChartRef = fluxResourceState(
      hr({
        chartRef: { kind: "OCIRepository", name: "podinfo", namespace: "flux-system" },
        upgrade: { disableWait: true },
      }),
    );
    expect(viaChartRef.sourceRef).toEqual({ kind: "OCIRepository", name: "podinfo", namespace: "flux-system" });
    expect(viaChartRef.waitsForHealth).toBe(false);
  });

  it("knows Flux waits for health with spec.wait or spec.healthChecks", () => {
    expect(fluxResourceState(kustomization({ wait: true })).waitsForHealth).toBe(true);
    const obj = kustomization();
    obj.spec = { ...(obj.spec as object), healthChecks: [{ kind: "Deployment", name: "web", namespace: "apps" }] };
    expect(fluxResourceState(obj).waitsForHealth).toBe(true);
  });
});

describe("deploymentReadiness", () => {
  it("counts only updated, ready replicas of the observed generation", () => {
    const d = (status: object, generation = 2): KubeObjectLike => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "web",
        namespace: "apps",
        generation,
        labels: { "kustomize.toolkit.fluxcd.io/name": "web", "kustomize.toolkit.fluxcd.io/namespace": "flux-system" },
      },
      spec: { replicas: 3 },
      status,
    });
    expect(deploymentReadiness(d({ observedGeneration: 2, readyReplicas: 3, updatedReplicas: 3 }))).toEqual({
      namespace: "apps",
      name: "web",
      kustomization: { name: "web", namespace: "flux-system" },
      desired: 3,
      ready: 3,
    });
    // Old pods still ready while the new ReplicaSet rolls out.
    expect(deploymentReadiness(d({ observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1 })).ready).toBe(1);
    // A rollout stuck on an image that cannot be pulled: 3 old pods ready, 3 new ones not — none counts.
    expect(
      deploymentReadiness(d({ observedGeneration: 2, replicas: 6, readyReplicas: 3, updatedReplicas: 3 })).ready,
    ).toBe(0);
    expect(
      deploymentReadiness(d({ observedGeneration: 2, replicas: 4, readyReplicas: 3, updatedReplicas: 3 })).ready,
    ).toBe(2);
    // The controller has not seen the new spec yet: nothing counts.
    expect(deploymentReadiness(d({ observedGeneration: 1, readyReplicas: 3, updatedReplicas: 3 })).ready).toBe(0);
  });
});

describe("deploymentRollout", () => {
  const src = (rev: string | null) => fluxResourceState(gitRepository(rev));
  const ks = (opts: Parameters<typeof kustomization>[0]) => fluxResourceState(kustomization(opts));
  const readyFor = (sha: string, extra: Parameters<typeof kustomization>[0] = {}) =>
    ks({
      applied: `main@sha1:${sha}`,
      attempted: `main@sha1:${sha}`,
      conditions: [["Ready", "True", "ReconciliationSucceeded"]],
      wait: true,
      ...extra,
    });
  const progressingFor = (sha: string, applied?: string) =>
    ks({
      attempted: `main@sha1:${sha}`,
      ...(applied ? { applied: `main@sha1:${applied}` } : {}),
      conditions: [
        ["Reconciling", "True", "Progressing"],
        ["Ready", "Unknown", "Progressing"],
      ],
    });
  const failedFor = (sha: string, applied?: string) =>
    ks({
      attempted: `main@sha1:${sha}`,
      ...(applied ? { applied: `main@sha1:${applied}` } : {}),
      conditions: [
        ["Reconciling", "True", "ProgressingWithRetry"],
        ["Ready", "False", "HealthCheckFailed", "timeout waiting for: [Deployment/apps/web status: 'InProgress']"],
      ],
    });
  const roll = (step: RolloutStep, rest: Partial<RolloutInput>, sha = B) =>
    deploymentRollout({ deployment: { commitSha: sha, step }, order: ORDER, ...rest });

  it.each<[string, RolloutStep, Partial<RolloutInput>, RolloutStep, string]>([
    ["nothing observed yet", "committed", {}, "committed", "NoChange"],
    ["source still at the previous commit", "committed", { source: src(`main@sha1:${A}`) }, "committed", "NoChange"],
    ["source fetched the commit", "committed", { source: src(`main@sha1:${B}`) }, "fetched", "SourceFetched"],
    [
      "source fetched a newer commit that includes it",
      "committed",
      { source: src(`main@sha1:${C}`) },
      "fetched",
      "SourceFetched",
    ],
    ["old-format revision main/<sha>", "committed", { source: src(`main/${B}`) }, "fetched", "SourceFetched"],
    [
      "source at a commit the platform does not know",
      "committed",
      { source: src(`main@sha1:${X}`) },
      "committed",
      "NoChange",
    ],
    [
      "Kustomization is applying it (attempted)",
      "committed",
      { kustomization: progressingFor(B, A) },
      "fetched",
      "SourceFetched",
    ],
    [
      "applied, Flux waits for health, not Ready yet",
      "fetched",
      {
        kustomization: ks({
          applied: `main@sha1:${B}`,
          wait: true,
          conditions: [
            ["Reconciling", "True", "Progressing"],
            ["Ready", "Unknown", "Progressing"],
          ],
        }),
      },
      "applied",
      "RevisionApplied",
    ],
    [
      "applied and Ready with health checks",
      "fetched",
      { kustomization: readyFor(B) },
      "healthy",
      "ReconciliationSucceeded",
    ],
    [
      "applied and Ready straight from committed",
      "committed",
      { kustomization: readyFor(B) },
      "healthy",
      "ReconciliationSucceeded",
    ],
    [
      "applied old format main/<sha>",
      "fetched",
      {
        kustomization: ks({
          applied: `main/${B}`,
          attempted: `main/${B}`,
          wait: true,
          conditions: [["Ready", "True", "ReconciliationSucceeded"]],
        }),
      },
      "healthy",
      "ReconciliationSucceeded",
    ],
    [
      "no health checks: Ready but workloads not ready",
      "applied",
      { kustomization: readyFor(B, { wait: false }), workloads: [{ ready: 1, desired: 2 }] },
      "applied",
      "NoChange",
    ],
    [
      "no health checks: Ready and workloads ready",
      "applied",
      {
        kustomization: readyFor(B, { wait: false }),
        workloads: [
          { ready: 2, desired: 2 },
          { ready: 1, desired: 1 },
        ],
      },
      "healthy",
      "WorkloadsReady",
    ],
    [
      "no health checks, no Deployments at all",
      "applied",
      { kustomization: readyFor(B, { wait: false }), workloads: [] },
      "healthy",
      "WorkloadsReady",
    ],
    [
      "Ready=True for a newer spec not observed yet",
      "applied",
      { kustomization: readyFor(B, { generation: 2, observedGeneration: 1 }) },
      "applied",
      "NoChange",
    ],
    ["failed with Flux's reason", "fetched", { kustomization: failedFor(B, A) }, "failed", "HealthCheckFailed"],
    [
      "failed after being applied (no-wait drift)",
      "applied",
      { kustomization: failedFor(B, B) },
      "failed",
      "HealthCheckFailed",
    ],
    [
      "not failed while still progressing",
      "fetched",
      {
        kustomization: ks({
          attempted: `main@sha1:${B}`,
          applied: `main@sha1:${A}`,
          conditions: [
            ["Reconciling", "True", "Progressing"],
            ["Ready", "False", "HealthCheckFailed"],
          ],
        }),
      },
      "fetched",
      "NoChange",
    ],
    [
      "failed for another commit is not this one's failure",
      "fetched",
      { kustomization: failedFor(C, A) },
      "fetched",
      "NoChange",
    ],
    [
      "a failed deployment recovers when Flux's retry succeeds",
      "failed",
      { kustomization: readyFor(B) },
      "healthy",
      "ReconciliationSucceeded",
    ],
    [
      "superseded: a newer commit applied before this one",
      "fetched",
      { kustomization: readyFor(C) },
      "superseded",
      "NewerRevisionApplied",
    ],
    ["superseded after failing", "failed", { kustomization: readyFor(C) }, "superseded", "NewerRevisionApplied"],
    ["an applied deployment is not superseded", "applied", { kustomization: readyFor(C) }, "applied", "NoChange"],
    [
      "an older commit applied (rollback) does not supersede",
      "fetched",
      { kustomization: readyFor(A) },
      "fetched",
      "NoChange",
    ],
    // Out of order: older statuses arriving late never move a deployment backwards.
    ["late source status after healthy", "healthy", { source: src(`main@sha1:${A}`) }, "healthy", "NoChange"],
    ["late 'progressing' after applied", "applied", { kustomization: progressingFor(B, A) }, "applied", "NoChange"],
    ["late failure after healthy", "healthy", { kustomization: failedFor(B, A) }, "healthy", "NoChange"],
    ["late fetched after failed", "failed", { source: src(`main@sha1:${B}`) }, "failed", "NoChange"],
    [
      "healthy stays healthy when a newer one is applied",
      "healthy",
      { kustomization: readyFor(C) },
      "healthy",
      "NoChange",
    ],
    ["superseded is final", "superseded", { kustomization: readyFor(B) }, "superseded", "NoChange"],
  ])("%s: %s → %s", (_name, from, rest, to, reason) => {
    const r = roll(from, rest);
    expect(r.step).toBe(to);
    expect(r.changed).toBe(from !== to);
    expect(r.reason).toBe(reason);
  });

  it("carries Flux's failure message", () => {
    expect(roll("fetched", { kustomization: failedFor(B, A) }).message).toBe(
      "timeout waiting for: [Deployment/apps/web status: 'InProgress']",
    );
  });

  it("is idempotent: the same status twice moves once", () => {
    const rest = { source: src(`main@sha1:${B}`), kustomization: readyFor(B) };
    const first = roll("committed", rest);
    const second = roll(first.step, rest);
    expect([first.step, first.changed, second.step, second.changed]).toEqual(["healthy", true, "healthy", false]);
  });

  it("walks committed → fetched → applied → healthy through a realistic sequence of statuses", () => {
    const events: Partial<RolloutInput>[] = [
      { source: src(`main@sha1:${A}`), kustomization: readyFor(A) },
      { source: src(`main@sha1:${B}`), kustomization: readyFor(A) },
      { source: src(`main@sha1:${B}`), kustomization: progressingFor(B, A) },
      {
        source: src(`main@sha1:${B}`),
        kustomization: readyFor(B, { wait: false }),
        workloads: [{ ready: 0, desired: 2 }],
      },
      // Duplicate and a late older event in between.
      {
        source: src(`main@sha1:${B}`),
        kustomization: readyFor(B, { wait: false }),
        workloads: [{ ready: 0, desired: 2 }],
      },
      { source: src(`main@sha1:${B}`), kustomization: progressingFor(B, A) },
      {
        source: src(`main@sha1:${B}`),
        kustomization: readyFor(B, { wait: false }),
        workloads: [{ ready: 2, desired: 2 }],
      },
    ];
    let step: RolloutStep = "committed";
    const seen: RolloutStep[] = [];
    for (const e of events) {
      step = roll(step, e).step;
      seen.push(step);
    }
    expect(seen).toEqual(["committed", "fetched", "fetched", "applied", "applied", "applied", "healthy"]);
  });

  it("reports an applied commit the platform does not know (a push to Git directly)", () => {
    const r = roll("healthy", { kustomization: readyFor(X) });
    expect(r.unknownApplied).toBe(X);
    expect(roll("healthy", { kustomization: readyFor(C) }).unknownApplied).toBeNull();
    // Unknown is never "newer": it does not supersede.
    expect(roll("fetched", { kustomization: readyFor(X) }).step).toBe("fetched");
  });
});

describe("ordering helpers", () => {
  it("isNewerIn compares by position in the known order, null when unknown", () => {
    expect(isNewerIn(ORDER, C, A)).toBe(true);
    expect(isNewerIn(ORDER, A, C)).toBe(false);
    expect(isNewerIn(ORDER, B, B)).toBe(false);
    expect(isNewerIn(ORDER, X, A)).toBeNull();
    expect(isNewerIn(ORDER, C.slice(0, 7), A)).toBe(true);
  });

  it("canAdvance never goes backwards", () => {
    const steps: RolloutStep[] = ["committed", "fetched", "applied", "healthy", "failed", "superseded"];
    const allowed = steps.flatMap((from) => steps.filter((to) => canAdvance(from, to)).map((to) => `${from}→${to}`));
    expect(allowed).toEqual([
      "committed→fetched",
      "committed→applied",
      "committed→healthy",
      "committed→failed",
      "committed→superseded",
      "fetched→applied",
      "fetched→healthy",
      "fetched→failed",
      "fetched→superseded",
      "applied→healthy",
      "applied→failed",
      "failed→healthy",
      "failed→superseded",
    ]);
  });
});
