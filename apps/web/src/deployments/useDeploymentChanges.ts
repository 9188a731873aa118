import { type MaybeRefOrGetter, onScopeDispose, type Ref, readonly, ref, toValue, watch } from "vue";
import { toApiError } from "../api/apiError.ts";
import { trpc } from "../api/trpc.ts";

/** What `deployments.onChange` streams: one item per created or changed deployment. */
export interface DeploymentChange {
  deploymentId: string;
  environmentId: string;
  status: string;
}

/** Of one deployment (its current status comes first), or of every deployment of a project. */
export type DeploymentChangesInput = { deploymentId: string } | { projectId: string };

export interface DeploymentChangeHandlers {
  onData(change: DeploymentChange): void;
  /** The stream (re)connected: whatever happened while it was down was not streamed. */
  onConnected?(): void;
}

/** Waits before subscribing again after a transient failure: doubles up to the maximum. */
const retryDelayMs = { first: 2_000, max: 30_000 };

function sameInput(a: DeploymentChangesInput | null, b: DeploymentChangesInput | null | undefined): boolean {
  if (a === null || b === null || b === undefined) return a === b;
  if ("deploymentId" in a) return "deploymentId" in b && a.deploymentId === b.deploymentId;
  return "projectId" in b && a.projectId === b.projectId;
}

/**
 * Follows `deployments.onChange` over SSE for `input` (nothing while it is `null`): subscribes again
 * when the input changes or after a transient failure, and stops with the calling scope (component
 * unmounted, route left). `live` is true while the stream is connected; callers poll while it is not.
 *
 * Failures are quiet: without access (FORBIDDEN, NOT_FOUND) or a session the stream stays off and
 * polling carries on alone; a dropped connection is retried by the EventSource, a failed one here.
 */
export function useDeploymentChanges(
  input: MaybeRefOrGetter<DeploymentChangesInput | null>,
  handlers: DeploymentChangeHandlers,
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

  function start(next: DeploymentChangesInput | null) {
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
    subscription = trpc.deployments.onChange.subscribe(next, {
      onStarted: () => {
        if (!current()) return;
        failures = 0;
        live.value = true;
        handlers.onConnected?.();
      },
      onConnectionStateChange: (state) => {
        if (current()) live.value = state.state === "pending";
      },
      onData: (change) => {
        if (current()) handlers.onData(change);
      },
      onError: (error) => {
        if (!current()) return;
        // Access or session will not come back by retrying: polling alone from here on.
        if (["INTERNAL", "NETWORK"].includes(toApiError(error).code)) retryLater();
        else {
          live.value = false;
          subscription = undefined;
        }
      },
      // The server ended the stream (restart, shutdown).
      onComplete: () => {
        if (current()) retryLater();
      },
    });
  }

  watch(
    () => toValue(input),
    (next, previous) => {
      if (sameInput(next, previous)) return;
      failures = 0;
      start(next);
    },
    { immediate: true },
  );
  onScopeDispose(stop);

  return readonly(live);
}
