import { describe, expect, it } from "vitest";
import { defaultCommitMessage } from "./commit-message.ts";

describe("defaultCommitMessage", () => {
  it.each([
    [
      "update image to ghcr.io/org/app:1.2.3, scale to 5 replicas",
      undefined,
      "chore(deploy): update image to ghcr.io/org/app:1.2.3, scale to 5 replicas",
    ],
    [
      "scale to 2 replicas",
      "  Black Friday traffic.\r\n\r\nApproved by ops.  \n",
      "chore(deploy): scale to 2 replicas\n\nBlack Friday traffic.\n\nApproved by ops.",
    ],
    ["scale to 2 replicas", "   ", "chore(deploy): scale to 2 replicas"],
    ["scale to\n2 replicas", undefined, "chore(deploy): scale to 2 replicas"],
  ])("%j + %j", (summary, text, expected) => {
    expect(defaultCommitMessage(summary, text)).toBe(expected);
  });

  it("shortens a long summary in the subject and keeps it whole in the body", () => {
    const summary = `update image to ghcr.io/org/app:1.2.3, add env ${Array.from({ length: 12 }, (_, i) => `VARIABLE_${i}`).join(", ")}`;
    const message = defaultCommitMessage(summary, "why");
    const [subject, blank, ...body] = message.split("\n");
    expect(subject?.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^chore\(deploy\): update image to ghcr\.io\/org\/app:1\.2\.3, add env .*…$/);
    expect(blank).toBe("");
    expect(body.join("\n")).toBe(`${summary}\n\nwhy`);
  });
});
