import { describe, expect, it } from "vitest";
import { httpErrorCode, ownOriginCheck, RouteTable } from "./http-errors.ts";

describe("ownOriginCheck", () => {
  it("accepts only the public URL's origin", () => {
    const own = ownOriginCheck("https://juanie.example.com");
    expect(own("https://juanie.example.com")).toBe(true);
    for (const origin of [
      "http://juanie.example.com",
      "https://juanie.example.com:8443",
      "https://evil.example",
      "https://juanie.example.com.evil.example",
      "null",
      "https://localhost",
    ]) {
      expect(own(origin), origin).toBe(false);
    }
  });

  it("for a loopback public URL, takes the other loopback spellings of the same scheme and port", () => {
    const own = ownOriginCheck("http://localhost:3000");
    for (const origin of ["http://localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000"]) {
      expect(own(origin), origin).toBe(true);
    }
    for (const origin of [
      "http://127.0.0.1:3001",
      "https://127.0.0.1:3000",
      "http://10.0.0.1:3000",
      "http://localhost.evil.example:3000",
      "http://127.0.0.1:3000/path",
      "not a url",
    ]) {
      expect(own(origin), origin).toBe(false);
    }
  });
});

describe("RouteTable", () => {
  it("matches Fastify's patterns and lists the methods a path takes", () => {
    const routes = new RouteTable();
    routes.add("/api/webhooks/:kind/:repositoryId", "POST");
    routes.add("/healthz", ["GET", "HEAD"]);
    routes.add("/trpc/*", ["GET", "POST"]);
    expect(routes.methodsFor("/api/webhooks/github/abc")).toEqual(["POST"]);
    expect(routes.methodsFor("/api/webhooks/github")).toEqual([]);
    expect(routes.methodsFor("/api/webhooks/github/abc/extra")).toEqual([]);
    expect(routes.methodsFor("/healthz")).toEqual(["GET"]);
    expect(routes.methodsFor("/trpc/orgs.list")).toEqual(["GET", "POST"]);
    expect(routes.methodsFor("/nothing")).toEqual([]);
  });
});

describe("httpErrorCode", () => {
  it("names what the client did wrong", () => {
    expect([400, 401, 403, 404, 405, 409, 413, 415].map(httpErrorCode)).toEqual([
      "INVALID_INPUT",
      "UNAUTHENTICATED",
      "FORBIDDEN",
      "NOT_FOUND",
      "METHOD_NOT_ALLOWED",
      "CONFLICT",
      "INVALID_INPUT",
      "UNSUPPORTED_MEDIA_TYPE",
    ]);
  });
});
