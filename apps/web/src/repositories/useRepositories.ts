import { connectRepositoryInput, createRepositoryInput, initializeLayoutInput } from "@juanie/contracts";
import { useQuery } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, toValue } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";

const repositoryData = [["repositories.list"], ["repositories.details"]];

export function useRepositoryList(projectId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ projectId: toValue(projectId) }));
  return useQuery({
    queryKey: ["repositories.list", input],
    queryFn: () => trpc.repositories.list.query(input.value),
  });
}

/** Branches and commits come from the Git host itself; the answer also refreshes the sync status. */
export function useRepositoryDetails(repositoryId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ repositoryId: toValue(repositoryId) }));
  return useQuery({
    queryKey: ["repositories.details", input],
    queryFn: () => trpc.repositories.details.query(input.value),
  });
}

/** Token and key errors arrive as `credential` (refused by the host) or `credential.token` (input rules). */
export const credentialFields = [
  "credential",
  "credential.token",
  "credential.username",
  "credential.privateKey",
  "credential.knownHosts",
];

export function useConnectRepository() {
  return useAction(trpc.repositories.connect.mutate, {
    fields: ["provider", "url", "apiUrl", "registerWebhook", ...credentialFields],
    schema: connectRepositoryInput,
    invalidate: repositoryData,
  });
}

export function useCreateRepository() {
  return useAction(trpc.repositories.create.mutate, {
    fields: ["provider", "apiUrl", "token", "credential", "namespace", "name", "url", "private", "image", "port"],
    schema: createRepositoryInput,
    invalidate: repositoryData,
  });
}

export function useInitializeLayout() {
  return useAction(trpc.repositories.initializeLayout.mutate, {
    fields: ["image", "port"],
    schema: initializeLayoutInput,
    invalidate: repositoryData,
  });
}

export function useUpdateRepositoryCredential() {
  return useAction(trpc.repositories.updateCredential.mutate, {
    fields: credentialFields,
    invalidate: repositoryData,
  });
}

export function useDisconnectRepository() {
  return useAction(trpc.repositories.disconnect.mutate, {
    invalidate: [...repositoryData, ["environments.list"]],
  });
}

/** The secret in clear, only on request (audited on the server); kept in the page, never in the query cache. */
export function useRevealWebhookSecret() {
  return useAction(trpc.repositories.revealWebhookSecret.mutate);
}

export function useRegenerateWebhookSecret(onDone: (result: { secret: string }) => void) {
  return useAction(trpc.repositories.regenerateWebhookSecret.mutate, { onSuccess: onDone });
}
