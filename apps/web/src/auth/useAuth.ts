import { setupInput, signInInput } from "@juanie/contracts";
import { type QueryClient, queryOptions, useQuery, useQueryClient } from "@tanstack/vue-query";
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
      // A session that ended without signing out (expired, revoked) left its data cached: start afresh.
      forgetUserData(queryClient);
      queryClient.setQueryData(meQuery.queryKey, me);
    },
  });
}

export function useSignOut() {
  const queryClient = useQueryClient();
  const router = useRouter();
  return useAction(trpc.auth.signOut.mutate, {
    onSuccess: async () => {
      // Leave the signed-in pages first, so none of them refetches into the cleared cache (or sends
      // the next user back to this one's page through a returnTo), then forget everything.
      queryClient.setQueryData(meQuery.queryKey, null);
      await router.push({ name: "sign-in" });
      forgetUserData(queryClient);
    },
  });
}

/** localStorage keys that are preferences of this browser rather than of whoever was signed in. */
const browserPreferences = new Set(["juanie.locale", "juanie.theme"]);

/**
 * Drops everything the previous user could see: the whole query cache (orgs, projects, deployments,
 * notifications…) and what the app remembered for them in localStorage (e.g. the deploy form's
 * workload choice per environment). The language and theme stay: they belong to the browser.
 */
export function forgetUserData(queryClient: QueryClient): void {
  // Everything but "who is signed in" (set to nobody) and the instance's setup status. The `me` query
  // itself must stay in the cache: the header observes it for the app's whole life, and an observer of
  // a removed query never sees the next user's data.
  const kept = new Set([meQuery.queryKey[0], setupStatusQuery.queryKey[0]]);
  queryClient.removeQueries({ predicate: (query) => !kept.has(String(query.queryKey[0])) });
  queryClient.setQueryData(meQuery.queryKey, null);
  try {
    const keys = Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i));
    for (const key of keys) {
      if (key?.startsWith("juanie.") && !browserPreferences.has(key)) localStorage.removeItem(key);
    }
  } catch {
    // storage unavailable (private mode): nothing was remembered there
  }
}
