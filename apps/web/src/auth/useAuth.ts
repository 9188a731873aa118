import { setupInput, signInInput } from "@juanie/contracts";
import { queryOptions, useQuery, useQueryClient } from "@tanstack/vue-query";
import { useRouter } from "vue-router";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";

export const meQuery = queryOptions({
  queryKey: ["auth.me"],
  queryFn: () => trpc.auth.me.query(),
  staleTime: Number.POSITIVE_INFINITY,
});

export const setupStatusQuery = queryOptions({
  queryKey: ["auth.setupStatus"],
  queryFn: () => trpc.auth.setupStatus.query(),
  staleTime: Number.POSITIVE_INFINITY,
});

export function useMe() {
  return useQuery(meQuery);
}

export function useSetupStatus() {
  return useQuery(setupStatusQuery);
}

const accountFields = ["email", "username", "displayName", "password"] as const;

export function useSetup() {
  const queryClient = useQueryClient();
  return useAction(trpc.auth.setup.mutate, {
    fields: accountFields,
    schema: setupInput,
    onSuccess: (me) => {
      queryClient.setQueryData(meQuery.queryKey, me);
      queryClient.setQueryData(setupStatusQuery.queryKey, (status) => status && { ...status, needsSetup: false });
    },
  });
}

export function useSignIn() {
  const queryClient = useQueryClient();
  return useAction(trpc.auth.signIn.mutate, {
    fields: ["login", "password"],
    schema: signInInput,
    onSuccess: (me) => {
      queryClient.setQueryData(meQuery.queryKey, me);
    },
  });
}

export function useSignOut() {
  const queryClient = useQueryClient();
  const router = useRouter();
  return useAction(trpc.auth.signOut.mutate, {
    onSuccess: async () => {
      queryClient.clear();
      queryClient.setQueryData(meQuery.queryKey, null);
      await router.push({ name: "sign-in" });
    },
  });
}
