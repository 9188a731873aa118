import { describe, expect, it } from "vitest";
import { formatImageReference, parseImageReference, splitImage } from "./image-reference.ts";
import { compareQuantities, parseQuantity, sameQuantity } from "./quantity.ts";

describe("parseQuantity", () => {
  it.each([
    "0",
    "1",
    "500m",
    "0.5",
    ".5",
    "1.",
    "+1",
    "100n",
    "10u",
    "128Mi",
    "1Gi",
    "2Ti",
    "1k",
    "1M",
    "1e3",
    "1E-3",
    "1.5Gi",
  ])("accepts %s", (q) => {
    expect(parseQuantity(q)).not.toBeNull();
  });
  it.each(["", "-1", "1 Gi", "1GB", "1mi", "Mi", "1e", "1e99", "0x10", "1,5"])("rejects %j", (q) => {
    expect(parseQuantity(q)).toBeNull();
  });
  it.each([
    ["500m", "0.5", 0],
    ["1", "999m", 1],
    ["1Gi", "1024Mi", 0],
    ["1G", "1Gi", -1],
    ["1e3", "1k", 0],
    ["128Mi", "134217728", 0],
  ])("compares %s with %s", (a, b, sign) => {
    const pa = parseQuantity(a);
    const pb = parseQuantity(b);
    if (!pa || !pb) throw new Error("unparsable");
    expect(Math.sign(compareQuantities(pa, pb))).toBe(sign);
  });
  it("compares quantity strings by amount", () => {
    expect(sameQuantity("0.5", "500m")).toBe(true);
    expect(sameQuantity("1", undefined)).toBe(false);
  });
});

describe("image references", () => {
  it.each([
    ["nginx", { name: "nginx" }],
    ["ghcr.io/org/app:1.2.3", { name: "ghcr.io/org/app", tag: "1.2.3" }],
    ["localhost:5000/app", { name: "localhost:5000/app" }],
    [`a/b:c@sha256:${"1".repeat(64)}`, { name: "a/b", tag: "c", digest: `sha256:${"1".repeat(64)}` }],
  ])("parses %s", (text, ref) => {
    expect(parseImageReference(text)).toEqual(ref);
    expect(formatImageReference(ref)).toBe(text);
  });
  it("splits what a manifest says even when it is not a valid reference", () => {
    expect(splitImage("localhost:5000/App:Latest")).toEqual({ name: "localhost:5000/App", tag: "Latest" });
  });
});
