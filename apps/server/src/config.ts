import path from "node:path";
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");
const url = z.url({ protocol: /^https?$/, message: "must be an absolute http(s) URL such as https://example.com" });
const port = z.coerce
  .number({ message: "must be a number" })
  .int({ message: "must be a whole number" })
  .min(0, { message: "must be 0–65535" })
  .max(65535, { message: "must be 0–65535" });

/** Every environment variable the server reads. `.env.example` and the README list the same. */
const schema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  JUANIE_PUBLIC_URL: url.optional(),
  JUANIE_DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { message: "must be a postgres:// or postgresql:// connection URL" })
    .optional(),
  JUANIE_EMBEDDED_PG_PORT: port.default(5433),
  // `warn`: a normal start prints one line (main.ts) and a normal stop nothing; `info` adds start-up
  // steps, requests and job runs.
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("warn"),
  JUANIE_ALLOW_SIGNUP: bool.default(false),
  JUANIE_SESSION_TTL_HOURS: z.coerce.number({ message: "must be a number" }).int().min(1).max(8760).default(168),
  JUANIE_TRUST_PROXY: bool.default(false),
  JUANIE_WORKER_CONCURRENCY: z.coerce.number({ message: "must be a number" }).int().min(1).max(64).default(4),
  GITHUB_CLIENT_ID: z.string().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
  GITHUB_URL: url.default("https://github.com"),
  GITHUB_API_URL: url.default("https://api.github.com"),
  GITLAB_CLIENT_ID: z.string().min(1).optional(),
  GITLAB_CLIENT_SECRET: z.string().min(1).optional(),
  GITLAB_URL: url.default("https://gitlab.com"),
  JUANIE_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, { message: "must be an smtp:// or smtps:// URL" })
    .optional(),
  JUANIE_MAIL_FROM: z.string().min(3).default("Juanie <juanie@localhost>"),
  JUANIE_SECRET_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/_-]{43}=?$/, { message: "must be 32 random bytes in base64 (openssl rand -base64 32)" })
    .optional(),
  JUANIE_ALLOW_LOCAL_REPOSITORIES: bool.default(false),
  JUANIE_APPROVAL_TTL_HOURS: z.coerce.number({ message: "must be a number" }).int().min(1).max(720).default(72),
  JUANIE_SCHEDULER_INTERVAL_MS: z.coerce
    .number({ message: "must be a number" })
    .int()
    .min(200)
    .max(600_000)
    .default(10_000),
  JUANIE_KUSTOMIZE: z.string().min(1).optional(),
  JUANIE_KUBECONFIG_EXEC: bool.default(false),
  JUANIE_LEASE_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: "must be a Kubernetes namespace name" })
    .default("kube-system"),
  JUANIE_LEASE_DURATION_SECONDS: z.coerce.number({ message: "must be a number" }).int().min(2).max(300).default(15),
  JUANIE_CLUSTER_CHECK_INTERVAL_MS: z.coerce
    .number({ message: "must be a number" })
    .int()
    .min(1000)
    .max(3_600_000)
    .default(60_000),
  JUANIE_GIT_AUTHOR_NAME: z.string().min(1).max(100).default("Juanie"),
  JUANIE_GIT_AUTHOR_EMAIL: z.email({ message: "must be an e-mail address" }).default("juanie@localhost"),
});

export type Env = z.infer<typeof schema>;

