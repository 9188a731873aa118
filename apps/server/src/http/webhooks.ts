import { type GitOpsDeps, receiveWebhook } from "@juanie/domain";
import type { FastifyInstance } from "fastify";

const kinds = new Set(["github", "gitlab", "generic"]);
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * POST /api/webhooks/{github|gitlab|generic}/:repositoryId — push events from the Git host.
 * The body is kept as raw bytes: signatures are computed over exactly what was sent.
 */
export async function registerWebhooks(app: FastifyInstance, deps: GitOpsDeps): Promise<void> {
  await app.register(async (scope) => {
    // Only what the hosts send (GitHub: JSON, or a form with a `payload` field; GitLab: JSON), kept raw;
    // any other content type is answered 415 by Fastify before the handler runs.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      ["application/json", "application/x-www-form-urlencoded"],
      { parseAs: "buffer", bodyLimit: 5 * 1024 * 1024 },
      (_req, body, done) => done(null, body),
    );
    scope.post<{ Params: { kind: string; repositoryId: string } }>(
      "/api/webhooks/:kind/:repositoryId",
      async (req, reply) => {
        const { kind, repositoryId } = req.params;
        if (!kinds.has(kind) || !uuid.test(repositoryId)) {
          return reply.code(404).send({ code: "NOT_FOUND", result: "unknown webhook address" });
        }
        if (kind === "gitlab" && !isJson(req.headers["content-type"])) {
          return reply
            .code(415)
            .send({ code: "UNSUPPORTED_MEDIA_TYPE", message: "GitLab webhooks are sent as application/json" });
        }
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v[0] : v;
        const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const result = await receiveWebhook(deps, {
          kind: kind as "github" | "gitlab" | "generic",
          repositoryId,
          headers,
          rawBody,
        });
        return reply.code(result.status).send(result.body);
      },
    );
  });
}

function isJson(contentType: string | undefined): boolean {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() === "application/json";
}
