import {
  approvalInput,
  breakGlassInput,
  manualDeploymentInput,
  manualStatusInput,
  rejectionInput,
  rollbackInput,
} from "@juanie/contracts";
import { type InfiniteData, useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, onScopeDispose, type Ref, toValue, watch } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";
import { useLiveChanges } from "../api/useLiveChanges.ts";
import { type DeploymentMethod, type DeploymentStatus, isActive } from "./deploymentVocabulary.ts";
import { isRolloutMoving } from "./rolloutSteps.ts";
import { useDeploymentChanges } from "./useDeploymentChanges.ts";

/** A deployment as the API delivers it (after JSON: `unknown` values may be missing). */
export type Deployment = Awaited<ReturnType<typeof trpc.deployments.get.query>>;
type DeploymentsPage = Awaited<ReturnType<typeof trpc.deployments.list.query>>;

/** A deployment changes the history, the environment cards (last deployment) and its own detail. */
const deploymentData = [["deployments.list"], ["deployments.get"], ["environments.list"]];

export interface DeploymentFilter {
  projectId?: string;
  environmentId?: string;
  status?: DeploymentStatus;
  method?: DeploymentMethod;
  from?: string;
  to?: string;
}

/** Polling while the stream is down (no access, reconnecting) or for lists without one. */
const pollMs = { detail: 2_000, list: 5_000 };
/** While the stream is up, in case it missed something (server restart, a dropped event). */
const safetyPollMs = 15_000;
/** Events arriving together (a deploy moves through several statuses) cost one refetch. */
const listRefreshDelayMs = 300;

/**
 * Pages of the history. A project's list follows `deployments.onChange` and refetches when a row
 * changed or a deployment appeared, and polls slowly while rows are still moving; the global list,
 * without a stream, polls every 5 s while rows are moving.
 */
