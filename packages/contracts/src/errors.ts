/** Stable error codes shared by server and web; the web translates them. */
export const errorCodes = [
  "NOT_FOUND",
  "CONFLICT",
  "FORBIDDEN",
  "UNAUTHENTICATED",
  "INVALID_INPUT",
  "METHOD_NOT_ALLOWED",
  "UNSUPPORTED_MEDIA_TYPE",
  /** A system the platform depends on (a cluster's API) could not be reached or refused the call. */
  "UNAVAILABLE",
  "INTERNAL",
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** Extra data attached to every API error (tRPC `error.data.juanie`). */
export interface ErrorDetails {
  code: ErrorCode;
  /** Field path → messages, for forms. */
  fieldErrors?: Record<string, string[]>;
  /** For FORBIDDEN: the role that would have allowed the action. */
  requiredRole?: string;
}
