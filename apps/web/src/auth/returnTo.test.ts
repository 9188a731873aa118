import { describe, expect, it } from "vitest";
import { safeReturnTo } from "./returnTo.ts";

describe("safeReturnTo", () => {
  it("keeps in-app paths with their query", () => {
    expect(safeReturnTo("/orgs/acme/members?x=1")).toBe("/orgs/acme/members?x=1");
  });

  it.each([undefined, null, ["/orgs"], "", "orgs", "https://evil.example", "//evil.example/x", "/\\evil.example"])(
    "falls back to / for %s",
    (value) => {
      expect(safeReturnTo(value)).toBe("/");
    },
  );
});
