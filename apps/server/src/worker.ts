import { type JobDeps, type JobName, type JobPayloads, jobHandlers } from "@juanie/domain";
import { type Runner, run, runMigrations, type Task, type TaskList, Logger as WorkerLogger } from "graphile-worker";
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

/** Runs job handlers in this process. Several replicas may run it: jobs are claimed with SKIP LOCKED. */
export async function startWorker(pool: pg.Pool, deps: JobDeps, log: Logger, concurrency: number): Promise<Runner> {
  return run({
    pgPool: pool,
    taskList: taskList(deps),
    concurrency,
    noHandleSignals: true,
    pollInterval: 2000,
    crontab: "",
    logger: workerLogger(log),
  });
}
