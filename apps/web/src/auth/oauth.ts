import type { Me } from "@juanie/contracts";

export type OAuthProvider = Me["linkedProviders"][number];

/** Codes the server puts in `/sign-in?error=` when an OAuth round trip fails. */
export const oauthErrorCodes = [
  "oauth_denied",
  "oauth_failed",
  "oauth_state",
  "oauth_email_taken",
  "oauth_already_linked",
] as const;
export type OAuthErrorCode = (typeof oauthErrorCodes)[number];

/** The `?error=` the server redirected with; unknown codes read as a generic failure. */
export function oauthErrorFromQuery(value: unknown): OAuthErrorCode | null {
  if (typeof value !== "string") return null;
  return oauthErrorCodes.find((code) => code === value) ?? "oauth_failed";
}

export function oauthStartUrl(provider: OAuthProvider, options: { returnTo?: string; link?: boolean } = {}): string {
  const params = new URLSearchParams();
  if (options.link) params.set("link", "1");
  if (options.returnTo) params.set("returnTo", options.returnTo);
  const query = params.toString();
  return `/auth/oauth/${provider}/start${query ? `?${query}` : ""}`;
}
