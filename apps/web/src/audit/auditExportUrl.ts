import type { AuditFilter } from "@juanie/contracts";

/** The download link for the entries the current filters select. */
export function auditExportUrl(format: "csv" | "json" | "jsonl", filter: AuditFilter): string {
  const params = new URLSearchParams({ format });
  for (const [key, value] of Object.entries(filter)) {
    if (typeof value === "string" && value !== "") params.set(key, value);
  }
  return `/api/audit/export?${params}`;
}
