import { createServer, type IncomingHttpHeaders } from "node:http";

/** One request as the fake received it: path segments already URL-decoded, JSON body parsed. */
export interface RecordedRequest {
  method: string;
  /** The raw path, still percent-encoded (`/api/v4/projects/acme%2Fapp`). */
  rawPath: string;
  /** Decoded path segments (`["api", "v4", "projects", "acme/app"]`). */
  segments: string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Answer this much later (to test client timeouts). */
  delayMs?: number;
}

export interface FakeServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: RecordedRequest[];
  /** The next request (of any kind) gets this response instead of the normal one. */
  failNext(response: FakeResponse): void;
  close(): Promise<void>;
}

export async function startFakeServer(
  handle: (req: RecordedRequest, baseUrl: string) => FakeResponse | Promise<FakeResponse>,
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const failures: FakeResponse[] = [];
  let baseUrl = "";
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    if (text && req.headers["content-type"]?.includes("application/json")) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const url = new URL(req.url ?? "/", baseUrl);
    const rawPath = url.pathname;
    let segments: string[];
    try {
      segments = rawPath.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      segments = [];
    }
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      rawPath,
      segments,
      query: url.searchParams,
      headers: req.headers,
      body,
    };
    requests.push(recorded);
    let response: FakeResponse;
    try {
      response = failures.shift() ?? (await handle(recorded, baseUrl));
    } catch (error) {
      response = { status: 500, body: { message: error instanceof Error ? error.message : "fake failed" } };
    }
    if (response.delayMs) await new Promise((resolve) => setTimeout(resolve, response.delayMs));
    if (res.destroyed) return;
    const headers: Record<string, string> = { ...response.headers };
    if (response.body !== undefined) headers["content-type"] ??= "application/json";
    res.writeHead(response.status, headers);
    res.end(response.body === undefined ? undefined : JSON.stringify(response.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("fake server has no TCP address");
  baseUrl = `http://127.0.0.1:${address.port}`;
  return {
    url: baseUrl,
    requests,
    failNext: (response) => {
      failures.push(response);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Pagination as both hosts do it: `page`/`per_page` query parameters and a `Link` header. */
export function paginate<T>(
  items: T[],
  req: RecordedRequest,
  baseUrl: string,
  opts: { defaultPerPage: number; maxPerPage: number; gitlabHeaders?: boolean },
): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(Math.max(Number(req.query.get("per_page")) || opts.defaultPerPage, 1), opts.maxPerPage);
  const pageNo = Math.max(Number(req.query.get("page")) || 1, 1);
  const totalPages = Math.max(Math.ceil(items.length / perPage), 1);
  const page = items.slice((pageNo - 1) * perPage, pageNo * perPage);
  const link = (n: number) => {
    const q = new URLSearchParams(req.query);
    q.set("page", String(n));
    q.set("per_page", String(perPage));
    return `${baseUrl}${req.rawPath}?${q.toString()}`;
  };
  const links: string[] = [];
  if (pageNo < totalPages) links.push(`<${link(pageNo + 1)}>; rel="next"`);
  if (pageNo > 1) links.push(`<${link(pageNo - 1)}>; rel="prev"`);
  links.push(`<${link(1)}>; rel="first"`, `<${link(totalPages)}>; rel="last"`);
  const headers: Record<string, string> = { link: links.join(", ") };
  if (opts.gitlabHeaders) {
    Object.assign(headers, {
      "x-page": String(pageNo),
      "x-per-page": String(perPage),
      "x-next-page": pageNo < totalPages ? String(pageNo + 1) : "",
      "x-prev-page": pageNo > 1 ? String(pageNo - 1) : "",
      "x-total": String(items.length),
      "x-total-pages": String(totalPages),
    });
  }
  return { page, headers };
}
