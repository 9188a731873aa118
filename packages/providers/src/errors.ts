import type { ProviderKind } from "./types.ts";

export type ProviderErrorReason =
  | "auth_failed"
  | "not_found"
  | "forbidden"
  | "conflict"
  | "rate_limited"
  | "network"
  | "invalid"
  | "unknown";

/**
 * What went wrong talking to a Git host, in terms a caller can act on. The message names the operation and
 * the host's own explanation; it never contains the token (the underlying client error, whose request
 * carries the credentials, is deliberately not kept as `cause`).
 */
export class ProviderError extends Error {
  readonly reason: ProviderErrorReason;
  readonly status?: number;

  constructor(reason: ProviderErrorReason, message: string, status?: number) {
    super(message);
    this.name = "ProviderError";
    this.reason = reason;
    if (status !== undefined) this.status = status;
  }
}

const reasonText: Record<ProviderErrorReason, string> = {
  auth_failed: "authentication failed (check the access token)",
  not_found: "not found (or not visible to this token)",
  forbidden: "no permission",
  conflict: "conflict",
  rate_limited: "rate limited by the host",
  network: "could not reach the host",
  invalid: "rejected as invalid",
  unknown: "unexpected error",
};

const providerName: Record<ProviderKind, string> = { github: "GitHub", gitlab: "GitLab" };

/** Builds the error for `operation` (e.g. `get repository acme/app`), scrubbing `secrets` from the host's detail. */
export function providerError(
  kind: ProviderKind,
  operation: string,
  reason: ProviderErrorReason,
  opts: { status?: number; detail?: string; secrets?: readonly string[] } = {},
): ProviderError {
  const status = opts.status !== undefined ? ` (HTTP ${opts.status})` : "";
  const detail = opts.detail ? `: ${scrub(opts.detail, opts.secrets ?? [])}` : "";
  return new ProviderError(
    reason,
    `${providerName[kind]}: ${operation}: ${reasonText[reason]}${status}${detail}`,
    opts.status,
  );
}

/** HTTP status → reason. `hint` is the host's message, used to tell conflicts and rate limits apart. */
export function reasonForStatus(status: number, hint = ""): ProviderErrorReason {
  const text = hint.toLowerCase();
  if (status === 401) return "auth_failed";
  if (status === 429) return "rate_limited";
  if (status === 403) return text.includes("rate limit") ? "rate_limited" : "forbidden";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 400 || status === 422) {
    return /already (exists|been taken)/.test(text) ? "conflict" : "invalid";
  }
  if (status === 502 || status === 503 || status === 504) return "network";
  return "unknown";
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("[REDACTED]");
  }
  // Host messages are short; a long one is an HTML error page or similar.
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}
