import type { ErrorDetails } from "@juanie/contracts";
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { ref } from "vue";
import { toApiError } from "./apiError.ts";
import { useFormErrors } from "./useFormErrors.ts";

function serverError(message: string, juanie: ErrorDetails | undefined, code = "BAD_REQUEST") {
  return TRPCClientError.from({ error: { code: -32600, message, data: { code, httpStatus: 400, juanie } } });
}

describe("toApiError", () => {
  it("reads the server's code, message, field errors and required role", () => {
    const error = serverError("Only admins may do this", { code: "FORBIDDEN", requiredRole: "admin" }, "FORBIDDEN");
    expect(toApiError(error)).toEqual({
      code: "FORBIDDEN",
      message: "Only admins may do this",
      fieldErrors: {},
      requiredRole: "admin",
    });
  });

  it("falls back to the tRPC code when details are missing", () => {
    expect(toApiError(serverError("Sign in required", undefined, "UNAUTHORIZED")).code).toBe("UNAUTHENTICATED");
    expect(toApiError(serverError("boom", undefined, "INTERNAL_SERVER_ERROR")).code).toBe("INTERNAL");
  });

  it("treats a request without an answer as a network error", () => {
    expect(toApiError(new TypeError("Failed to fetch")).code).toBe("NETWORK");
    expect(toApiError(TRPCClientError.from(new TypeError("Failed to fetch"))).code).toBe("NETWORK");
  });
});

describe("useFormErrors", () => {
  const invalidSlug = serverError("Invalid input: slug: must be a DNS label", {
    code: "INVALID_INPUT",
    fieldErrors: { slug: ["must be a DNS label"] },
  });

  it("puts field errors under the form's fields and shows no general alert", () => {
    const errors = useFormErrors(["name", "slug"]);
    errors.set(invalidSlug);
    expect(errors.field("slug")).toEqual(["must be a DNS label"]);
    expect(errors.field("name")).toEqual([]);
    expect(errors.general).toBeNull();
  });

  it("shows field errors the form does not render in the general alert", () => {
    const errors = useFormErrors(["name"]);
    errors.set(invalidSlug);
    expect(errors.field("slug")).toEqual([]);
    expect(errors.general?.message).toBe("Invalid input: slug: must be a DNS label");
  });

  it("names unshown fields when the errors come from client-side validation", () => {
    const errors = useFormErrors(["name"]);
    errors.setFieldErrors({ organizationId: ["must be a UUID"] });
    expect(errors.general).toMatchObject({ code: "INVALID_INPUT", message: "organizationId must be a UUID" });
  });

  it("shows a conflict under its field, or in the general alert when it names no field", () => {
    const errors = useFormErrors(["slug"]);
    errors.set(
      serverError("Slug 'acme' is already taken", { code: "CONFLICT", fieldErrors: { slug: ["is already taken"] } }),
    );
    expect(errors.field("slug")).toEqual(["is already taken"]);
    expect(errors.general).toBeNull();
    errors.set(serverError("The invitation was already accepted", { code: "CONFLICT" }, "CONFLICT"));
    expect(errors.general).toMatchObject({ code: "CONFLICT", message: "The invitation was already accepted" });
    errors.clear();
    expect(errors.general).toBeNull();
  });

  it("follows a form whose fields grow, such as rows of environment variables", () => {
    const rows = ref(1);
    const errors = useFormErrors(() => Array.from({ length: rows.value }, (_, i) => `spec.env.${i}.name`));
    errors.setFieldErrors({ "spec.env.1.name": ["must be unique"] });
    expect(errors.field("spec.env.1.name")).toEqual([]);
    expect(errors.general).not.toBeNull();
    rows.value = 2;
    expect(errors.field("spec.env.1.name")).toEqual(["must be unique"]);
    expect(errors.general).toBeNull();
  });
});
