import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  beat,
  hostKey,
  type JobDeps,
  type JobName,
  type JobPayloads,
  jobHandlers,
  LIVENESS,
  releaseDeadWorkers,
  unregister,
} from "@juanie/domain";
import {
  type Runner,
  run,
  runMigrations,
  type Task,
  type TaskList,
  type WorkerEvents,
  Logger as WorkerLogger,
} from "graphile-worker";
import type pg from "pg";
import type { Logger } from "pino";

/** Which job, never what it carries: payloads can hold secrets (an invitation's token). */
function jobSummary(job: unknown) {
  if (!job || typeof job !== "object") return job;
  const { id, task_identifier, attempts, max_attempts, key } = job as Record<string, unknown>;
  return { id, task_identifier, attempts, max_attempts, key };
}

function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    const fn =
      level === "error" ? log.error : level === "warning" ? log.warn : level === "debug" ? log.debug : log.info;
    const fields: Record<string, unknown> = { component: "worker", ...(meta ?? {}) };
    if ("job" in fields) fields.job = jobSummary(fields.job);
    fn.call(log, fields, message);
  });
}

/** Creates graphile-worker's schema; must run before any mutation can enqueue a job. */
export async function migrateQueue(pool: pg.Pool, log: Logger): Promise<void> {
  await runMigrations({ pgPool: pool, logger: workerLogger(log) });
}

function taskList(deps: JobDeps): TaskList {
  const tasks: TaskList = {};
  for (const name of Object.keys(jobHandlers) as JobName[]) {
    const handler = jobHandlers[name] as (d: JobDeps, p: JobPayloads[JobName]) => Promise<void>;
    const task: Task = async (payload) => handler(deps, payload as JobPayloads[JobName]);
    tasks[name] = task;
  }
  return tasks;
}

/**
 * Runs job handlers in this process. Several replicas may run it: jobs are claimed with SKIP LOCKED.
 * The process registers its workers and beats (jobs/liveness.ts), and sweeps: jobs and queues locked by
 * a process that died (killed, OOM, power loss) are released within LIVENESS.staleMs plus one beat, and
 * at once, at start, when it was a process of this same host that no longer exists.
 */
export async function startWorker(pool: pg.Pool, deps: JobDeps, log: Logger, concurrency: number): Promise<Runner> {
  const instance = { id: randomUUID(), hostKey: hostKey(), pid: process.pid, workerIds: [] as string[] };
  const events: WorkerEvents = new EventEmitter();
  events.on("worker:create", ({ worker }) => {
    instance.workerIds.push(worker.workerId);
  });
  const sweep = async () => {
    await beat(deps.db, instance);
    const released = await releaseDeadWorkers(deps.db, instance);
    if (released.length) log.warn({ workerIds: released }, "released jobs held by workers of a stopped process");
  };
  // Registered (with no workers yet) before the first job can be taken.
  await sweep();
  const runner = await run({
    pgPool: pool,
    taskList: taskList(deps),
    concurrency,
    noHandleSignals: true,
    pollInterval: 2000,
    // No cron: an empty list, so graphile-worker neither reads a `crontab` file from the working directory
    // nor logs that cron is disabled.
    parsedCronItems: [],
    logger: workerLogger(log),
    events,
  });
  await beat(deps.db, instance);
  let sweeping = Promise.resolve();
  const timer = setInterval(() => {
    sweeping = sweep().catch((err: unknown) => log.warn({ err }, "worker heartbeat or sweep failed"));
  }, LIVENESS.heartbeatMs);
  timer.unref();
  const stop = runner.stop;
  runner.stop = async () => {
    clearInterval(timer);
    await sweeping;
    await stop();
    await unregister(deps.db, instance.id).catch((err: unknown) => log.warn({ err }, "worker unregister failed"));
  };
  return runner;
}
