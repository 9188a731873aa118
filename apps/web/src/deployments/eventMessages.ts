import type { Translator } from "../api/errorText.ts";

/**
 * The platform's own timeline notes ("2 approval(s) required", "pushed 9178f2f to main") are stored in
 * English; these are their shapes, read back into a key and its values so that each reads in the user's
 * language. Anything else (a reviewer's comment, Flux's words) is shown as written.
 */
const shapes: [RegExp, string, string[]][] = [
  [/^(\d+) approval\(s\) required$/, "approvalsRequired", ["count"]],
  [/^approved by (\d+) of (\d+) required$/, "approvedBy", ["count", "required"]],
  [
    /^approved by (\d+) of (\d+) required \((\d+) approval\(s\) no longer count: the approver lost the permission\)$/,
    "approvedByDropped",
    ["count", "required", "dropped"],
  ],
  [/^pushed ([0-9a-f]+) to (\S+)$/, "pushed", ["sha", "branch"]],
  [/^pushed ([0-9a-f]+) to (\S+) after (\d+) attempts$/, "pushedAfter", ["sha", "branch", "attempts"]],
  [/^cancelled by (\S+)$/, "cancelledBy", ["user"]],
  [/^retried by (\S+)$/, "retriedBy", ["user"]],
  [/^rolled back by (\S+)$/, "rolledBackBy", ["id"]],
  [/^approval window elapsed$/, "approvalExpired", []],
  [/^found its commit ([0-9a-f]+) on (.+) after an interrupted run$/, "foundCommit", ["sha", "branch"]],
  [/^the server stopped while committing and its commit is not on the branch: trying once more$/, "serverStopped", []],
];

export const eventMessageKeys = shapes.map(([, key]) => key);

export function eventMessage(tr: Translator, message: string): string {
  for (const [shape, key, names] of shapes) {
    const m = shape.exec(message);
    if (!m) continue;
    const params = Object.fromEntries(names.map((name, i) => [name, m[i + 1] ?? ""]));
    return tr.t(`deployments.eventMessages.${key}`, params);
  }
  return message;
}
