import { installFluxInput, registerClusterInput, updateClusterInput } from "@juanie/contracts";
import { useQuery, useQueryClient } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, toValue } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";
import { useLiveChanges } from "../api/useLiveChanges.ts";
import { hasRunningOperation } from "./clusterVocabulary.ts";

export type Cluster = Awaited<ReturnType<typeof trpc.clusters.get.query>>;
export type FluxStatus = Awaited<ReturnType<typeof trpc.clusters.flux.query>>;
export type UninstallPlan = Awaited<ReturnType<typeof trpc.clusters.uninstallPlan.query>>;

/** A cluster change shows on the list, its page and its Flux panel; environments show its name. */
const clusterData = [["clusters.list"], ["clusters.get"], ["clusters.flux"]];

/** While the stream is down (no access yet, reconnecting). */
const pollMs = 5_000;
/** While an operation runs and the stream is up, in case it missed something. */
const safetyPollMs = 15_000;

function onClusterChange(organizationId: () => string | null) {
  const queryClient = useQueryClient();
  return useLiveChanges(
    (input, handlers) => trpc.clusters.onChange.subscribe(input, handlers),
    () => {
      const id = organizationId();
      return id ? { organizationId: id } : null;
    },
    {
      onData: ({ clusterId }) => {
        void queryClient.invalidateQueries({ queryKey: ["clusters.list"] });
        void queryClient.invalidateQueries({ queryKey: ["clusters.get", { clusterId }] });
        void queryClient.invalidateQueries({ queryKey: ["clusters.flux", { clusterId }] });
      },
      onConnected: () => {
        void queryClient.invalidateQueries({ queryKey: ["clusters.list"] });
      },
    },
  );
}

/** The organization's clusters, live (`clusters.onChange`). */
export function useClusterList(organizationId: MaybeRefOrGetter<string>, live = true) {
  const input = computed(() => ({ organizationId: toValue(organizationId) }));
  if (live) onClusterChange(() => input.value.organizationId);
  return useQuery({ queryKey: ["clusters.list", input], queryFn: () => trpc.clusters.list.query(input.value) });
}

export function useCluster(clusterId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ clusterId: toValue(clusterId) }));
  return useQuery({ queryKey: ["clusters.get", input], queryFn: () => trpc.clusters.get.query(input.value) });
}

/**
 * Flux as read from the cluster now, with the platform's operations on it. Refetched on every
 * `cluster.changed` of this cluster (an operation's progress publishes one per phase), and polled
 * while an operation runs in case the stream missed one.
 */
export function useFluxStatus(clusterId: MaybeRefOrGetter<string>) {
  const queryClient = useQueryClient();
  const input = computed(() => ({ clusterId: toValue(clusterId) }));
  const live = useLiveChanges((vars, handlers) => trpc.clusters.onChange.subscribe(vars, handlers), input, {
    onData: () => {
      void queryClient.invalidateQueries({ queryKey: ["clusters.flux", input.value] });
      void queryClient.invalidateQueries({ queryKey: ["clusters.get", input.value] });
    },
    onConnected: () => {
      void queryClient.invalidateQueries({ queryKey: ["clusters.flux", input.value] });
    },
  });
  return useQuery({
    queryKey: ["clusters.flux", input],
    queryFn: () => trpc.clusters.flux.query(input.value),
    // Read from the cluster: not worth refetching on every focus.
    staleTime: 10_000,
    refetchInterval: computed(() => {
      const every = live.value ? safetyPollMs : pollMs;
      return (query: { state: { data?: FluxStatus } }) =>
        query.state.data && hasRunningOperation(query.state.data) ? every : false;
    }),
  });
}

export function useUninstallPlan(clusterId: MaybeRefOrGetter<string>, enabled: MaybeRefOrGetter<boolean>) {
  const input = computed(() => ({ clusterId: toValue(clusterId) }));
  return useQuery({
    queryKey: ["clusters.uninstallPlan", input],
    queryFn: () => trpc.clusters.uninstallPlan.query(input.value),
    enabled: computed(() => toValue(enabled)),
    staleTime: 0,
  });
}

/** The fields of the cluster form, as the server names them in field errors. */
export const clusterFields = [
  "name",
  "description",
  "connection",
  "connection.type",
  "connection.kubeconfig",
  "connection.context",
  "fluxMirrorUrl",
];

export function useRegisterCluster() {
  return useAction(trpc.clusters.register.mutate, {
    fields: clusterFields,
    schema: registerClusterInput,
    invalidate: [["clusters.list"]],
  });
}

export function useUpdateCluster() {
  return useAction(trpc.clusters.update.mutate, {
    fields: clusterFields,
    schema: updateClusterInput,
    invalidate: clusterData,
  });
}

export function useCheckCluster() {
  return useAction(trpc.clusters.check.mutate, { invalidate: clusterData });
}

export function useDeleteCluster() {
  return useAction(trpc.clusters.delete.mutate, { invalidate: [["clusters.list"], ["environments.list"]] });
}

export function useInstallFlux() {
  return useAction(trpc.clusters.installFlux.mutate, {
    fields: ["source", "version", "manifest"],
    schema: installFluxInput,
    invalidate: [["clusters.flux"]],
  });
}

export function useRestoreFlux() {
  return useAction(trpc.clusters.restoreFlux.mutate, { invalidate: [["clusters.flux"]] });
}

export function useAdoptFlux() {
  return useAction(trpc.clusters.adoptFlux.mutate, { invalidate: [["clusters.flux"]] });
}

export function useUninstallFlux() {
  return useAction(trpc.clusters.uninstallFlux.mutate, {
    fields: ["confirmName"],
    invalidate: [["clusters.flux"], ["clusters.uninstallPlan"], ["environments.list"]],
  });
}
