import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDomain, type TestDomain } from "../../../test/helpers.ts";
import { deployments, environments, organizations, projects } from "./schema.ts";

let t: TestDomain;

beforeAll(async () => {
  t = await createTestDomain();
});

afterAll(async () => {
  await t?.close();
});

async function project(slug: string) {
  const db = t.handle.db;
  const [org] = await db
    .insert(organizations)
    .values({ slug: `org-${slug}`, name: `Org ${slug}` })
    .returning();
  const [p] = await db
    .insert(projects)
    .values({ organizationId: org!.id, slug, name: slug, visibility: "private", status: "active" })
    .returning();
  const [env] = await db
    .insert(environments)
    .values({ projectId: p!.id, name: "development", type: "development" })
    .returning();
  return { projectId: p!.id, environmentId: env!.id };
}

describe("deployment numbers", () => {
  it("count #1, #2, … per project, without gaps or repeats under concurrent inserts", async () => {
    const a = await project("alpha");
    const b = await project("beta");
    const db = t.handle.db;
    const insert = (p: { projectId: string; environmentId: string }) =>
      db
        .insert(deployments)
        .values({ ...p, method: "manual", status: "pending" })
        .returning({ number: deployments.number });
    const results = await Promise.all([
      ...Array.from({ length: 12 }, () => insert(a)),
      ...Array.from({ length: 5 }, () => insert(b)),
    ]);
    const numbersA = results.slice(0, 12).map((r) => r[0]!.number);
    const numbersB = results.slice(12).map((r) => r[0]!.number);
    expect([...numbersA].sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect([...numbersB].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
    const [pa] = await db.select().from(projects).where(eq(projects.id, a.projectId));
    expect(pa!.deploymentSeq).toBe(12);
  });

  it("are given by the database even when the caller passes one", async () => {
    const c = await project("gamma");
    const [row] = await t.handle.db
      .insert(deployments)
      .values({ ...c, number: 99, method: "manual", status: "pending" })
      .returning({ number: deployments.number });
    expect(row!.number).toBe(1);
  });
});
