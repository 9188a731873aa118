import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const get = (path: string) => fetch(`${server.url}${path}`);

/** The value of one sample line of the Prometheus text format, or 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const inBraces = line.slice(name.length + 1, line.lastIndexOf("}"));
    const has = Object.entries(labels).every(([k, v]) => inBraces.split(",").includes(`${k}="${v}"`));
    if (has) return Number(line.slice(line.lastIndexOf("}") + 1).trim());
  }
  return 0;
}

describe("health and metrics (no session needed, none given)", () => {
  it("/healthz says the process is alive", async () => {
    const res = await get("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("/readyz is 200 with each check named", async () => {
    const res = await get("/readyz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { database: true, worker: true } });
  });

  it("/metrics serves Prometheus text with request durations by route and status", async () => {
    const before = await (await get("/metrics")).text();
    const count = (text: string, route: string, status: string) =>
      sample(text, "juanie_http_request_duration_seconds_count", { method: "GET", route, status });

    for (let i = 0; i < 3; i++) await (await get("/healthz")).text();
    await (await get("/trpc/orgs.list")).text(); // 401 without a session
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    expect(text).toContain("# TYPE juanie_http_request_duration_seconds histogram");
    expect(text).toContain("# HELP juanie_http_request_duration_seconds ");
    expect(count(text, "/healthz", "200") - count(before, "/healthz", "200")).toBe(3);
    // Every tRPC path is one route label: the label set stays small whatever the API grows to.
    expect(count(text, "/trpc", "401") - count(before, "/trpc", "401")).toBe(1);
    expect(text).not.toContain('route="/trpc/orgs.list"');
    const inf = sample(text, "juanie_http_request_duration_seconds_bucket", {
      route: "/healthz",
      status: "200",
      le: "+Inf",
    });
    expect(inf).toBe(count(text, "/healthz", "200"));
    // The process's own metrics carry the same prefix.
    expect(text).toMatch(/^juanie_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^juanie_nodejs_eventloop_lag_seconds \d/m);
  });
});
