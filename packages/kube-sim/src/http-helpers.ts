import type http from "node:http";
import { parse as parseYaml } from "yaml";
import { badRequest } from "./errors.ts";
import type { Json, JsonObject } from "./json.ts";
import type { PatchType } from "./store.ts";

/** The simulated API server's version: what `kubectl version` and the platform's connection check read. */
export const SIMULATOR_GIT_VERSION = "v1.35.0+juanie-simulator";

/**
 * An OpenAPI v2 document with no schemas, in the protobuf form kubectl asks for (gnostic's Document: swagger
 * "2.0", info, empty paths). kubectl falls back to it for kinds it cannot find; without a schema for a kind
 * it skips client-side validation, so a custom resource applied with its CRD fails the way it does on a
 * real cluster ("ensure CRDs are installed first") rather than on a missing document.
 */
export const OPENAPI_V2_EMPTY = (() => {
  const field = (tag: number, bytes: Buffer) => Buffer.concat([Buffer.from([tag, bytes.length]), bytes]);
  const info = Buffer.concat([field(0x0a, Buffer.from("Kubernetes")), field(0x12, Buffer.from("v1.35.0"))]);
  return Buffer.concat([field(0x0a, Buffer.from("2.0")), field(0x12, info), field(0x42, Buffer.alloc(0))]);
})();

export const PATCH_TYPES: Record<string, PatchType> = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
};

/** kubectl names itself in the user agent (`kubectl/v1.35.2 (linux/amd64) …`): the default field manager. */
export function managerFromUserAgent(ua: string): string {
  const first = ua.split("/")[0]?.trim();
  return first || "unknown";
}

export function wantsTable(accept: string): boolean {
  return accept.includes("as=Table");
}

export function gracePeriod(v: Json | undefined): { gracePeriodSeconds?: number } {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? { gracePeriodSeconds: n } : {};
}

export function isTrue(v: string | null): boolean {
  return v === "true" || v === "1";
}

export function versionInfo(): JsonObject {
  return {
    major: "1",
    minor: "35",
    gitVersion: SIMULATOR_GIT_VERSION,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2026-01-01T00:00:00Z",
    goVersion: "go1.25.0",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

export function parseBody(req: { body?: string | undefined }, yaml = false): Json {
  if (!req.body) throw badRequest("the request needs a body");
  try {
    return (yaml ? parseYaml(req.body) : JSON.parse(req.body)) as Json;
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded: ${(e as Error).message}`);
  }
}

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function send(res: http.ServerResponse, code: number, body: Json, contentType = "application/json") {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function encodeContinue(rv: number, after: string): string {
  return Buffer.from(JSON.stringify({ rv, after })).toString("base64url");
}

export function decodeContinue(token: string): { rv: number; after: string } {
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { rv: number; after: string };
    if (typeof v.rv === "number" && typeof v.after === "string") return v;
  } catch {
    // fall through
  }
  throw badRequest("continue key is not valid");
}
