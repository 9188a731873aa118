import type { Executor } from "@juanie/db";
import { sql } from "drizzle-orm";

/** Postgres channel carrying realtime events between replicas (LISTEN/NOTIFY). */
export const realtimeChannel = "juanie_events";

export type RealtimeEvent =
  | { type: "notifications.changed"; userId: string }
  /** A deployment was created or changed status (ids only: subscribers read it with their own access). */
  | { type: "deployment.changed"; deploymentId: string; projectId: string; environmentId: string; status: string }
  /** A cluster's connection, Flux or a Flux operation changed. */
  | { type: "cluster.changed"; clusterId: string; organizationId: string }
  /** An environment's Flux objects or their live status changed. */
  | { type: "environment.changed"; environmentId: string; projectId: string };

/** Published when the transaction commits (NOTIFY is transactional), never for rolled-back work. */
export async function publish(tx: Executor, event: RealtimeEvent): Promise<void> {
  await tx.execute(sql`select pg_notify(${realtimeChannel}, ${JSON.stringify(event)})`);
}

export function parseRealtimeEvent(payload: string | undefined): RealtimeEvent | null {
  if (!payload) return null;
  try {
    const v = JSON.parse(payload) as Record<string, unknown>;
    if (v.type === "notifications.changed" && typeof v.userId === "string") return { type: v.type, userId: v.userId };
    if (v.type === "cluster.changed" && typeof v.clusterId === "string" && typeof v.organizationId === "string") {
      return { type: v.type, clusterId: v.clusterId, organizationId: v.organizationId };
    }
    if (v.type === "environment.changed" && typeof v.environmentId === "string" && typeof v.projectId === "string") {
      return { type: v.type, environmentId: v.environmentId, projectId: v.projectId };
    }
    const { deploymentId, projectId, environmentId, status } = v;
    if (
      v.type === "deployment.changed" &&
      typeof deploymentId === "string" &&
      typeof projectId === "string" &&
      typeof environmentId === "string" &&
      typeof status === "string"
    ) {
      return { type: v.type, deploymentId, projectId, environmentId, status };
    }
  } catch {
    // ignore foreign payloads
  }
  return null;
}
