import { describe, expect, it } from "vitest";
import { createI18n } from "vue-i18n";
import { en } from "../i18n/en.ts";
import { zhCN } from "../i18n/zh-CN.ts";
import type { ApiError } from "./apiError.ts";
import { errorText, fieldLabel, issueText, roleText, type Translator } from "./errorText.ts";

function translator(locale: "en" | "zh-CN"): Translator {
  const i18n = createI18n({ legacy: false, locale, messages: { en, "zh-CN": zhCN }, missingWarn: false });
  return { t: (key, params) => i18n.global.t(key, params ?? {}), te: (key) => i18n.global.te(key) };
}
const zh = translator("zh-CN");
const english = translator("en");

const invalid = (issues: ApiError["issues"], message = "Invalid input: …"): ApiError => ({
  code: "INVALID_INPUT",
  message,
  fieldErrors: {},
  requiredRole: null,
  issues,
});

describe("error wording in the browser", () => {
  it("words field rules with their parameters in the user's language", () => {
    expect(issueText(zh, { rule: "too_big", params: { max: 100 }, message: "Too big" })).toBe("不能大于 100");
    expect(issueText(english, { rule: "too_big", params: { max: 100 }, message: "Too big" })).toBe(
      "must be at most 100",
    );
    expect(issueText(zh, { rule: "deploy.imageTag", message: "must name a tag" })).toBe(
      "必须带有标签或摘要，例如 app:1.2.3 或 app@sha256:…",
    );
    expect(
      issueText(zh, { rule: "approvals.quorum_unreachable", params: { max: 3 }, message: "must be at most 3" }),
    ).toContain("只有 3 人可以审批");
  });

  it("falls back to the server's English only for a rule it does not know", () => {
    expect(issueText(zh, { rule: "brand_new_rule", message: "is new" })).toBe("is new");
  });

  it("names fields by their labels, never by their internal names", () => {
    expect(fieldLabel(zh, "userId")).toBe("用户");
    expect(fieldLabel(zh, "spec.replicas")).toBe("副本数");
    expect(fieldLabel(zh, "grants.2.subjectId")).toBe("用户或团队");
    // An entry of a list says which one.
    expect(fieldLabel(zh, "spec.env.0.name")).toBe("环境变量第 1 项的名称");
    expect(fieldLabel(english, "spec.env.2.value")).toMatch(/^Environment variables 3, /);
    expect(fieldLabel(zh, "spec.somethingInternal")).toBe("某个字段");
    expect(fieldLabel(english, "environmentId")).toBe("Environment");
  });

  it("says the alert's sentence from the reason, translating names among its parameters", () => {
    const notFound: ApiError = {
      code: "NOT_FOUND",
      message: "Project not found",
      fieldErrors: {},
      requiredRole: null,
      reason: "not_found",
      params: { entity: "project" },
    };
    expect(errorText(zh, notFound)).toBe("该项目不存在，或你无权查看。");
    const denied: ApiError = {
      code: "FORBIDDEN",
      message: "Forbidden: deploying to this environment requires environment deploy permission (you have none)",
      fieldErrors: {},
      requiredRole: "environment deploy permission",
      reason: "forbidden.action",
      params: { action: "deployment.create", role: "environment deploy permission", has: "" },
    };
    expect(errorText(zh, denied)).toBe("部署到此环境需要：环境的部署权限（你目前是：在此没有角色）。");
    expect(roleText(zh, "organization admin")).toBe("组织管理员");
    expect(errorText(zh, { ...notFound, reason: "unknown.reason" })).toBe("Project not found");
  });

  it("lists field issues the form does not show with their labels, without internal names", () => {
    const text = errorText(
      zh,
      invalid([
        { field: "userId", rule: "already_member", message: "is already a member" },
        { field: "spec.path", rule: "message", message: "kustomize build failed" },
      ]),
    );
    expect(text).toBe("用户: 已经是成员; 路径: kustomize build failed");
    expect(text).not.toMatch(/userId|spec\.|path:/);
  });
});

describe("timeline notes", () => {
  it("reads the platform's own notes in the user's language and leaves people's words alone", async () => {
    const { eventMessage } = await import("../deployments/eventMessages.ts");
    expect(eventMessage(zh, "2 approval(s) required")).toBe("需要 2 人审批");
    expect(eventMessage(zh, "approved by 2 of 2 required")).toBe("已获 2 人审批（需要 2 人）");
    expect(eventMessage(zh, "pushed 9178f2fdd00c to main")).toBe("已将 9178f2fdd00c 推送到 main");
    expect(eventMessage(english, "pushed 9178f2fdd00c to main after 2 attempts")).toBe(
      "pushed 9178f2fdd00c to main after 2 attempts",
    );
    expect(eventMessage(zh, "LGTM, ship it")).toBe("LGTM, ship it");
  });
});
