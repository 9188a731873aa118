import { describe, expect, it } from "vitest";
import { z } from "zod";
import { slugSchema, uuidSchema } from "./common.ts";
import { describeIssue, fieldRules, issuesOfFieldErrors, ruleCatalog, ruleOfMessage } from "./field-rules.ts";

function issuesOf(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  if (result.success) throw new Error("expected a failure");
  return result.error.issues.map((issue) => describeIssue(issue));
}

describe("describeIssue", () => {
  const form = z
    .object({
      name: z.string().trim().min(1, { message: "is required" }).max(5),
      slug: slugSchema,
      id: uuidSchema,
      replicas: z.number().int().min(0).max(100),
      tags: z.array(z.string()).min(1),
      visibility: z.enum(["private", "public"]),
      code: z.string().regex(/^[a-z]+$/),
      other: z.string().refine(() => false, { message: "is odd", params: { rule: "odd", count: 3 } }),
    })
    .strict();

  it("names each kind of zod issue with its parameters, and keeps the English text", () => {
    const issues = issuesOf(form, {
      name: "",
      slug: "Bad Slug",
      id: "x",
      replicas: 101,
      tags: [],
      visibility: "secret",
      code: "A1",
      other: "",
      extra: 1,
    });
    expect(issues).toEqual([
      { field: "name", rule: "required", message: "is required" },
      { field: "slug", rule: "slug", message: fieldRules.slug },
      { field: "id", rule: "uuid", message: "must be a UUID" },
      { field: "replicas", rule: "too_big", params: { max: 100 }, message: expect.any(String) },
      { field: "tags", rule: "too_few", params: { min: 1 }, message: expect.any(String) },
      { field: "visibility", rule: "one_of", params: { values: "private, public" }, message: expect.any(String) },
      { field: "code", rule: "invalid_format", message: expect.any(String) },
      { field: "other", rule: "odd", params: { count: 3 }, message: "is odd" },
      { field: "", rule: "unknown_field", message: expect.any(String) },
    ]);
  });

  it("reads lengths and missing values", () => {
    expect(issuesOf(z.object({ a: z.string() }), {})).toEqual([
      { field: "a", rule: "required", message: expect.any(String) },
    ]);
    expect(issuesOf(z.string().min(3), "ab")[0]).toMatchObject({ rule: "too_short", params: { min: 3 } });
    expect(issuesOf(z.string().max(3), "abcd")[0]).toMatchObject({ rule: "too_long_max", params: { max: 3 } });
    expect(issuesOf(z.number().min(2), 1)[0]).toMatchObject({ rule: "too_small", params: { min: 2 } });
  });

  it("prefers a rule of an extra catalog, known by its English text", () => {
    const catalog = ruleCatalog({ "deploy.replicas": "must be an integer from 0 to 1000" });
    const schema = z.object({ replicas: z.number().max(1000, { message: "must be an integer from 0 to 1000" }) });
    const result = schema.safeParse({ replicas: 5000 });
    expect(result.success).toBe(false);
    if (!result.success) {
      expect(describeIssue(result.error.issues[0]!, catalog)).toMatchObject({
        field: "replicas",
        rule: "deploy.replicas",
      });
    }
  });
});

describe("rules of the server's English field errors", () => {
  it("maps known texts to their names and the rest to `message`", () => {
    expect(ruleOfMessage("is already taken")).toBe("taken");
    expect(ruleOfMessage("something new")).toBe("message");
    expect(issuesOfFieldErrors({ slug: ["is already taken"], userId: ["is already a member"] })).toEqual([
      { field: "slug", rule: "taken", message: "is already taken" },
      { field: "userId", rule: "already_member", message: "is already a member" },
    ]);
  });

  it("words every rule once", () => {
    const texts = Object.values(fieldRules);
    expect(new Set(texts).size).toBe(texts.length);
  });
});
