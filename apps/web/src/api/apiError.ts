import { type ErrorCode, errorCodes } from "@juanie/contracts";
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
    };
  }
  const code = typeof data.code === "string" ? fromTrpcCode[data.code] : undefined;
  return { code: code ?? "INTERNAL", message: error.message, fieldErrors: {}, requiredRole: null };
}
