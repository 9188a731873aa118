import { createTeamInput, updateTeamInput } from "@juanie/contracts";
import { useQuery } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, toValue } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";

/** Team counts show on the org header and in the team list. */
const teamData = [["teams.list"], ["teams.bySlug"], ["orgs.list"], ["orgs.bySlug"]];
const memberData = [["teams.members"], ["teams.list"], ["teams.bySlug"]];

export function useTeamList(organizationId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ organizationId: toValue(organizationId) }));
  return useQuery({ queryKey: ["teams.list", input], queryFn: () => trpc.teams.list.query(input.value) });
}

export function useTeam(organizationId: MaybeRefOrGetter<string | undefined>, slug: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ organizationId: toValue(organizationId) ?? "", slug: toValue(slug) }));
  return useQuery({
    queryKey: ["teams.bySlug", input],
    queryFn: () => trpc.teams.bySlug.query(input.value),
    enabled: computed(() => input.value.organizationId !== ""),
  });
}

export function useTeamMembers(teamId: MaybeRefOrGetter<string | undefined>) {
  const input = computed(() => ({ teamId: toValue(teamId) ?? "" }));
  return useQuery({
    queryKey: ["teams.members", input],
    queryFn: () => trpc.teams.members.query(input.value),
    enabled: computed(() => input.value.teamId !== ""),
  });
}

export function useCreateTeam() {
  return useAction(trpc.teams.create.mutate, {
    fields: ["name", "slug", "description"],
    schema: createTeamInput,
    invalidate: teamData,
  });
}

export function useUpdateTeam() {
  return useAction(trpc.teams.update.mutate, {
    fields: ["name", "description"],
    schema: updateTeamInput,
    invalidate: teamData,
  });
}

export function useDeleteTeam(onSuccess: () => Promise<unknown>) {
  return useAction(trpc.teams.delete.mutate, {
    invalidate: teamData,
    onSuccess: async () => {
      await onSuccess();
    },
  });
}

export function useAddTeamMember() {
  return useAction(trpc.teams.addMember.mutate, { fields: ["userId", "role"], invalidate: memberData });
}

export function useChangeTeamMemberRole() {
  return useAction(trpc.teams.changeMemberRole.mutate, { invalidate: memberData });
}

export function useRemoveTeamMember() {
  return useAction(trpc.teams.removeMember.mutate, { invalidate: memberData });
}
