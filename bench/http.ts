// A minimal HTTP client on node:http (less overhead and noise than fetch) and the tRPC calls the bench needs.
import http from "node:http";

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(
  method: "GET" | "POST",
  url: string,
  opts: { headers?: http.OutgoingHttpHeaders; body?: string; agent?: http.Agent; timeoutMs?: number } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers: opts.headers, agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

export type Input = Record<string, string | number | null | undefined>;

export const queryUrl = (baseUrl: string, procedure: string, input: Input) =>
  `${baseUrl}/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;

/** The `result.data` of a tRPC response; throws with the body on anything but 200. */
export function trpcData<T>(res: Response, what: string): T {
  if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status} ${res.body.slice(0, 500)}`);
  return (JSON.parse(res.body) as { result: { data: T } }).result.data;
}

/** `agent`: a keep-alive agent, as a browser keeps its connection to the server open. */
export async function mutation<T>(
  baseUrl: string,
  procedure: string,
  input: object,
  cookie?: string,
  agent?: http.Agent,
) {
  const res = await request("POST", `${baseUrl}/trpc/${procedure}`, {
    headers: { origin: baseUrl, "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(input),
    agent,
  });
  return { data: trpcData<T>(res, procedure), res };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
