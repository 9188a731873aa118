import { changePasswordInput, updateProfileInput } from "@juanie/contracts";
import { useQueryClient } from "@tanstack/vue-query";
import { trpc } from "../api/trpc.ts";
import { useAction } from "../api/useAction.ts";
import { meQuery } from "../auth/useAuth.ts";

export function useUpdateProfile() {
  const queryClient = useQueryClient();
  return useAction(trpc.users.updateProfile.mutate, {
    fields: ["displayName", "locale"],
    schema: updateProfileInput,
    onSuccess: (me) => {
      queryClient.setQueryData(meQuery.queryKey, me);
    },
  });
}

export function useChangePassword() {
  return useAction(trpc.users.changePassword.mutate, {
    fields: ["currentPassword", "newPassword", "confirmPassword"],
    schema: changePasswordInput,
  });
}

export function useUnlinkProvider() {
  const queryClient = useQueryClient();
  return useAction(trpc.users.unlinkProvider.mutate, {
    onSuccess: (me) => {
      queryClient.setQueryData(meQuery.queryKey, me);
    },
  });
}
