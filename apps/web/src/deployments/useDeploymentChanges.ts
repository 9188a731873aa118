import type { MaybeRefOrGetter, Ref } from "vue";
import { trpc } from "../api/trpc.ts";
import { type LiveHandlers, useLiveChanges } from "../api/useLiveChanges.ts";

/** What `deployments.onChange` streams: one item per created or changed deployment. */
export interface DeploymentChange {
  deploymentId: string;
  environmentId: string;
  status: string;
}

/** Of one deployment (its current status comes first), or of every deployment of a project. */
export type DeploymentChangesInput = { deploymentId: string } | { projectId: string };

export type DeploymentChangeHandlers = LiveHandlers<DeploymentChange>;

/**
 * Follows `deployments.onChange` over SSE for `input` (nothing while it is `null`), as `useLiveChanges`
 * does for any stream: again when the input changes or after a transient failure, stopped with the calling
 * scope. `live` is true while the stream is connected; callers poll while it is not. Without access or a
 * session the stream stays off and polling carries on alone.
 */
export function useDeploymentChanges(
  input: MaybeRefOrGetter<DeploymentChangesInput | null>,
  handlers: DeploymentChangeHandlers,
): Readonly<Ref<boolean>> {
  return useLiveChanges<DeploymentChangesInput, DeploymentChange>(
    (next, h) => trpc.deployments.onChange.subscribe(next, h),
    input,
    handlers,
  );
}
