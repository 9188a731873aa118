import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink, type TRPCClient } from "@trpc/client";
import { createTestDatabase, freePort } from "../../../test/helpers.ts";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/logger.ts";
import { type Platform, startPlatform } from "../src/platform.ts";
import type { AppRouter } from "../src/trpc/router.ts";

export interface TestServer {
  url: string;
  platform: Platform;
  /** The server's data directory (secret key, Git cache): a fresh temporary one unless JUANIE_DATA_DIR is given. */
  dataDir: string;
  /** Every log line the server wrote (to assert that secrets never appear). */
  logs: string[];
  close(): Promise<void>;
}

/** The real server (HTTP, tRPC, worker, realtime) on a fresh database and a free loopback port. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const port = await freePort();
  // Never the repository's ./data: each server gets its own key and Git cache, removed on close.
  const ownDataDir = env.JUANIE_DATA_DIR ? null : await mkdtemp(path.join(os.tmpdir(), "juanie-data-"));
  const dataDir = env.JUANIE_DATA_DIR ?? ownDataDir!;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const config = loadConfig({
    DATABASE_URL: db.url,
    PORT: String(port),
    LOG_LEVEL: "info",
    JUANIE_DATA_DIR: dataDir,
    // CI picks the kustomize the tests verify deploys with (the machine's kubectl, or the bundled one).
    ...(process.env.JUANIE_KUSTOMIZE ? { JUANIE_KUSTOMIZE: process.env.JUANIE_KUSTOMIZE } : {}),
    ...env,
  });
  const platform = await startPlatform(config, createLogger(config.logLevel, sink));
  return {
    url: platform.url,
    platform,
    dataDir: config.dataDir,
    logs,
    async close() {
      await platform.stop();
      await db.drop();
      if (ownDataDir) await rm(ownDataDir, { recursive: true, force: true });
    },
  };
}

/** A browser-like API client: keeps the session cookie it is given, sends our Origin. */
export class Session {
  cookie: string | null = null;
  readonly api: TRPCClient<AppRouter>;

  constructor(readonly baseUrl: string) {
    const fetchWithCookie: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      if (this.cookie) headers.set("cookie", this.cookie);
      headers.set("origin", baseUrl);
      const res = await fetch(input, { ...init, headers });
      const set = res.headers.get("set-cookie");
      if (set) {
        const [pair] = set.split(";");
        this.cookie = pair && !pair.endsWith("=") ? pair : null;
      }
      return res;
    };
    this.api = createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === "subscription",
          true: httpSubscriptionLink({
            url: `${baseUrl}/trpc`,
            EventSource: cookieEventSource(() => this.cookie),
          }),
          false: httpLink({ url: `${baseUrl}/trpc`, fetch: fetchWithCookie }),
        }),
      ],
    });
  }

  /** A raw HTTP request with this session's cookie. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set("cookie", this.cookie);
    return fetch(`${this.baseUrl}${path}`, { ...init, headers, redirect: "manual" });
  }
}

/** Node has no EventSource that sends cookies; this one reads the SSE stream with fetch. */
function cookieEventSource(cookie: () => string | null) {
  return class CookieEventSource extends EventTarget {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSED = 2;
    readonly CONNECTING = 0;
    readonly OPEN = 1;
    readonly CLOSED = 2;
    readyState = 0;
    readonly withCredentials = true;
    onopen: ((e: Event) => void) | null = null;
    onmessage: ((e: MessageEvent) => void) | null = null;
    onerror: ((e: Event) => void) | null = null;
    private readonly abort = new AbortController();

    constructor(readonly url: string) {
      super();
      void this.run();
    }

    private async run() {
      try {
        const headers: Record<string, string> = { accept: "text/event-stream" };
        const c = cookie();
        if (c) headers.cookie = c;
        const res = await fetch(this.url, { headers, signal: this.abort.signal });
        if (!res.ok || !res.body) throw new Error(`SSE ${res.status}`);
        this.readyState = 1;
        this.emit(new Event("open"));
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of res.body) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let idx = buffer.indexOf("\n\n");
          while (idx >= 0) {
            const block = buffer.slice(0, idx);
            buffer = buffer.slice(idx + 2);
            let event = "message";
            const data: string[] = [];
            let id: string | undefined;
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
              else if (line.startsWith("id:")) id = line.slice(3).trim();
            }
            if (data.length) this.emit(new MessageEvent(event, { data: data.join("\n"), lastEventId: id }));
            idx = buffer.indexOf("\n\n");
          }
        }
      } catch {
        // aborted or failed
      }
      if (this.readyState !== 2) {
        this.readyState = 2;
        this.emit(new Event("error"));
      }
    }

    private emit(e: Event) {
      this.dispatchEvent(e);
      if (e.type === "open") this.onopen?.(e);
      if (e.type === "message") this.onmessage?.(e as MessageEvent);
      if (e.type === "error") this.onerror?.(e);
    }

    close() {
      this.readyState = 2;
      this.abort.abort();
    }
  };
}
