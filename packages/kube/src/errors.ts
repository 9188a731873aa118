import { ApiException } from "@kubernetes/client-node";

export type ClusterErrorReason =
  | "unreachable"
  | "timeout"
  | "tls"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "invalid"
  | "gone"
  | "server";

/**
 * Anything that went wrong talking to a cluster, with a message a user can act on. Never carries
 * credentials: the original error (whose text may hold request headers) is not kept.
 */
export class ClusterError extends Error {
  readonly reason: ClusterErrorReason;
  /** The HTTP status, when the cluster answered. */
  readonly status?: number;
  /** The Kubernetes `Status.reason` (NotFound, AlreadyExists, …), when the cluster sent one. */
  readonly k8sReason?: string;
  /** The node error code (ECONNREFUSED, CERT_HAS_EXPIRED, …), when the request failed before an answer. */
  readonly code?: string;
  constructor(
    reason: ClusterErrorReason,
    message: string,
    extra: { status?: number; k8sReason?: string; code?: string } = {},
  ) {
    super(message);
    this.name = "ClusterError";
    this.reason = reason;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.k8sReason !== undefined) this.k8sReason = extra.k8sReason;
    if (extra.code !== undefined) this.code = extra.code;
  }
}

const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);

interface StatusBody {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

function statusBody(body: unknown): StatusBody | undefined {
  let b = body;
  if (typeof body === "string") {
    try {
      b = JSON.parse(body);
    } catch {
      return { message: body.slice(0, 300) };
    }
  }
  if (typeof b === "object" && b !== null && !Array.isArray(b)) return b as StatusBody;
  return undefined;
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === "string") return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Turns a client-node / node-fetch / socket error (or a Status) into a ClusterError. */
export function normaliseClusterError(e: unknown, server: string, opts: { timeoutMs?: number } = {}): ClusterError {
  if (e instanceof ClusterError) return e;
  if (e instanceof ApiException) return fromStatus(e.code, statusBody(e.body));
  const name = (e as { name?: unknown })?.name;
  if (name === "AbortError" || name === "TimeoutError") {
    const after = opts.timeoutMs !== undefined ? ` within ${opts.timeoutMs / 1000} s` : "";
    return new ClusterError("timeout", `the cluster at ${server} did not answer${after}`);
  }
  const code = errorCode(e);
  if (code) {
    const host = safeHost(server);
    switch (code) {
      case "ECONNREFUSED":
        return new ClusterError("unreachable", `cannot reach ${server}: connection refused`, { code });
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return new ClusterError("unreachable", `cannot reach ${server}: the host name ${host} is not found (DNS)`, {
          code,
        });
      case "ETIMEDOUT":
        return new ClusterError("timeout", `cannot reach ${server}: the connection timed out`, { code });
      case "EHOSTUNREACH":
      case "ENETUNREACH":
        return new ClusterError("unreachable", `cannot reach ${server}: no route to the host`, { code });
      case "ECONNRESET":
      case "EPIPE":
        return new ClusterError(
          "unreachable",
          `cannot reach ${server}: the connection was reset (is it a Kubernetes API server over https?)`,
          { code },
        );
      case "EPROTO":
      case "ERR_SSL_WRONG_VERSION_NUMBER":
        return new ClusterError("tls", `cannot talk TLS to ${server}: the server did not answer with TLS (${code})`, {
          code,
        });
      case "ERR_TLS_CERT_ALTNAME_INVALID":
        return new ClusterError(
          "tls",
          `the cluster's certificate is not valid for the host ${host} (ERR_TLS_CERT_ALTNAME_INVALID)`,
          { code },
        );
      case "CERT_HAS_EXPIRED":
        return new ClusterError("tls", "the cluster's certificate has expired (CERT_HAS_EXPIRED)", { code });
      case "CERT_NOT_YET_VALID":
        return new ClusterError("tls", "the cluster's certificate is not valid yet (CERT_NOT_YET_VALID)", { code });
    }
    if (UNTRUSTED.has(code)) {
      return new ClusterError("tls", `the cluster's certificate is not trusted by the kubeconfig's CA (${code})`, {
        code,
      });
    }
    if (code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || code.includes("CERT")) {
      return new ClusterError("tls", `TLS with ${server} failed (${code})`, { code });
    }
    return new ClusterError("unreachable", `cannot reach ${server} (${code})`, { code });
  }
  const msg = e instanceof Error ? e.message : String(e);
  const unserved = /Unrecognized API version and kind: (\S+) (\S+)/.exec(msg);
  if (unserved) return new ClusterError("not_found", `the cluster does not serve ${unserved[1]} ${unserved[2]}`);
  return new ClusterError("server", `request to ${server} failed: ${msg.split("\n")[0]!.slice(0, 300)}`);
}

function safeHost(server: string): string {
  try {
    return new URL(server).hostname;
  } catch {
    return server;
  }
}

function fromStatus(code: number, body: StatusBody | undefined): ClusterError {
  const k8sMessage = body?.message ?? "";
  const extra = { status: code, ...(body?.reason ? { k8sReason: body.reason } : {}) };
  switch (code) {
    case 401:
      return new ClusterError("unauthorized", "the cluster rejected the credentials (401 Unauthorized)", extra);
    case 403:
      return new ClusterError("forbidden", `forbidden: ${k8sMessage || "the user may not do this (403)"}`, extra);
    case 404:
      return new ClusterError("not_found", k8sMessage || "not found (404)", extra);
    case 409:
      return new ClusterError("conflict", k8sMessage || "conflict (409)", extra);
    case 410:
      return new ClusterError("gone", k8sMessage || "the requested version is gone (410)", extra);
    case 400:
    case 415:
    case 422:
      return new ClusterError("invalid", k8sMessage || `the cluster refused the request as invalid (${code})`, extra);
  }
  return new ClusterError("server", `the cluster answered ${code}${k8sMessage ? `: ${k8sMessage}` : ""}`, extra);
}
