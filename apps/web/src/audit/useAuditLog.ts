import type { AuditFilter } from "@juanie/contracts";
import { useInfiniteQuery } from "@tanstack/vue-query";
import type { Ref } from "vue";
import { trpc } from "../api/trpc.ts";

export function useAuditLog(filter: Ref<AuditFilter>) {
  return useInfiniteQuery({
    queryKey: ["audit.list", filter],
    queryFn: ({ pageParam }) => trpc.audit.list.query({ ...filter.value, cursor: pageParam, limit: 50 }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
  });
}
