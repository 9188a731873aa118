import { describe, expect, it } from "vitest";
import { goDuration, parseDuration, setCondition } from "./conditions.ts";

describe("Flux's duration strings", () => {
  it.each([
    [500, "500ms"],
    [1002.345, "1.002345s"],
    [30_000, "30s"],
    [60_000, "1m0s"],
    [300_049, "5m0.049s"],
    [5_400_000, "1h30m0s"],
  ])("%d ms prints as Go's time.Duration: %s", (ms, text) => {
    expect(goDuration(ms)).toBe(text);
  });

  it.each([
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["0.5s", 500],
    ["250ms", 250],
    ["10 minutes", undefined],
    ["", undefined],
  ])("spec duration %j is %s ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

it("a condition keeps its lastTransitionTime while its status stays, and Ready comes first", () => {
  const first = setCondition([], "Reconciling", "True", "Progressing", "a", 1);
  const withReady = setCondition(first, "Ready", "Unknown", "Progressing", "b", 1);
  expect(withReady.map((c) => c.type)).toEqual(["Ready", "Reconciling"]);
  const old = withReady.map((c) => ({ ...c, lastTransitionTime: "2020-01-01T00:00:00Z" }));
  const same = setCondition(old, "Ready", "Unknown", "Progressing", "c", 2);
  expect(same[0]).toMatchObject({ message: "c", observedGeneration: 2, lastTransitionTime: "2020-01-01T00:00:00Z" });
  const changed = setCondition(old, "Ready", "True", "Succeeded", "d", 2);
  expect(changed[0]?.lastTransitionTime).not.toBe("2020-01-01T00:00:00Z");
});
