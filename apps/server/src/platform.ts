import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createDb, migrateDb, startEmbeddedPostgres } from "@juanie/db";
import {
  checkClustersHealth,
  expireApprovals,
  type GitOpsDeps,
  needsSetup,
  pruneWebhookDeliveries,
  purgeExpiredSessions,
  requeueOrphanedCommits,
  SecretBox,
  scheduleDueSyncs,
  systemClock,
} from "@juanie/domain";
import { GitEngine } from "@juanie/git";
import { locateKustomize } from "@juanie/manifests";
import { createProviderAdapter } from "@juanie/providers";
import type { Logger } from "pino";
import { buildApp } from "./app.ts";
import { ClusterWatchSupervisor } from "./cluster-watch.ts";
import type { Config } from "./config.ts";
import { createKubePort } from "./kube-port.ts";
import { createMailer } from "./mailer.ts";
import { Realtime } from "./realtime.ts";
import { loadSecretKey } from "./secret-key.ts";
import { migrateQueue, startWorker } from "./worker.ts";

/** The kubectl `scripts/fetch-kubectl.mjs` installs into `.tools/` of the checkout this code runs from. */
function bundledKubectl(): string[] {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, ".tools", "kubectl-v35", "kubectl");
    if (existsSync(candidate)) return [candidate];
    dir = path.dirname(dir);
  }
  return [];
}

export interface Platform {
  url: string;
  databaseUrl: string;
  /** This process's identity as holder of the clusters' watch Leases. */
  watchIdentity: string;
  /** Where the HTTP server listens (http://host:port). */
  listening: string;
  /** No account exists yet: the first visit creates the administrator. */
  needsSetup(): Promise<boolean>;
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
    // Keys a killed predecessor left on disk mid-operation go before anything else runs.
    await git.sweepCredentialFiles();
    // Runs after the worker has stopped (clean-ups run last first): ends the clones' reader processes.
    cleanups.push(async () => git.close());
    // `none` turns verification off on purpose (the bench measures previews without it).
    const kustomize =
      config.kustomize === "none"
        ? null
        : await locateKustomize({ configured: config.kustomize, fallbacks: bundledKubectl() });
    if (config.kustomize && config.kustomize !== "none" && !kustomize) {
      throw new Error(
        `JUANIE_KUSTOMIZE: ${config.kustomize} must be a kustomize or kubectl binary that runs (\`kustomize version\` or \`kubectl version --client\` failed)`,
      );
    }
    if (kustomize)
      logger.info({ kustomize: kustomize.binary, version: kustomize.version }, "deploys are render-verified");
    else
      logger.warn(
        { configured: config.kustomize },
        "no kustomize found: deploy previews are not render-verified (set JUANIE_KUSTOMIZE or run `node scripts/fetch-kubectl.mjs`)",
      );
    const deps: GitOpsDeps = {
      db,
      clock: systemClock,
      logger,
      config: { publicUrl: config.publicUrl, allowSignup: config.allowSignup, sessionTtlHours: config.sessionTtlHours },
      secrets: new SecretBox(await loadSecretKey(config.secretKey, config.dataDir)),
      git,
      providers: createProviderAdapter,
      kube: createKubePort({ allowExec: config.allowKubeconfigExec }),
      gitops: {
        allowLocalRepositories: config.allowLocalRepositories,
        approvalTtlHours: config.approvalTtlHours,
        identity: config.gitIdentity,
        kustomize,
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

    // Live status: one replica per cluster (a Lease in the cluster) watches Flux and feeds the reducers.
    const watchIdentity = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    const watch = new ClusterWatchSupervisor(deps, logger, {
      identity: watchIdentity,
      leaseNamespace: config.leaseNamespace,
      leaseDurationSeconds: config.leaseDurationSeconds,
      discoveryIntervalMs: 5_000,
    });
    const watchEvents = new AbortController();
    void (async () => {
      for await (const event of realtime.events(watchEvents.signal)) watch.onEvent(event);
    })().catch((err: unknown) => logger.warn({ err }, "cluster watch event loop ended"));
    void watch.start().catch((err: unknown) => logger.warn({ err }, "cluster status watch did not start"));
    cleanups.push(async () => {
      watchEvents.abort();
      await watch.stop();
    });

    const sweep = setInterval(() => {
      void purgeExpiredSessions(deps).catch(() => {});
      void pruneWebhookDeliveries(deps).catch(() => {});
    }, 3600_000);
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
    // Every cluster's connection and Flux controllers; admins are told when Flux turns unhealthy.
    const clusterHealth = setInterval(
      () => void checkClustersHealth(deps).catch((err: unknown) => logger.warn({ err }, "cluster health check failed")),
      config.clusterCheckIntervalMs,
    );
    clusterHealth.unref();
    cleanups.push(async () => clearInterval(clusterHealth));

    const app = await buildApp({
      deps,
      config,
      logger,
      realtime,
      webDist: opts.webDist,
      readiness: async () => ({ worker: workerRunning }),
    });
    cleanups.push(() => app.close());
    const listening = await app.listen({ port: config.port, host: config.host });
    return { url: config.publicUrl, databaseUrl, watchIdentity, listening, needsSetup: () => needsSetup(deps), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
