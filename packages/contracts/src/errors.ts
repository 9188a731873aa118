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

/** Values that fill a message's placeholders (`{max}`, `{entity}`). */
export type MessageParams = Record<string, string | number>;

/**
 * One broken rule of one field, said without words: `rule` is a stable name (`too_big`, `slug`,
 * `deploy.image_tag`), `params` fill its placeholders, and `message` is the English text, for clients that
 * do not know the rule.
 */
export interface FieldIssue {
  /** The field's path, dotted (`spec.replicas`, `grants.0.subjectId`). */
  field: string;
  rule: string;
  params?: MessageParams;
  message: string;
}

/** Extra data attached to every API error (tRPC `error.data.juanie`). */
export interface ErrorDetails {
  code: ErrorCode;
  /** Field path → messages, for forms. */
  fieldErrors?: Record<string, string[]>;
  /** For FORBIDDEN: the role that would have allowed the action. */
  requiredRole?: string;
  /**
   * What exactly went wrong, as a stable name (`approvals.own_deployment`, `not_found`) with the values its
   * sentence needs; the English `message` stays the default text for clients that do not know it.
   */
  reason?: string;
  params?: MessageParams;
  /** The field errors again, one entry per broken rule, with stable rule names (see `FieldIssue`). */
  issues?: FieldIssue[];
}
