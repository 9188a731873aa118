import { type ErrorCode, errorCodes, type FieldIssue, type MessageParams } from "@juanie/contracts";
import { TRPCClientError } from "@trpc/client";

/** The server's codes plus NETWORK, for requests that never got an answer. */
export const uiErrorCodes = [...errorCodes, "NETWORK"] as const;
export type UiErrorCode = (typeof uiErrorCodes)[number];

export interface ApiError {
  code: UiErrorCode;
  /** English, written by the server; names the field and the rule. */
  message: string;
  fieldErrors: Record<string, string[]>;
  requiredRole: string | null;
  /** The server's stable name for the message, and its values: what the browser translates. */
  reason?: string;
  params?: MessageParams;
  /** The field errors by rule name, when the server sent them. */
  issues?: FieldIssue[];
}

// Used when the server answered without `juanie` details (e.g. a transport-level failure).
const fromTrpcCode: Record<string, ErrorCode> = {
  BAD_REQUEST: "INVALID_INPUT",
  UNAUTHORIZED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isErrorCode(value: unknown): value is ErrorCode {
  return errorCodes.some((code) => code === value);
}

function readParams(value: unknown): MessageParams | undefined {
  if (!isRecord(value)) return undefined;
  const out: MessageParams = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === "string" || typeof v === "number") out[key] = v;
  return out;
}

function readIssues(value: unknown): FieldIssue[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const issues: FieldIssue[] = [];
  for (const item of value) {
    if (!isRecord(item) || typeof item.field !== "string" || typeof item.rule !== "string") continue;
    const params = readParams(item.params);
    const message = typeof item.message === "string" ? item.message : "";
    issues.push({ field: item.field, rule: item.rule, message, ...(params ? { params } : {}) });
  }
  return issues;
}

function readFieldErrors(value: unknown): Record<string, string[]> {
  if (!isRecord(value)) return {};
  const result: Record<string, string[]> = {};
  for (const [field, messages] of Object.entries(value)) {
    if (Array.isArray(messages)) result[field] = messages.filter((m): m is string => typeof m === "string");
  }
  return result;
}

export function toApiError(error: unknown): ApiError {
  if (!(error instanceof TRPCClientError)) {
    return {
      code: "NETWORK",
      message: error instanceof Error ? error.message : String(error),
      fieldErrors: {},
      requiredRole: null,
    };
  }
  const data: unknown = error.data;
  if (!isRecord(data)) return { code: "NETWORK", message: error.message, fieldErrors: {}, requiredRole: null };
  const details = data.juanie;
  if (isRecord(details) && isErrorCode(details.code)) {
    return {
      code: details.code,
      message: error.message,
      fieldErrors: readFieldErrors(details.fieldErrors),
      requiredRole: typeof details.requiredRole === "string" ? details.requiredRole : null,
      ...(typeof details.reason === "string" ? { reason: details.reason } : {}),
      ...(readParams(details.params) ? { params: readParams(details.params) } : {}),
      ...(readIssues(details.issues) ? { issues: readIssues(details.issues) } : {}),
    };
  }
  const code = typeof data.code === "string" ? fromTrpcCode[data.code] : undefined;
  return { code: code ?? "INTERNAL", message: error.message, fieldErrors: {}, requiredRole: null };
}
