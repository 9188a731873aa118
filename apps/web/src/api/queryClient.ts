import { QueryClient } from "@tanstack/vue-query";
import { toApiError } from "./apiError.ts";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      // Only transient failures are worth retrying; NOT_FOUND or FORBIDDEN will not change.
      retry: (failureCount, error) => failureCount < 2 && ["INTERNAL", "NETWORK"].includes(toApiError(error).code),
    },
  },
});
