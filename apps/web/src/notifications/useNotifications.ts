import { markNotificationsReadInput, muteProjectInput } from "@juanie/contracts";
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, onBeforeUnmount, onMounted, readonly, ref, toValue } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";

const listKey = "notifications.list";
const mutedKey = "notifications.mutedProjects";

/** Live unread count over SSE; `null` until the first value arrives. */
export function useUnreadCount() {
  const queryClient = useQueryClient();
  const count = ref<number | null>(null);
  let subscription: { unsubscribe(): void } | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let active = false;

  // The stream ends when the server restarts or the connection drops: subscribe again.
  const subscribe = () => {
    subscription = trpc.notifications.onUnreadCount.subscribe(undefined, {
      onData: ({ count: next }) => {
        if (next === count.value) return;
        count.value = next;
        void queryClient.invalidateQueries({ queryKey: [listKey] });
      },
      onComplete: resubscribe,
      onError: resubscribe,
    });
  };
  function resubscribe() {
    if (!active) return;
    clearTimeout(retry);
    retry = setTimeout(subscribe, 2000);
  }

  onMounted(() => {
    active = true;
    subscribe();
  });
  onBeforeUnmount(() => {
    active = false;
    clearTimeout(retry);
    subscription?.unsubscribe();
  });

  return readonly(count);
}

export function useLatestNotifications(enabled: MaybeRefOrGetter<boolean>) {
  return useQuery({
    queryKey: [listKey, { limit: 5 }],
    queryFn: () => trpc.notifications.list.query({ limit: 5 }),
    enabled: computed(() => toValue(enabled)),
  });
}

export function useNotificationPages(unreadOnly: MaybeRefOrGetter<boolean>) {
  return useInfiniteQuery({
    queryKey: [listKey, { unreadOnly: computed(() => toValue(unreadOnly)) }],
    queryFn: ({ pageParam }) =>
      trpc.notifications.list.query({ unreadOnly: toValue(unreadOnly), cursor: pageParam, limit: 30 }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
  });
}

export function useMarkRead() {
  return useAction(trpc.notifications.markRead.mutate, {
    schema: markNotificationsReadInput,
    invalidate: [[listKey]],
  });
}

export function useMarkAllRead() {
  return useAction(trpc.notifications.markAllRead.mutate, { invalidate: [[listKey]] });
}

/** The projects the user muted (their notifications are not created). */
export function useMutedProjects() {
  return useQuery({ queryKey: [mutedKey], queryFn: () => trpc.notifications.mutedProjects.query() });
}

/** Whether one project is muted, from the list of muted projects. */
export function useProjectMuted(projectId: MaybeRefOrGetter<string | null | undefined>) {
  const { data } = useMutedProjects();
  return computed(() => {
    const id = toValue(projectId);
    return !!id && !!data.value?.some((p) => p.projectId === id);
  });
}

export function useMuteProject() {
  return useAction(trpc.notifications.muteProject.mutate, { schema: muteProjectInput, invalidate: [[mutedKey]] });
}
