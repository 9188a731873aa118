// Test doubles for other packages' tests: local fakes of the GitHub and GitLab APIs the adapters call.
export { type FakeCommit, type FakeGitHub, type FakeGitHubOptions, startFakeGitHub } from "./fakeGitHub.ts";
export { type AccessLevel, type FakeGitLab, type FakeGitLabOptions, startFakeGitLab } from "./fakeGitLab.ts";
export type { FakeResponse, RecordedRequest } from "./fakeServer.ts";
