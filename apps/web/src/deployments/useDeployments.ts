import {
  approvalInput,
  manualDeploymentInput,
  manualStatusInput,
  rejectionInput,
  rollbackInput,
} from "@juanie/contracts";
import { useInfiniteQuery, useQuery } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, type Ref, toValue } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";
import { type DeploymentMethod, type DeploymentStatus, isActive } from "./deploymentVocabulary.ts";

/** A deployment as the API delivers it (after JSON: `unknown` values may be missing). */
export type Deployment = Awaited<ReturnType<typeof trpc.deployments.get.query>>;

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

export function useDeploymentPages(filter: Ref<DeploymentFilter>) {
  return useInfiniteQuery({
    queryKey: ["deployments.list", filter],
    queryFn: ({ pageParam }) => trpc.deployments.list.query({ ...filter.value, cursor: pageParam, limit: 30 }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
    // Rows still moving (queued, committing …) update without a reload.
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.items.some((item) => isActive(item.status))) ? 5000 : false,
  });
}

/** Polls every 2 s while the deployment is still moving; stops once it reaches a final status. */
export function useDeployment(deploymentId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ deploymentId: toValue(deploymentId) }));
  return useQuery({
    queryKey: ["deployments.get", input],
    queryFn: () => trpc.deployments.get.query(input.value),
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      return status !== undefined && isActive(status) ? 2000 : false;
    },
  });
}

/**
 * What the environment's branch runs now: prefills the deploy form. Never served from cache (the
 * form compares against it to send only the changes), and not refetched behind the user's back.
 */
export function useDeployableValues(environmentId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ environmentId: toValue(environmentId) }));
  return useQuery({
    queryKey: ["deployments.deployableValues", input],
    queryFn: () => trpc.deployments.deployableValues.query(input.value),
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

export function useCancelDeployment() {
  return useAction(trpc.deployments.cancel.mutate, { invalidate: deploymentData });
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
