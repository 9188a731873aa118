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
  "secretKey",
  "config.secretKey",
  "config.databaseUrl",
  "config.github.clientSecret",
  "config.gitlab.clientSecret",
  "config.smtpUrl",
];

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Paths whose last segment is a bearer secret: the web UI's invitation page (`/invitations/<token>`). */
const secretInPath = /^(\/invitations\/)[^/?#]+/;

/**
 * Replaces Fastify's request serializer: the query string is left out because it carries secrets
 * (tRPC query inputs such as invitation tokens, OAuth `code` and `state`), and so are tokens in paths.
 */
export function serializeRequest(req: LoggedRequest) {
  const url = req.url?.split("?")[0]?.replace(secretInPath, "$1[redacted]");
  return { method: req.method, url, host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: redactPaths, censor: "[redacted]" }, serializers: { req: serializeRequest } },
    destination,
  );
}
