import { describe, expect, it } from "vitest";
import { availableFluxActions, shortRevision, workloadTotals } from "./environmentFlux.ts";

describe("environment Flux helpers", () => {
  it("shortens Flux revisions to the branch and a short SHA", () => {
    expect(shortRevision("main@sha1:0a1b2c3d4e5f60718293a4b5c6d7e8f901234567")).toBe("main@0a1b2c3");
    expect(shortRevision("sha256:abcdef0123456789")).toBe("abcdef0");
    expect(shortRevision("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567")).toBe("0a1b2c3");
    expect(shortRevision("v1.2.3")).toBe("v1.2.3");
    expect(shortRevision(null)).toBe("");
  });

  it("offers resume only while suspended, and sync or suspend otherwise", () => {
    expect(availableFluxActions({ suspended: true })).toEqual(["resume"]);
    expect(availableFluxActions({ suspended: false })).toEqual(["sync", "sync_with_source", "suspend"]);
  });

  it("sums ready and desired pods over the workloads", () => {
    expect(
      workloadTotals([
        { kind: "Deployment", name: "web", ready: 2, desired: 3 },
        { kind: "StatefulSet", name: "db", ready: 1, desired: 1 },
      ]),
    ).toEqual({ ready: 3, desired: 4 });
    expect(workloadTotals([])).toBeNull();
  });
});
