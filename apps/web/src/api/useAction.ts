import { describeIssue, type IssueLike } from "@juanie/contracts";
import { type QueryKey, useMutation, useQueryClient } from "@tanstack/vue-query";
import { type MaybeRefOrGetter, reactive, readonly, ref } from "vue";
import { knownRules } from "./errorText.ts";
import { useFormErrors } from "./useFormErrors.ts";

/** Structural view of a zod schema, so the web app needs no direct zod import. */
interface Validator {
  safeParse(value: unknown): { success: true } | { success: false; error: { issues: readonly IssueLike[] } };
}

export interface ActionOptions<TVars, TData> {
  /** Field names the form shows errors under; other errors go to the general alert. */
  fields?: MaybeRefOrGetter<readonly string[]>;
  /** Checked before the request; the server validates again. */
  schema?: Validator;
  /** Query keys (prefixes) to refetch after success. */
  invalidate?: QueryKey[] | ((data: TData, vars: TVars) => QueryKey[]);
  onSuccess?: (data: TData, vars: TVars) => void | Promise<void>;
}

export type Action<TVars, TData = unknown> = ReturnType<typeof useAction<TVars, TData>>;

/**
 * The one way a button or form runs a mutation: ignores clicks while a request is in flight,
 * exposes `isLoading`, keeps structured errors for the form, and refreshes affected queries.
 */
export function useAction<TVars, TData>(
  mutationFn: (vars: TVars) => Promise<TData>,
  options: ActionOptions<TVars, TData> = {},
) {
  const queryClient = useQueryClient();
  const errors = useFormErrors(options.fields);
  const isLoading = ref(false);
  const mutation = useMutation({
    // Only the variables: vue-query's second argument would reach tRPC as request options.
    mutationFn: (vars: TVars) => mutationFn(vars),
    onSuccess: async (data: TData, vars: TVars) => {
      const keys =
        typeof options.invalidate === "function" ? options.invalidate(data, vars) : (options.invalidate ?? []);
      await Promise.all(keys.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
      await options.onSuccess?.(data, vars);
    },
  });

  async function run(vars: TVars): Promise<TData | undefined> {
    if (isLoading.value) return undefined;
    errors.clear();
    if (options.schema) {
      const parsed = options.schema.safeParse(vars);
      if (!parsed.success) {
        // Dotted like the server's field errors (`gitops.branch`, `credential.token`), with the same rule names.
        errors.setIssues(parsed.error.issues.map((issue) => describeIssue(issue, knownRules)));
        return undefined;
      }
    }
    isLoading.value = true;
    try {
      return await mutation.mutateAsync(vars);
    } catch (error) {
      errors.set(error);
      return undefined;
    } finally {
      isLoading.value = false;
    }
  }

  return reactive({ run, isLoading: readonly(isLoading), errors });
}
