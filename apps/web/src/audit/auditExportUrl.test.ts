import { describe, expect, it } from "vitest";
import { auditExportUrl } from "./auditExportUrl.ts";

describe("auditExportUrl", () => {
  it("carries the format and every set filter", () => {
    const url = auditExportUrl("csv", {
      organizationId: "7d1c2b1e-0000-4000-8000-000000000001",
      action: "org.member.change_role",
      result: "denied",
      from: "2025-01-01T00:00:00.000Z",
      resourceType: undefined,
    });
    const parsed = new URL(url, "http://localhost");
    expect(parsed.pathname).toBe("/api/audit/export");
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      format: "csv",
      organizationId: "7d1c2b1e-0000-4000-8000-000000000001",
      action: "org.member.change_role",
      result: "denied",
      from: "2025-01-01T00:00:00.000Z",
    });
  });

  it("exports everything when no filter is set", () => {
    expect(auditExportUrl("json", {})).toBe("/api/audit/export?format=json");
  });
});
