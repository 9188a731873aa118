import {
  createOrganizationInput,
  deleteOrganizationInput,
  type Organization,
  updateOrganizationInput,
} from "@juanie/contracts";
import { useQuery, useQueryClient } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, toValue } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";

/** Member, team and project counts show on the list and the org header. */
const orgData = [["orgs.list"], ["orgs.bySlug"]];

export function useOrgList() {
  return useQuery({ queryKey: ["orgs.list"], queryFn: () => trpc.orgs.list.query() });
}

export function useOrg(slug: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ slug: toValue(slug) }));
  return useQuery({ queryKey: ["orgs.bySlug", input], queryFn: () => trpc.orgs.bySlug.query(input.value) });
}

export function useOrgMembers(organizationId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ organizationId: toValue(organizationId) }));
  return useQuery({ queryKey: ["orgs.members", input], queryFn: () => trpc.orgs.members.query(input.value) });
}

export function useCreateOrg() {
  return useAction(trpc.orgs.create.mutate, {
    fields: ["name", "slug", "displayName"],
    schema: createOrganizationInput,
    invalidate: [["orgs.list"]],
  });
}

export function useUpdateOrg() {
  return useAction(trpc.orgs.update.mutate, {
    fields: ["name", "displayName"],
    schema: updateOrganizationInput,
    invalidate: orgData,
  });
}

export function useDeleteOrg() {
  const queryClient = useQueryClient();
  return useAction(trpc.orgs.delete.mutate, {
    fields: ["confirmSlug"],
    schema: deleteOrganizationInput,
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: ["orgs.bySlug"] });
      await queryClient.invalidateQueries({ queryKey: ["orgs.list"] });
    },
  });
}

export function useChangeOrgMemberRole() {
  return useAction(trpc.orgs.changeMemberRole.mutate, { invalidate: [["orgs.members"], ...orgData] });
}

export function useRemoveOrgMember() {
  return useAction(trpc.orgs.removeMember.mutate, { invalidate: [["orgs.members"], ...orgData] });
}

export function isOrgAdmin(org: Organization): boolean {
  return org.myRole === "admin";
}
