import path from "node:path";
import { createDb, migrateDb, startEmbeddedPostgres } from "@juanie/db";
import {
  expireApprovals,
  type GitOpsDeps,
  purgeExpiredSessions,
  requeueOrphanedCommits,
  SecretBox,
  scheduleDueSyncs,
  systemClock,
} from "@juanie/domain";
import { GitEngine } from "@juanie/git";
import { createProviderAdapter } from "@juanie/providers";
import type { Logger } from "pino";
import { buildApp } from "./app.ts";
import type { Config } from "./config.ts";
import { createMailer } from "./mailer.ts";
import { Realtime } from "./realtime.ts";
import { loadSecretKey } from "./secret-key.ts";
import { migrateQueue, startWorker } from "./worker.ts";

export interface Platform {
  url: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

/**
 * The composition root: the only place that builds singletons. Starts PostgreSQL (embedded
 * unless DATABASE_URL is set), applies migrations, then the job worker, realtime and HTTP server.
 */
export async function startPlatform(
  config: Config,
  logger: Logger,
  opts: { webDist?: string } = {},
): Promise<Platform> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of cleanups.reverse()) {
      await fn().catch((err: unknown) => logger.error({ err }, "shutdown step failed"));
    }
  };
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(config.dataDir, "postgres"),
        port: config.embeddedPgPort,
        onLog: (line) => logger.debug({ component: "postgres" }, line.trim()),
        onNotice: (message) => logger.warn({ component: "postgres" }, message),
      });
      cleanups.push(() => pg.stop());
      databaseUrl = pg.url;
      logger.info({ dataDir: config.dataDir }, "embedded PostgreSQL started");
    }
    const { db, pool, close } = createDb(databaseUrl, { max: 20 });
    cleanups.push(close);
    await migrateDb(db);
    await migrateQueue(pool, logger);

    const git = new GitEngine({
      cacheDir: path.join(config.dataDir, "git"),
      identity: config.gitIdentity,
      allowLocal: config.allowLocalRepositories,
      allowInsecureHttp: config.allowLocalRepositories,
    });
    // Runs after the worker has stopped (clean-ups run last first): ends the clones' reader processes.
    cleanups.push(async () => git.close());
    const deps: GitOpsDeps = {
      db,
      clock: systemClock,
      logger,
      config: { publicUrl: config.publicUrl, allowSignup: config.allowSignup, sessionTtlHours: config.sessionTtlHours },
      secrets: new SecretBox(await loadSecretKey(config.secretKey, config.dataDir)),
      git,
      providers: createProviderAdapter,
      gitops: {
        allowLocalRepositories: config.allowLocalRepositories,
        approvalTtlHours: config.approvalTtlHours,
        identity: config.gitIdentity,
      },
    };
    const mailer = await createMailer(config.smtpUrl, config.mailFrom);
    const worker = await startWorker(pool, { ...deps, mailer }, logger, config.workerConcurrency);
    let workerRunning = true;
    void worker.promise.finally(() => {
      workerRunning = false;
    });
    cleanups.push(() => worker.stop());

    const realtime = new Realtime(databaseUrl, (err) => logger.warn({ err }, "realtime listener error"));
    await realtime.start();
    cleanups.push(() => realtime.stop());

    const sweep = setInterval(() => void purgeExpiredSessions(deps).catch(() => {}), 3600_000);
    sweep.unref();
    cleanups.push(async () => clearInterval(sweep));
    // Fallback push detection (environments without webhooks), approval expiry, and commit jobs lost to crashes.
    const tick = async () => {
      await scheduleDueSyncs(deps);
      await expireApprovals(deps);
      await requeueOrphanedCommits(deps);
    };
    const scheduler = setInterval(
      () => void tick().catch((err: unknown) => logger.warn({ err }, "scheduler tick failed")),
      config.schedulerIntervalMs,
    );
    scheduler.unref();
    cleanups.push(async () => clearInterval(scheduler));

    const app = await buildApp({
      deps,
      config,
      logger,
      realtime,
      webDist: opts.webDist,
      readiness: async () => ({ worker: workerRunning }),
    });
    cleanups.push(() => app.close());
    await app.listen({ port: config.port, host: config.host });
    return { url: config.publicUrl, databaseUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
