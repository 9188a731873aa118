import { Readable } from "node:stream";
import { auditFilter } from "@juanie/contracts";
import { type Actor, type Deps, DomainError, exportAuditEntries } from "@juanie/domain";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";

const query = auditFilter.extend({
  format: z.enum(["csv", "json", "jsonl"], { message: "must be csv, json or jsonl" }).default("csv"),
});

const contentTypes = {
  csv: "text/csv; charset=utf-8",
  json: "application/json; charset=utf-8",
  // JSON lines: one entry per line.
  jsonl: "application/x-ndjson",
} as const;

/** GET /api/audit/export?format=csv|json|jsonl&<filters>: a streamed download of every matching entry. */
export function registerAuditExport(
  app: FastifyInstance,
  deps: Deps,
  actorOf: (req: FastifyRequest) => Promise<Actor | null>,
): void {
  app.get("/api/audit/export", async (req, reply) => {
    const actor = await actorOf(req);
    if (!actor) return reply.code(401).send({ code: "UNAUTHENTICATED", message: "Sign in required" });
    const parsed = query.safeParse(req.query);
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      return reply.code(400).send({ code: "INVALID_INPUT", message: `Invalid input: ${msg}` });
    }
    const { format, ...filter } = parsed.data;
    const chunks = exportAuditEntries(deps, actor, filter, format);
    // Pull the first chunk before answering so that a denial is a proper 403, not a broken download.
    let first: IteratorResult<string>;
    try {
      first = await chunks.next();
    } catch (err) {
      if (err instanceof DomainError) {
        const status = err.code === "FORBIDDEN" ? 403 : err.code === "NOT_FOUND" ? 404 : 400;
        return reply.code(status).send({ code: err.code, message: err.message });
      }
      throw err;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    reply
      .header("content-type", contentTypes[format])
      .header("content-disposition", `attachment; filename="juanie-audit-${stamp}.${format}"`);
    async function* all() {
      if (!first.done) yield first.value;
      yield* chunks;
    }
    return reply.send(Readable.from(all()));
  });
}
