import https from "node:https";
import type { KubeSim } from "./cluster.ts";
import type { Json, JsonObject } from "./json.ts";

export interface ApiResponse {
  status: number;
  contentType: string;
  text: string;
  json: JsonObject;
}

/** One raw HTTPS request to the simulator, trusting its certificate, with the admin token by default. */
export function request(
  sim: KubeSim,
  method: string,
  path: string,
  opts: { body?: Json | string; contentType?: string; accept?: string; token?: string | null } = {},
): Promise<ApiResponse> {
  const url = new URL(path, sim.url);
  const body =
    opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = { accept: opts.accept ?? "application/json" };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? sim.token}`;
  if (body !== undefined) headers["content-type"] = opts.contentType ?? "application/json";
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: sim.certificate }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
      });
      res.on("end", () => {
        let json: JsonObject = {};
        try {
          json = JSON.parse(text) as JsonObject;
        } catch {
          // not JSON (logs)
        }
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), text, json });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A raw watch: the events received so far, a wait for a count, and stop. */
export function watch(sim: KubeSim, path: string) {
  const events: { type: string; object: JsonObject }[] = [];
  let buffer = "";
  let ended = false;
  const req = https.request(
    new URL(path, sim.url),
    { headers: { authorization: `Bearer ${sim.token}` }, ca: sim.certificate },
    (res) => {
      res.on("data", (d: Buffer) => {
        buffer += d.toString();
        let nl = buffer.indexOf("\n");
        while (nl >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.trim()) events.push(JSON.parse(line) as { type: string; object: JsonObject });
          nl = buffer.indexOf("\n");
        }
      });
      res.on("end", () => {
        ended = true;
      });
    },
  );
  req.on("error", () => {});
  req.end();
  return {
    events,
    ended: () => ended,
    until: async (count: number, timeoutMs = 5000) => {
      const start = Date.now();
      while (events.length < count) {
        if (Date.now() - start > timeoutMs) throw new Error(`watch ${path}: ${events.length} of ${count} events`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return events;
    },
    stop: () => req.destroy(),
  };
}
