import type { JsonObject } from "./json.ts";

export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Invalid"
  | "Gone"
  | "Expired"
  | "MethodNotAllowed"
  | "UnsupportedMediaType"
  | "NotAcceptable"
  | "InternalError";

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { type?: string; message: string; field?: string }[];
}

/** An API error; the server turns it into a `kind: Status` body with the same code, reason and message. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): JsonObject {
    const status: JsonObject = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = JSON.parse(JSON.stringify(this.details));
    return status;
  }
}

/** `deployments.apps` / `configmaps`: how the API server names a resource in messages. */
export function qualified(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

export const notFound = (plural: string, group: string, name: string) =>
  new StatusError(404, "NotFound", `${qualified(plural, group)} "${name}" not found`, { name, group, kind: plural });

export const alreadyExists = (plural: string, group: string, name: string) =>
  new StatusError(409, "AlreadyExists", `${qualified(plural, group)} "${name}" already exists`, {
    name,
    group,
    kind: plural,
  });

export const staleConflict = (plural: string, group: string, name: string) =>
  new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(plural, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind: plural },
  );

export function invalid(kind: string, group: string, name: string, causes: { field: string; message: string }[]) {
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  return new StatusError(422, "Invalid", `${kind}${group ? `.${group}` : ""} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes: causes.map((c) => ({ type: "FieldValueInvalid", message: c.message, field: c.field })),
  });
}

export const badRequest = (message: string) => new StatusError(400, "BadRequest", message);
