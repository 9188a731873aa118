import type { FluxOperation } from "@juanie/contracts";
import { describe, expect, it } from "vitest";
import {
  availableFluxSources,
  hasRunningOperation,
  isManagedByPlatform,
  operationProgress,
  restorableOperations,
} from "./clusterVocabulary.ts";

function op(overrides: Partial<FluxOperation>): FluxOperation {
  return {
    id: "op",
    action: "install",
    version: "2.7.3",
    source: "release",
    status: "succeeded",
    progress: [],
    error: null,
    requestedBy: "ada",
    createdAt: "2026-12-01T10:00:00.000Z",
    finishedAt: null,
    restorable: false,
    ...overrides,
  };
}

describe("availableFluxSources", () => {
  const noExtras = { fluxCli: false, operator: { present: false, instance: null } };

  it("offers the official release and an upload everywhere, the rest only where they can work", () => {
    expect(availableFluxSources(noExtras, { fluxMirrorUrl: null })).toEqual(["release", "upload"]);
    expect(
      availableFluxSources(
        { fluxCli: true, operator: { present: true, instance: null } },
        { fluxMirrorUrl: "https://m.example/v{version}/install.yaml" },
      ),
    ).toEqual(["release", "mirror", "upload", "flux-cli", "operator"]);
  });
});

describe("isManagedByPlatform", () => {
  it("offers adoption for a Flux installed by other means until it is adopted", () => {
    const foreign = { installed: true, managedBy: "other", operations: [] };
    expect(isManagedByPlatform(foreign)).toBe(false);
    const adopted = { ...foreign, operations: [op({ action: "adopt" })] };
    expect(isManagedByPlatform(adopted)).toBe(true);
  });

  it("counts the latest successful operation: an uninstall after an adoption ends it", () => {
    const operations = [
      op({ id: "a", action: "adopt", createdAt: "2026-12-01T10:00:00.000Z" }),
      op({ id: "u", action: "uninstall", createdAt: "2026-12-02T10:00:00.000Z" }),
      op({ id: "f", action: "install", status: "failed", createdAt: "2026-12-03T10:00:00.000Z" }),
    ];
    expect(isManagedByPlatform({ installed: true, managedBy: "other", operations })).toBe(false);
  });

  it("treats Flux labelled by Juanie as its own, and an absent Flux as nobody's", () => {
    expect(isManagedByPlatform({ installed: true, managedBy: "juanie", operations: [] })).toBe(true);
    expect(isManagedByPlatform({ installed: false, managedBy: "juanie", operations: [op({})] })).toBe(false);
  });
});

describe("operation progress", () => {
  it("shows the latest phase with its count and percentage", () => {
    const running = op({
      status: "running",
      progress: [
        { phase: "download", done: 1, total: 1, message: "install.yaml fetched", at: "2026-12-01T10:00:01.000Z" },
        { phase: "apply", done: 12, total: 48, message: "applying", at: "2026-12-01T10:00:02.000Z" },
      ],
    });
    expect(operationProgress(running)).toEqual({
      phase: "apply",
      done: 12,
      total: 48,
      percent: 25,
      message: "applying",
    });
    expect(hasRunningOperation({ operations: [running] })).toBe(true);
  });

  it("has no percentage for a phase without a count, and nothing before the first step", () => {
    const waiting = op({
      progress: [{ phase: "wait", done: 0, total: 0, message: "", at: "2026-12-01T10:00:00.000Z" }],
    });
    expect(operationProgress(waiting)?.percent).toBeNull();
    expect(operationProgress(op({ status: "queued" }))).toBeNull();
    expect(hasRunningOperation({ operations: [waiting] })).toBe(false);
  });

  it("lists only the operations the platform can go back to", () => {
    const ops = [op({ id: "now" }), op({ id: "before", restorable: true, version: "2.6.0" })];
    expect(restorableOperations({ operations: ops }).map((o) => o.id)).toEqual(["before"]);
  });
});
