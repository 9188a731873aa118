import { createInvitationInput, signUpInput } from "@juanie/contracts";
import { useQuery, useQueryClient } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, toValue } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";
import { meQuery } from "../auth/useAuth.ts";

const afterResponse = [["invitations.mine"], ["invitations.byToken"], ["orgs.list"]];

export function useInvitationByToken(token: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ token: toValue(token) }));
  return useQuery({
    queryKey: ["invitations.byToken", input],
    queryFn: () => trpc.invitations.byToken.query(input.value),
    retry: false,
  });
}

export function useMyInvitations() {
  return useQuery({ queryKey: ["invitations.mine"], queryFn: () => trpc.invitations.mine.query() });
}

export function useOrgInvitations(organizationId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ organizationId: toValue(organizationId) }));
  return useQuery({
    queryKey: ["invitations.listForOrg", input],
    queryFn: () => trpc.invitations.listForOrg.query(input.value),
  });
}

export function useCreateInvitation() {
  return useAction(trpc.invitations.create.mutate, {
    fields: ["invitee", "role", "expiresInDays"],
    schema: createInvitationInput,
    invalidate: [["invitations.listForOrg"]],
  });
}

export function useRevokeInvitation() {
  return useAction(trpc.invitations.revoke.mutate, { invalidate: [["invitations.listForOrg"]] });
}

export function useAcceptInvitation() {
  return useAction(trpc.invitations.accept.mutate, { invalidate: afterResponse });
}

export function useAcceptInvitationByToken() {
  return useAction(trpc.invitations.acceptByToken.mutate, { invalidate: afterResponse });
}

export function useDeclineInvitation() {
  return useAction(trpc.invitations.decline.mutate, { invalidate: afterResponse });
}

type SignUpVars = Parameters<typeof trpc.auth.signUp.mutate>[0] & { invitationToken: string };

/** Creates the account from an invitation link, then joins the organization it invites to. */
export function useSignUpAndAccept() {
  const queryClient = useQueryClient();
  return useAction(
    async (input: SignUpVars) => {
      const me = await trpc.auth.signUp.mutate(input);
      queryClient.setQueryData(meQuery.queryKey, me);
      return trpc.invitations.acceptByToken.mutate({ token: input.invitationToken });
    },
    { fields: ["email", "username", "displayName", "password"], schema: signUpInput, invalidate: afterResponse },
  );
}
