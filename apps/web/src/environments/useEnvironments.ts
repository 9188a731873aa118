import { createEnvironmentInput, setEnvironmentGrantsInput, updateEnvironmentInput } from "@juanie/contracts";
import { useQuery, useQueryClient } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, onScopeDispose, toValue } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";
import { useLiveChanges } from "../api/useLiveChanges.ts";

const environmentData = [["environments.list"]];

/** The fields of the environment form, named as the server names them in field errors. */
export const generalFields = ["name", "type", "cloudProvider", "region", "approvalRequired", "minApprovals"];
export const gitopsFields = [
  "gitops",
  "gitops.enabled",
  "gitops.repositoryId",
  "gitops.branch",
  "gitops.path",
  "gitops.syncInterval",
  "gitops.autoSync",
  "gitops.clusterId",
  "gitops.namespace",
  "gitops.prune",
  "gitops.timeout",
  "gitops.wait",
];

/** What `environments.gitopsRemovalPlan` answers: what leaves the cluster when the binding goes. */
export type GitopsRemovalPlan = Awaited<ReturnType<typeof trpc.environments.gitopsRemovalPlan.query>>;

/** Flux reports come in bursts (fetched, applied, healthy): one refetch for events close together. */
const refreshDelayMs = 300;
/** While a sync is pending and the stream is down, in case nothing is streamed. */
const pollMs = 5_000;

/**
 * A project's environments, live: refetched when `environments.onChange` reports a change of their
 * Flux objects or live Flux status (sync, suspend, a rollout), and polled while a sync is pending
 * without a stream.
 */
export function useEnvironmentList(projectId: MaybeRefOrGetter<string>) {
  const queryClient = useQueryClient();
  const input = computed(() => ({ projectId: toValue(projectId) }));
  let refresh: ReturnType<typeof setTimeout> | undefined;
  function scheduleRefresh() {
    if (refresh !== undefined) return;
    const key = ["environments.list", { ...input.value }];
    refresh = setTimeout(() => {
      refresh = undefined;
      void queryClient.invalidateQueries({ queryKey: key });
    }, refreshDelayMs);
  }
  onScopeDispose(() => clearTimeout(refresh));
  const live = useLiveChanges((vars, handlers) => trpc.environments.onChange.subscribe(vars, handlers), input, {
    onData: scheduleRefresh,
    onConnected: scheduleRefresh,
  });
  return useQuery({
    queryKey: ["environments.list", input],
    queryFn: () => trpc.environments.list.query(input.value),
    refetchInterval: computed(() => {
      if (live.value) return false;
      return (query: { state: { data?: { flux: { syncPending: boolean } | null }[] } }) =>
        query.state.data?.some((env) => env.flux?.syncPending) ? pollMs : false;
    }),
  });
}

/** Sync now, sync with source, suspend, resume. */
export function useEnvironmentFluxAction() {
  return useAction(trpc.environments.fluxAction.mutate, { invalidate: environmentData });
}

export function useCreateEnvironment() {
  return useAction(trpc.environments.create.mutate, {
    fields: [...generalFields, ...gitopsFields],
    schema: createEnvironmentInput,
    invalidate: environmentData,
  });
}

export function useCreateSuggestedEnvironments() {
  return useAction(trpc.environments.createSuggested.mutate, { invalidate: environmentData });
}

/**
 * The suggested environments checked against a connected repository (branch, path, kustomization or
 * manifests), through Git on the server. Off while no repository is chosen.
 */
export function useSuggestionChecks(projectId: MaybeRefOrGetter<string>, repositoryId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ projectId: toValue(projectId), repositoryId: toValue(repositoryId) }));
  return useQuery({
    queryKey: ["environments.checkSuggested", input],
    queryFn: () => trpc.environments.checkSuggested.query(input.value),
    enabled: computed(() => !!input.value.repositoryId),
    // Asked again when the card is shown again, or when the user asks: not on every focus of the window.
    refetchOnWindowFocus: false,
    retry: false,
  });
}

/** Creates a suggestion's missing branch from the default branch; the answer is the fresh checks. */
export function useCreateSuggestedBranch() {
  const queryClient = useQueryClient();
  return useAction(trpc.environments.createSuggestedBranch.mutate, {
    onSuccess: (checks, vars) => {
      queryClient.setQueryData(
        ["environments.checkSuggested", { projectId: vars.projectId, repositoryId: vars.repositoryId }],
        checks,
      );
    },
  });
}

export function useUpdateEnvironment() {
  return useAction(trpc.environments.update.mutate, {
    fields: [...generalFields, ...gitopsFields],
    schema: updateEnvironmentInput,
    invalidate: environmentData,
  });
}

export function useSetEnvironmentGrants() {
  return useAction(trpc.environments.setGrants.mutate, {
    schema: setEnvironmentGrantsInput,
    invalidate: environmentData,
  });
}

export function useDeleteEnvironment() {
  return useAction(trpc.environments.delete.mutate, {
    invalidate: [...environmentData, ["deployments.list"]],
  });
}

/** A maintainer has seen the commits that bypassed an environment's approvals. */
export function useAcknowledgeBypass() {
  return useAction(trpc.environments.acknowledgeBypass.mutate, { invalidate: environmentData });
}

/** The project's promotion order. */
export function useReorderEnvironments() {
  return useAction(trpc.environments.reorder.mutate, { fields: ["order"], invalidate: environmentData });
}

/** Whether the Git host protects an environment's branch (asked when the settings open). */
export function useBranchProtection(environmentId: MaybeRefOrGetter<string | null>) {
  return useQuery({
    queryKey: ["environments.branchProtection", computed(() => toValue(environmentId))],
    queryFn: () => trpc.environments.branchProtection.query({ environmentId: toValue(environmentId)! }),
    enabled: computed(() => !!toValue(environmentId)),
    staleTime: 30_000,
  });
}
