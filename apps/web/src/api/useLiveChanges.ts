import { type MaybeRefOrGetter, onScopeDispose, type Ref, readonly, ref, toValue, watch } from "vue";
import { toApiError } from "./apiError.ts";

/** The part of a tRPC subscription procedure this composable uses. */
export type Subscribe<TInput, TData> = (
  input: TInput,
  handlers: {
    onStarted?(): void;
    onConnectionStateChange?(state: { state: string }): void;
    onData(data: TData): void;
    onError(error: unknown): void;
    onComplete(): void;
  },
) => { unsubscribe(): void };

export interface LiveHandlers<TData> {
  onData(data: TData): void;
  /** The stream (re)connected: whatever happened while it was down was not streamed. */
  onConnected?(): void;
}

/** Waits before subscribing again after a transient failure: doubles up to the maximum. */
const retryDelayMs = { first: 2_000, max: 30_000 };

/**
 * Follows a tRPC subscription over SSE for `input` (nothing while it is `null`): subscribes again
 * when the input changes or after a transient failure, and stops with the calling scope. `live` is
 * true while the stream is connected; callers poll while it is not. Without access the stream stays
 * off quietly (the queries beside it show the error).
 */
export function useLiveChanges<TInput, TData>(
  subscribe: Subscribe<TInput, TData>,
  input: MaybeRefOrGetter<TInput | null>,
  handlers: LiveHandlers<TData>,
): Readonly<Ref<boolean>> {
  const live = ref(false);
  let subscription: { unsubscribe(): void } | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  // Callbacks of a stream replaced or stopped meanwhile are ignored.
  let generation = 0;

  function stop() {
    generation++;
    clearTimeout(retry);
    retry = undefined;
    subscription?.unsubscribe();
    subscription = undefined;
    live.value = false;
  }

  function start(next: TInput | null) {
    stop();
    if (next === null) return;
    const mine = generation;
    const current = () => mine === generation;
    const retryLater = () => {
      live.value = false;
      subscription = undefined;
      const delay = Math.min(retryDelayMs.first * 2 ** failures, retryDelayMs.max);
      failures++;
      retry = setTimeout(() => {
        if (current()) start(next);
      }, delay);
    };
    subscription = subscribe(next, {
      onStarted: () => {
        if (!current()) return;
        failures = 0;
        live.value = true;
        handlers.onConnected?.();
      },
      onConnectionStateChange: (state) => {
        if (current()) live.value = state.state === "pending";
      },
      onData: (data) => {
        if (current()) handlers.onData(data);
      },
      onError: (error) => {
        if (!current()) return;
        if (["INTERNAL", "NETWORK"].includes(toApiError(error).code)) retryLater();
        else {
          live.value = false;
          subscription = undefined;
        }
      },
      onComplete: () => {
        if (current()) retryLater();
      },
    });
  }

  watch(
    () => JSON.stringify(toValue(input)),
    () => {
      failures = 0;
      start(toValue(input));
    },
    { immediate: true },
  );
  onScopeDispose(stop);

  return readonly(live);
}
