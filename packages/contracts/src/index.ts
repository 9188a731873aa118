export * from "./api.ts";
export * from "./clusters.ts";
export * from "./common.ts";
export * from "./errors.ts";
export * from "./gitops.ts";
export * from "./roles.ts";
export * from "./field-rules.ts";