export interface OAuthClientConfig {
  clientId: string;
  clientSecret: string;
}

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl: string | undefined;
  embeddedPgPort: number;
  logLevel: Env["LOG_LEVEL"];
  allowSignup: boolean;
  sessionTtlHours: number;
  trustProxy: boolean;
  workerConcurrency: number;
  github: (OAuthClientConfig & { url: string; apiUrl: string }) | null;
  gitlab: (OAuthClientConfig & { url: string }) | null;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** 32-byte key for secrets at rest; when unset, one is generated into the data directory. */
  secretKey: Buffer | null;
  allowLocalRepositories: boolean;
  approvalTtlHours: number;
  /** How often due syncs (push detection without webhooks) and approval expiry are checked. */
  schedulerIntervalMs: number;
  gitIdentity: { name: string; email: string };
  /** kustomize or kubectl binary that verifies deploy plans; null: search PATH, then ./.tools. */
  kustomize: string | null;
  /** Kubeconfigs with `exec` credential plugins run a program on this host: refused unless allowed. */
  allowKubeconfigExec: boolean;
  /** How often every cluster's connection and Flux health are checked. */
  clusterCheckIntervalMs: number;
  /** Namespace (existing, in every cluster) of the Lease that elects the replica watching it. */
  leaseNamespace: string;
  /** How long a replica's claim on a cluster's watch lasts without renewal (another takes over after it). */
  leaseDurationSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Reads and validates the environment; every bad variable is named with its rule. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, the way shells and .env files usually mean them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  // Every problem at once, so that fixing the environment takes one round.
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  for (const name of ["GITHUB", "GITLAB"]) {
    if (!!cleaned[`${name}_CLIENT_ID`] !== !!cleaned[`${name}_CLIENT_SECRET`]) {
      problems.push(`${name}_CLIENT_ID and ${name}_CLIENT_SECRET: set both or neither`);
    }
  }
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const e = parsed.data;
  const pair = (id?: string, secret?: string) => (id && secret ? { clientId: id, clientSecret: secret } : null);
  const gh = pair(e.GITHUB_CLIENT_ID, e.GITHUB_CLIENT_SECRET);
  const gl = pair(e.GITLAB_CLIENT_ID, e.GITLAB_CLIENT_SECRET);
  const publicHost = ["0.0.0.0", "::", "127.0.0.1", "::1"].includes(e.HOST) ? "localhost" : e.HOST;
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.JUANIE_PUBLIC_URL ?? `http://${publicHost}:${e.PORT}`).replace(/\/$/, ""),
    dataDir: path.resolve(e.JUANIE_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    embeddedPgPort: e.JUANIE_EMBEDDED_PG_PORT,
    logLevel: e.LOG_LEVEL,
    allowSignup: e.JUANIE_ALLOW_SIGNUP,
    sessionTtlHours: e.JUANIE_SESSION_TTL_HOURS,
    trustProxy: e.JUANIE_TRUST_PROXY,
    workerConcurrency: e.JUANIE_WORKER_CONCURRENCY,
    github: gh ? { ...gh, url: e.GITHUB_URL.replace(/\/$/, ""), apiUrl: e.GITHUB_API_URL.replace(/\/$/, "") } : null,
    gitlab: gl ? { ...gl, url: e.GITLAB_URL.replace(/\/$/, "") } : null,
    smtpUrl: e.JUANIE_SMTP_URL,
    mailFrom: e.JUANIE_MAIL_FROM,
    secretKey: e.JUANIE_SECRET_KEY
      ? Buffer.from(e.JUANIE_SECRET_KEY, e.JUANIE_SECRET_KEY.match(/[-_]/) ? "base64url" : "base64")
      : null,
    allowLocalRepositories: e.JUANIE_ALLOW_LOCAL_REPOSITORIES,
    approvalTtlHours: e.JUANIE_APPROVAL_TTL_HOURS,
    schedulerIntervalMs: e.JUANIE_SCHEDULER_INTERVAL_MS,
    gitIdentity: { name: e.JUANIE_GIT_AUTHOR_NAME, email: e.JUANIE_GIT_AUTHOR_EMAIL },
    kustomize: e.JUANIE_KUSTOMIZE ?? null,
    allowKubeconfigExec: e.JUANIE_KUBECONFIG_EXEC,
    clusterCheckIntervalMs: e.JUANIE_CLUSTER_CHECK_INTERVAL_MS,
    leaseNamespace: e.JUANIE_LEASE_NAMESPACE,
    leaseDurationSeconds: e.JUANIE_LEASE_DURATION_SECONDS,
  };
}
