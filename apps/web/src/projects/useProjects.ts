import { createProjectInput, type Project, updateProjectInput } from "@juanie/contracts";
import { useInfiniteQuery, useQuery } from "@tanstack/vue-query";
import { computed, type MaybeRefOrGetter, toValue } from "vue";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";
import { isOrgAdmin, useOrg } from "../orgs/useOrgs.ts";

const projectData = [["projects.list"], ["projects.bySlug"], ["orgs.list"], ["orgs.bySlug"]];
const accessData = [["projects.access"], ["projects.bySlug"]];

export function useProjectPages(organizationId: MaybeRefOrGetter<string>, search: MaybeRefOrGetter<string>) {
  const filter = computed(() => ({
    organizationId: toValue(organizationId),
    search: toValue(search).trim() || undefined,
  }));
  return useInfiniteQuery({
    queryKey: ["projects.list", filter],
    queryFn: ({ pageParam }) => trpc.projects.list.query({ ...filter.value, cursor: pageParam, limit: 50 }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
  });
}

export function useProject(organizationSlug: MaybeRefOrGetter<string>, slug: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ organizationSlug: toValue(organizationSlug), slug: toValue(slug) }));
  return useQuery({ queryKey: ["projects.bySlug", input], queryFn: () => trpc.projects.bySlug.query(input.value) });
}

export function useProjectAccess(projectId: MaybeRefOrGetter<string>) {
  const input = computed(() => ({ projectId: toValue(projectId) }));
  return useQuery({ queryKey: ["projects.access", input], queryFn: () => trpc.projects.access.query(input.value) });
}

export function useCreateProject() {
  return useAction(trpc.projects.create.mutate, {
    fields: ["name", "slug", "description", "visibility"],
    schema: createProjectInput,
    invalidate: projectData,
  });
}

export function useUpdateProject() {
  return useAction(trpc.projects.update.mutate, {
    fields: ["name", "description", "visibility"],
    schema: updateProjectInput,
    invalidate: projectData,
  });
}

export function useArchiveProject() {
  return useAction(trpc.projects.archive.mutate, { invalidate: projectData });
}

export function useRestoreProject() {
  return useAction(trpc.projects.restore.mutate, { invalidate: projectData });
}

export function useAddProjectMember() {
  return useAction(trpc.projects.addMember.mutate, { fields: ["userId", "role"], invalidate: accessData });
}

export function useChangeProjectMemberRole() {
  return useAction(trpc.projects.changeMemberRole.mutate, { invalidate: accessData });
}

export function useRemoveProjectMember() {
  return useAction(trpc.projects.removeMember.mutate, { invalidate: accessData });
}

export function useGrantProjectTeam() {
  return useAction(trpc.projects.grantTeam.mutate, { fields: ["teamId", "role"], invalidate: accessData });
}

export function useRevokeProjectTeam() {
  return useAction(trpc.projects.revokeTeam.mutate, { invalidate: accessData });
}

/** Owners, maintainers and org admins manage a project; the server has the final word. */
export function useCanManageProject(
  organizationSlug: MaybeRefOrGetter<string>,
  project: MaybeRefOrGetter<Project | undefined>,
) {
  const { data: org } = useOrg(organizationSlug);
  return computed(() => {
    const myRole = toValue(project)?.myRole;
    return myRole === "owner" || myRole === "maintainer" || (org.value !== undefined && isOrgAdmin(org.value));
  });
}
