import { QueryClient, VueQueryPlugin } from "@tanstack/vue-query";
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "vue";
import { type ActionOptions, useAction } from "./useAction.ts";

function setup<TVars, TData>(fn: (vars: TVars) => Promise<TData>, options?: ActionOptions<TVars, TData>) {
  const queryClient = new QueryClient();
  const app = createApp({}).use(VueQueryPlugin, { queryClient });
  return { queryClient, action: app.runWithContext(() => useAction(fn, options)) };
}

describe("useAction", () => {
  it("ignores a second submit while the first is in flight", async () => {
    let finish: (value: string) => void = () => {};
    const fn = vi.fn(() => new Promise<string>((resolve) => (finish = resolve)));
    const { action } = setup(fn);

    const first = action.run(undefined);
    expect(action.isLoading).toBe(true);
    expect(await action.run(undefined)).toBeUndefined();
    finish("done");
    expect(await first).toBe("done");
    expect(action.isLoading).toBe(false);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("keeps the server's field errors for the form", async () => {
    const { action } = setup(
      () =>
        Promise.reject(
          TRPCClientError.from({
            error: {
              code: -32600,
              message: "Invalid input: name: is required",
              data: { juanie: { code: "INVALID_INPUT", fieldErrors: { name: ["is required"] } } },
            },
          }),
        ),
      { fields: ["name"] },
    );
    expect(await action.run({ name: "" })).toBeUndefined();
    expect(action.errors.field("name")).toEqual(["is required"]);
    expect(action.isLoading).toBe(false);
  });

  it("does not call the server when the schema rejects the input", async () => {
    const fn = vi.fn(async () => "created");
    const schema = {
      safeParse: (value: unknown) =>
        value === "ok"
          ? ({ success: true } as const)
          : ({ success: false, error: { issues: [{ path: ["slug"], message: "must be a DNS label" }] } } as const),
    };
    const { action } = setup(fn, { schema, fields: ["slug"] });
    expect(await action.run("Not OK")).toBeUndefined();
    expect(fn).not.toHaveBeenCalled();
    expect(action.errors.field("slug")).toEqual(["must be a DNS label"]);
    expect(await action.run("ok")).toBe("created");
    expect(action.errors.field("slug")).toEqual([]);
  });

  it("names nested fields with dots, like the server", async () => {
    const schema = {
      safeParse: () =>
        ({ success: false, error: { issues: [{ path: ["gitops", "branch"], message: "is required" }] } }) as const,
    };
    const { action } = setup(async () => "saved", { schema, fields: ["gitops.branch"] });
    expect(await action.run({})).toBeUndefined();
    expect(action.errors.field("gitops.branch")).toEqual(["is required"]);
  });

  it("refreshes the affected queries after success", async () => {
    const { action, queryClient } = setup(async () => "ok", { invalidate: [["orgs.list"]] });
    const invalidate = vi.spyOn(queryClient, "invalidateQueries");
    await action.run(undefined);
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ["orgs.list"] });
  });
});