export function useDeploymentPages(filter: Ref<DeploymentFilter>) {
  const queryClient = useQueryClient();
  const projectId = computed(() => filter.value.projectId);

  let refresh: ReturnType<typeof setTimeout> | undefined;
  function scheduleRefresh() {
    if (refresh !== undefined) return;
    const id = projectId.value;
    refresh = setTimeout(() => {
      refresh = undefined;
      void queryClient.invalidateQueries({ queryKey: ["deployments.list", { projectId: id }] });
    }, listRefreshDelayMs);
  }
  onScopeDispose(() => clearTimeout(refresh));

  const live = useDeploymentChanges(() => (projectId.value ? { projectId: projectId.value } : null), {
    onData: (change) => {
      const { environmentId } = filter.value;
      if (environmentId && environmentId !== change.environmentId) return;
      const row = query.data.value?.pages.flatMap((page) => page.items).find((item) => item.id === change.deploymentId);
      if (row?.status !== change.status) scheduleRefresh();
    },
    // Changes while the stream was down, or since the cached pages were read, were not streamed; a
    // fetch under way is about as recent as the stream.
    onConnected: () => {
      if (!query.isFetching.value) scheduleRefresh();
    },
  });

  const query = useInfiniteQuery({
    queryKey: ["deployments.list", filter],
    queryFn: ({ pageParam }) => trpc.deployments.list.query({ ...filter.value, cursor: pageParam, limit: 30 }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
    // Rows still moving (queued, committing …) update without a reload. A computed so that the
    // interval follows the stream going up or down.
    refetchInterval: computed(() => {
      const every = live.value ? safetyPollMs : pollMs.list;
      return (query: { state: { data?: InfiniteData<DeploymentsPage> } }) =>
        query.state.data?.pages.some((page) => page.items.some((item) => isActive(item.status))) ? every : false;
    }),
  });
  return query;
}

/**
 * One deployment, live: follows `deployments.onChange` and refetches when the streamed status differs
 * from the one shown. Polls slowly while the status is still moving, in case the stream missed
 * something, and every 2 s when there is no stream (no access to it, reconnecting).
 */
export function useDeployment(deploymentId: MaybeRefOrGetter<string>) {
  const queryClient = useQueryClient();
  const input = computed(() => ({ deploymentId: toValue(deploymentId) }));

  // The streamed status not compared with the cached detail yet: the first one may arrive before
  // the first fetch lands (and that fetch may have read the status before it changed).
  let unseen: string | null = null;
  function reconcile() {
    const cached = query.data.value;
    if (unseen === null || cached?.id !== input.value.deploymentId) return;
    if (cached.status !== unseen) {
      void queryClient.invalidateQueries({ queryKey: ["deployments.get", { deploymentId: cached.id }] });
      // The history and the environment cards show the status too.
      void queryClient.invalidateQueries({ queryKey: ["deployments.list"] });
      void queryClient.invalidateQueries({ queryKey: ["environments.list"] });
    }
    unseen = null;
  }

  const live = useDeploymentChanges(input, {
    onData: (change) => {
      if (change.deploymentId !== input.value.deploymentId) return;
      unseen = change.status;
      reconcile();
    },
  });
  watch(input, () => {
    unseen = null;
  });

  const query = useQuery({
    queryKey: ["deployments.get", input],
    queryFn: () => trpc.deployments.get.query(input.value),
    refetchInterval: computed(() => {
      const every = live.value ? safetyPollMs : pollMs.detail;
      return (query: { state: { data?: Deployment } }) => {
        const data = query.state.data;
        // On a cluster, committed → fetched → applied → healthy still moves after the commit.
        return data !== undefined && (isActive(data.status) || isRolloutMoving(data)) ? every : false;
      };
    }),
  });
  watch(query.data, reconcile);

  // While Flux rolls it out, pods becoming ready change the environment's live status
  // (`environment.changed`) without a new deployment status: follow those too.
  useLiveChanges(
    (vars, handlers) => trpc.environments.onChange.subscribe(vars, handlers),
    () => {
      const current = query.data.value;
      return current && isRolloutMoving(current) ? { projectId: current.projectId } : null;
    },
    {
      onData: ({ environmentId }) => {
        const current = query.data.value;
        if (!current || current.environment.id !== environmentId) return;
        void queryClient.invalidateQueries({ queryKey: ["deployments.get", { deploymentId: current.id }] });
      },
    },
  );
  return query;
}

/**
 * What the environment's branch runs now: prefills the deploy form. Never served from cache (the
 * form compares against it to send only the changes), and not refetched behind the user's back.
 */
export interface WorkloadChoice {
  kind?: "Deployment" | "StatefulSet" | "DaemonSet";
  workload?: string;
  container?: string;
}

/** What the environment runs, for the chosen workload and container (the first ones when none is chosen). */
export function useDeployableValues(
  environmentId: MaybeRefOrGetter<string>,
  choice: MaybeRefOrGetter<WorkloadChoice> = {},
  opts: { enabled?: MaybeRefOrGetter<boolean> } = {},
) {
  const input = computed(() => ({ environmentId: toValue(environmentId), ...toValue(choice) }));
  return useQuery({
    queryKey: ["deployments.deployableValues", input],
    queryFn: () => trpc.deployments.deployableValues.query(input.value),
    enabled: computed(() => toValue(opts.enabled ?? true)),
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: 0,
    refetchOnWindowFocus: false,
  });
}

export function useRequestDeployment(fields: MaybeRefOrGetter<readonly string[]>) {
  return useAction(trpc.deployments.request.mutate, { fields, invalidate: deploymentData });
}

export function useApproveDeployment() {
  return useAction(trpc.deployments.approve.mutate, {
    fields: ["comment"],
    schema: approvalInput,
    invalidate: deploymentData,
  });
}

export function useRejectDeployment() {
  return useAction(trpc.deployments.reject.mutate, {
    fields: ["comment"],
    schema: rejectionInput,
    invalidate: deploymentData,
  });
}

/** Organization admins: approve a waiting request regardless of its quorum, with a mandatory reason. */
export function useBreakGlass() {
  return useAction(trpc.deployments.breakGlass.mutate, {
    fields: ["reason"],
    schema: breakGlassInput,
    invalidate: deploymentData,
  });
}

/** The same change requested again under the environment's current rule (cancelled, rejected or expired). */
export function useRequestAgain(onSuccess?: (created: Deployment) => void | Promise<void>) {
  return useAction(trpc.deployments.requestAgain.mutate, { invalidate: deploymentData, onSuccess });
}

export function useCancelDeployment() {
  return useAction(trpc.deployments.cancel.mutate, { invalidate: deploymentData });
}

/** Administrators: a deployment stuck in queued or committing gets its commit job again (reconciled first). */
export function useRetryDeployment() {
  return useAction(trpc.deployments.retry.mutate, { invalidate: deploymentData });
}

export function useRollbackDeployment() {
  return useAction(trpc.deployments.rollback.mutate, {
    fields: ["message"],
    schema: rollbackInput,
    invalidate: deploymentData,
  });
}

export function useCreateManualDeployment() {
  return useAction(trpc.deployments.createManual.mutate, {
    fields: ["environmentId", "version", "commitSha", "branch", "strategy"],
    schema: manualDeploymentInput,
    invalidate: deploymentData,
  });
}

export function useReportManualDeployment() {
  return useAction(trpc.deployments.reportManual.mutate, {
    fields: ["message"],
    schema: manualStatusInput,
    invalidate: deploymentData,
  });
}
