import { createEnvironmentInput, setEnvironmentGrantsInput, updateEnvironmentInput } from "@juanie/contracts";
import { useQuery } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, toValue } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";

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
];

export function useEnvironmentList(projectId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ projectId: toValue(projectId) }));
  return useQuery({
    queryKey: ["environments.list", input],
    queryFn: () => trpc.environments.list.query(input.value),
  });
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
