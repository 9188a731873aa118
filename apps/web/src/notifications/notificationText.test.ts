import type { Notification } from "@juanie/contracts";
import { describe, expect, it } from "vitest";
import { createI18n } from "vue-i18n";
import { en } from "../i18n/en.ts";
import { zhCN } from "../i18n/zh-CN.ts";
import { notificationKinds } from "./notificationKinds.ts";
import { notificationText } from "./notificationText.ts";

const i18n = createI18n({ legacy: false, locale: "en", messages: { en, "zh-CN": zhCN }, missingWarn: false });
const g = i18n.global;
function render(n: Pick<Notification, "kind" | "data">, locale: "en" | "zh-CN") {
  g.locale.value = locale;
  return notificationText(n, g.t, g.te);
}

/** The data a deployment notification carries (as the server builds it). */
const deployment = {
  deploymentId: "7b0c8f0e-0000-4000-8000-000000000001",
  deploymentNumber: 42,
  projectId: "7b0c8f0e-0000-4000-8000-000000000002",
  projectName: "Shop",
  projectSlug: "shop",
  organizationSlug: "acme",
  environmentName: "production",
  actor: "Carol",
  requestedBy: "Bob",
  method: "gitops-ui",
  version: "1.2.0",
  previousVersion: "1.1.0",
  fieldCount: 1,
  rollbackOfNumber: null,
  promotedFromNumber: null,
  link: "/deployments/7b0c8f0e-0000-4000-8000-000000000001",
};

describe("notification text", () => {
  it("names the project, environment, number, who and what", () => {
    expect(render({ kind: "deployment.approval_requested", data: deployment }, "en").text).toBe(
      "Carol asks for your approval of deployment #42 to production in Shop: version 1.1.0 → 1.2.0.",
    );
    expect(render({ kind: "deployment.approved", data: deployment }, "zh-CN").text).toBe(
      "Carol 批准了你在项目 Shop 部署到 production 的 #42：版本 1.1.0 → 1.2.0。",
    );
    const rollback = { ...deployment, method: "rollback", version: null, fieldCount: 0, rollbackOfNumber: 40 };
    expect(render({ kind: "deployment.committed", data: rollback }, "en").text).toBe(
      "Your deployment #42 to production in Shop was committed: roll back to #40.",
    );
    const scaled = { ...deployment, version: null, previousVersion: null, fieldCount: 2 };
    expect(render({ kind: "deployment.committed", data: scaled }, "en").text).toBe(
      "Your deployment #42 to production in Shop was committed: 2 settings changed.",
    );
    expect(render({ kind: "deployment.committed", data: { ...scaled, fieldCount: 1 } }, "en").text).toBe(
      "Your deployment #42 to production in Shop was committed: 1 setting changed.",
    );
    expect(render({ kind: "deployment.rejected", data: { ...scaled, comment: "not now" } }, "zh-CN")).toEqual({
      text: "Carol 驳回了你在项目 Shop 部署到 production 的 #42：更改了 2 项设置。",
      detail: "“not now”",
    });
  });

  it("says why a deployment failed, and who when nobody but the platform acted", () => {
    const failed = { ...deployment, actor: null, stage: "conflict" };
    expect(render({ kind: "deployment.failed", data: failed }, "en")).toEqual({
      text: "Your deployment #42 to production in Shop failed: version 1.1.0 → 1.2.0.",
      detail: "Someone changed the same values on the branch meanwhile: nothing was pushed.",
    });
    expect(
      render({ kind: "deployment.failed", data: { ...failed, stage: "rollout", reason: "HealthCheckFailed" } }, "zh-CN")
        .detail,
    ).toBe("Flux 未能完成发布（HealthCheckFailed）。");
    expect(render({ kind: "deployment.break_glass", data: { ...deployment, reason: "outage" } }, "en").text).toBe(
      "Carol approved deployment #42 to production in Shop without its approvals (break glass): outage",
    );
  });

  it("every kind renders fully in zh-CN: no placeholder left, no English word but the data's own", () => {
    const data = {
      ...deployment,
      stage: "commit",
      comment: "好",
      reason: "紧急",
      breakGlassReason: "紧急",
      organizationName: "Acme",
      invitedBy: "Ada",
      role: "member",
      teamName: "Platform",
      clusterName: "k3s",
      components: "source-controller",
    };
    const ours = new Set(Object.values(data).flatMap((v) => String(v).split(/[^A-Za-z]+/)));
    ours.add("Flux");
    for (const kind of notificationKinds) {
      const { text, detail } = render({ kind, data }, "zh-CN");
      const all = `${text} ${detail ?? ""}`;
      expect(all, kind).not.toMatch(/[{}]/);
      const english = (all.match(/[A-Za-z]+/g) ?? []).filter((word) => !ours.has(word));
      expect(english, `${kind}: ${all}`).toEqual([]);
    }
  });

  it("notifications stored before they carried the number read as before", () => {
    const old = { environmentName: "production", requestedBy: "bob", deploymentId: "x" };
    expect(render({ kind: "deployment.approval_requested", data: old }, "en").text).toBe(
      "bob asks for your approval to deploy to production.",
    );
  });
});
