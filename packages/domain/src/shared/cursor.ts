import { type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn, PgTable } from "drizzle-orm/pg-core";
import { InputError } from "./errors.ts";

/**
 * Keyset pagination. A cursor names the last row of the previous page; the next page is every
 * row after it in (created_at desc, id desc) order, compared in SQL at full timestamp precision.
 */
export function encodeCursor(id: string | number): string {
  return Buffer.from(String(id)).toString("base64url");
}

export function decodeCursor(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const v = Buffer.from(raw, "base64url").toString("utf8");
  if (/^[0-9a-f-]{36}$/.test(v) || /^[0-9]{1,19}$/.test(v)) return v;
  throw InputError.field("cursor", "is not a cursor returned by this list");
}

/** `(created_at, id) < (created_at, id) of the cursor row`, or nothing on the first page. */
export function afterCursor(
  table: PgTable,
  createdAt: AnyPgColumn,
  id: AnyPgColumn,
  cursor: string | null,
): SQL | undefined {
  if (!cursor) return undefined;
  return sql`(${createdAt}, ${id}) < (select c.${sql.identifier(createdAt.name)}, c.${sql.identifier(id.name)} from ${table} c where c.${sql.identifier(id.name)} = ${cursor})`;
}

export function pageOf<R, T>(rows: R[], limit: number, map: (r: R) => T, idOf: (r: R) => string | number) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(idOf(last)) : null,
  };
}
