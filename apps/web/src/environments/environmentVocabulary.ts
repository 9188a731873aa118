import { createEnvironmentInput, environmentPermissionSchema } from "@juanie/contracts";

export { environmentTypes } from "@juanie/contracts";

/** Each has a label under `environments.cloudProviders`. */
export const cloudProviders = createEnvironmentInput.shape.cloudProvider.unwrap().unwrap().options;
export type CloudProvider = (typeof cloudProviders)[number];

/** Each has a label under `environments.permissions` and a hint under `environments.permissionHints`. */
export const environmentPermissions = environmentPermissionSchema.options;
export type EnvironmentPermission = (typeof environmentPermissions)[number];

export function isCloudProvider(value: string | null): value is CloudProvider {
  return cloudProviders.some((provider) => provider === value);
}

export function canDeploy(permission: EnvironmentPermission | null): boolean {
  return permission === "deploy" || permission === "admin";
}
