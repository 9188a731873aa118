export * from "./client.ts";
export * from "./embedded.ts";
export * as schema from "./schema.ts";
export * from "./schema.ts";
