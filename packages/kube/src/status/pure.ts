// The pure half of live status (no client, no I/O): what the domain applies each watch event through.
export * from "./reducers.ts";
export * from "./revision.ts";
