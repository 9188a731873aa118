import { describe, expect, it } from "vitest";
import { slugify } from "./slugify.ts";

describe("slugify", () => {
  it.each([
    ["My Company", "my-company"],
    ["  Café Déjà-vu!! ", "cafe-deja-vu"],
    ["前端团队", ""],
    ["Team 42 / Ops", "team-42-ops"],
    ["a".repeat(80), "a".repeat(63)],
    [`${"a".repeat(62)} b`, "a".repeat(62)],
  ])("%s → %s", (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });
});
