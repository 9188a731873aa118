export * from "./api.ts";
export * from "./clusters.ts";
export * from "./common.ts";
export * from "./errors.ts";
export * from "./field-rules.ts";
export * from "./gitops.ts";
export * from "./roles.ts";
