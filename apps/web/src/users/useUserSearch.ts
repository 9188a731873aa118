import { useQuery } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, type Ref, toValue } from "vue";
import { trpc } from "../api/trpc.ts";

export function useUserSearch(organizationId: MaybeRefOrGetter<string | undefined>, query: Ref<string>) {
  const input = computed(() => ({ organizationId: toValue(organizationId), query: query.value.trim() }));
  return useQuery({
    queryKey: ["users.search", input],
    queryFn: () => trpc.users.search.query(input.value),
    enabled: computed(() => input.value.query.length > 0),
  });
}
