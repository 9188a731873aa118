import { readFileSync, readlinkSync } from "node:fs";
import os from "node:os";
import type { Executor } from "@juanie/db";
import { sql } from "drizzle-orm";

/**
 * Which job-worker processes are alive, so that jobs held by one that died are released in seconds.
 *
 * graphile-worker marks a job it runs (and the named queue it belongs to) with `locked_by` = the id of
 * one of its workers, and only takes such a lock back after 4 hours. Every process that runs workers
 * registers its worker ids here and beats every few seconds; any process sweeps: locks held by workers
 * of no live process are released with graphile-worker's own `force_unlock_workers`. Works with any
 * number of replicas: everything is decided on the database's clock.
 */
export const LIVENESS = {
  /** How often a process beats (and sweeps). */
  heartbeatMs: 5_000,
  /** A process that has not beaten for this long is dead: its locks are released on the next sweep. */
  staleMs: 20_000,
} as const;

/**
 * Host, boot and PID namespace of this process: two processes with the same key see the same PIDs, so
 * one of them can tell at once that the other's PID no longer exists (a restart after a crash). Null
 * where that cannot be known (no /proc): only the heartbeat counts there.
 */
export function hostKey(): string | null {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const pidNamespace = readlinkSync("/proc/self/ns/pid");
    return `${os.hostname()}/${boot}/${pidNamespace}`;
  } catch {
    return null;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Registers (or re-registers) this process with its worker ids; also its heartbeat. */
export async function beat(
  db: Executor,
  instance: { id: string; hostKey: string | null; pid: number; workerIds: string[] },
): Promise<void> {
  await db.execute(sql`
    insert into worker_instances (id, host_key, pid, worker_ids, heartbeat_at)
    values (${instance.id}, ${instance.hostKey ?? ""}, ${instance.pid}, ${`{${instance.workerIds.join(",")}}`}::text[], now())
    on conflict (id) do update set worker_ids = excluded.worker_ids, heartbeat_at = now()`);
}

/** Removes this process's registration (clean shutdown: graphile-worker has released its jobs). */
export async function unregister(db: Executor, instanceId: string): Promise<void> {
  await db.execute(sql`delete from worker_instances where id = ${instanceId}`);
}

/**
 * Releases jobs and named queues locked by workers of dead processes: those whose heartbeat is older
 * than `staleMs`, and those on this host whose PID no longer exists. A lock by a worker id no process
 * registered (an older version, a registration lost) counts as dead once it is `staleMs` old. Returns
 * the worker ids released.
 */
export async function releaseDeadWorkers(
  db: Executor,
  self: { id: string; hostKey: string | null },
  staleMs: number = LIVENESS.staleMs,
): Promise<string[]> {
  const dead: string[] = [];
  if (self.hostKey) {
    const neighbours = await db.execute<{ id: string; pid: number }>(
      sql`select id, pid from worker_instances where host_key = ${self.hostKey} and id <> ${self.id}`,
    );
    for (const n of neighbours.rows) {
      // Same PID as ours: the old process of a restarted container (PID 1 again); the heartbeat decides.
      if (n.pid !== process.pid && !processExists(n.pid)) dead.push(n.id);
    }
  }
  const stale = `${Math.max(1, Math.round(staleMs / 1000))} seconds`;
  const deadIds = `{${dead.join(",")}}`;
  const found = await db.execute<{ worker_id: string }>(sql`
    with gone as (
      delete from worker_instances
      where heartbeat_at < now() - ${stale}::interval or id = any(${deadIds}::uuid[])
      returning worker_ids
    ), live as (
      select unnest(worker_ids) as worker_id from worker_instances
      where heartbeat_at >= now() - ${stale}::interval and not (id = any(${deadIds}::uuid[]))
    ), locks as (
      select locked_by, locked_at from graphile_worker._private_jobs where locked_by is not null
      union all
      select locked_by, locked_at from graphile_worker._private_job_queues where locked_by is not null
    )
    select distinct locked_by as worker_id from locks
    where locked_by not in (select worker_id from live)
      and (locked_at < now() - ${stale}::interval or locked_by in (select unnest(worker_ids) from gone))`);
  const workerIds = found.rows.map((r) => r.worker_id);
  if (workerIds.length) {
    await db.execute(sql`select graphile_worker.force_unlock_workers(${`{${workerIds.join(",")}}`}::text[])`);
    // Wakes idle workers (the queue's own signal) rather than leaving the jobs to the next poll.
    await db.execute(
      sql`select pg_notify('jobs:insert', ${JSON.stringify({ r: Math.random(), count: workerIds.length })})`,
    );
  }
  return workerIds;
}

/** Whether a job with this key is locked right now by a worker of a live process. */
export async function jobRunning(db: Executor, jobKey: string, staleMs: number = LIVENESS.staleMs): Promise<boolean> {
  const stale = `${Math.max(1, Math.round(staleMs / 1000))} seconds`;
  const r = await db.execute(sql`
    select 1 from graphile_worker.jobs j
    where j.key = ${jobKey} and j.locked_by in (
      select unnest(worker_ids) from worker_instances where heartbeat_at >= now() - ${stale}::interval)`);
  return r.rows.length > 0;
}
