import pino, { type Logger } from "pino";

/** Paths never written to the log, wherever they appear in a logged object. */
export const redactPaths = [
  "req.headers.cookie",
  "req.headers.authorization",
  'req.headers["x-gitlab-token"]',
  'res.headers["set-cookie"]',
  "*.password",
  "*.currentPassword",
  "*.newPassword",
  "*.token",
  "*.accessToken",
  "*.clientSecret",
  "*.secret",
  "password",
  "token",
  "databaseUrl",
  "config.databaseUrl",
  "config.github.clientSecret",
  "config.gitlab.clientSecret",
  "config.smtpUrl",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: redactPaths, censor: "[redacted]" } }, destination);
}
