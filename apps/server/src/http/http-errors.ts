import type { ErrorCode } from "@juanie/contracts";

/** The code a 4xx answer carries: what the client did wrong, never "Internal error". */
export function httpErrorCode(status: number): ErrorCode {
  if (status === 401) return "UNAUTHENTICATED";
  if (status === 403) return "FORBIDDEN";
  if (status === 404) return "NOT_FOUND";
  if (status === 405) return "METHOD_NOT_ALLOWED";
  if (status === 409) return "CONFLICT";
  if (status === 415) return "UNSUPPORTED_MEDIA_TYPE";
  return "INVALID_INPUT";
}

const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Whether an `Origin` header names the platform's public URL. The one exception: when the public URL is a
 * loopback address (the default `http://localhost:3000`), the other loopback spellings of the same scheme
 * and port count too — a browser on this machine may open `127.0.0.1`, and nothing remote can be loopback.
 */
export function ownOriginCheck(publicUrl: string): (origin: string) => boolean {
  const own = new URL(publicUrl);
  return (origin) => {
    if (origin === own.origin) return true;
    if (!loopbackHosts.has(own.hostname)) return false;
    let o: URL;
    try {
      o = new URL(origin);
    } catch {
      return false;
    }
    return o.origin === origin && o.protocol === own.protocol && o.port === own.port && loopbackHosts.has(o.hostname);
  };
}

/** Registered routes (Fastify's patterns: `:param`, `*`) and their methods, matched against a request path. */
export class RouteTable {
  private readonly routes: { pattern: RegExp; methods: string[] }[] = [];

  add(url: string, method: string | string[]): void {
    const source = url
      .split("/")
      .map((part) =>
        part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
      )
      .join("/");
    this.routes.push({ pattern: new RegExp(`^${source}/?$`), methods: Array.isArray(method) ? method : [method] });
  }

  /** The methods some route takes at `pathname` (empty: no route there at all). */
  methodsFor(pathname: string): string[] {
    const out = new Set<string>();
    for (const r of this.routes) if (r.pattern.test(pathname)) for (const m of r.methods) out.add(m);
    return [...out].filter((m) => m !== "HEAD").sort();
  }
}
