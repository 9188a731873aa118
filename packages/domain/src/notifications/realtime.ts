import type { Executor } from "@juanie/db";
import { sql } from "drizzle-orm";

/** Postgres channel carrying realtime events between replicas (LISTEN/NOTIFY). */
export const realtimeChannel = "juanie_events";

export type RealtimeEvent = { type: "notifications.changed"; userId: string };

/** Published when the transaction commits (NOTIFY is transactional), never for rolled-back work. */
export async function publish(tx: Executor, event: RealtimeEvent): Promise<void> {
  await tx.execute(sql`select pg_notify(${realtimeChannel}, ${JSON.stringify(event)})`);
}

export function parseRealtimeEvent(payload: string | undefined): RealtimeEvent | null {
  if (!payload) return null;
  try {
    const v = JSON.parse(payload) as { type?: unknown; userId?: unknown };
    if (v.type === "notifications.changed" && typeof v.userId === "string") return { type: v.type, userId: v.userId };
  } catch {
    // ignore foreign payloads
  }
  return null;
}
