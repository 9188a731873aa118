import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../apps/server/test/harness.ts";
import { type GitServer, startGitServer } from "../git-server.ts";
import { launchBrowser, newContext, type RunningServer, screenshot, startBuiltServer, watchPage } from "./harness.ts";

/**
 * Messages for people, in Chinese: server field errors (a project slug, an approval rule nobody can meet),
 * the deploy form's own checks (replicas out of range, an image without a tag) and domain errors (wrong
 * password, a deployment that does not exist) read in the user's language, name the field by its label and
 * never show an internal name (`userId`, `spec.`, `path:`, zod's wording) or an English sentence.
 */

const id = (t: string) => `[data-testid="${t}"]`;
const token = "e2e-git-token";

let browser: Browser;
let git: GitServer;
let server: RunningServer;

beforeAll(async () => {
  git = await startGitServer({ token });
  server = await startBuiltServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true" });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await git?.close();
});

/** No internal names, no zod wording, no English sentence (three English words in a row). */
function expectForPeople(text: string | null, expected: string | RegExp): void {
  expect(text).not.toBeNull();
  const message = text ?? "";
  if (typeof expected === "string") expect(message).toContain(expected);
  else expect(message).toMatch(expected);
  expect(message).not.toMatch(/userId|environmentId|deploymentId|spec\.|path:|zod|Invalid input|expected \w+/i);
  expect(message).not.toMatch(/[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}/);
}

async function textOf(page: Page, selector: string): Promise<string | null> {
  await page.waitForSelector(selector);
  return page.textContent(selector);
}

/** Waits until the element's text contains `text` (browser code as a string: no DOM types here). */
async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction(
    `document.querySelector(${JSON.stringify(selector)})?.textContent?.includes(${JSON.stringify(text)}) ?? false`,
  );
}

describe("messages in zh-CN", () => {
  it("field errors, deploy form checks and domain errors read in Chinese", async () => {
    const problems: string[] = [];
    const admin = new Session(server.url);
    await admin.api.auth.setup.mutate({
      email: "ada@example.com",
      username: "ada",
      displayName: "Ada Admin",
      password: "correct horse battery",
    });
    const org = await admin.api.orgs.create.mutate({ name: "Acme Corp", slug: "acme-corp" });
    const project = await admin.api.projects.create.mutate({
      organizationId: org.id,
      name: "Web Shop",
      slug: "web-shop",
      visibility: "private",
    });
    // Bob may deploy (and so approve): besides a requester, one person can approve.
    const { acceptUrl } = await admin.api.invitations.create.mutate({
      organizationId: org.id,
      invitee: "bob@example.com",
      role: "member",
    });
    const invitationToken = acceptUrl.split("/invitations/")[1]!;
    const bob = new Session(server.url);
    const me = await bob.api.auth.signUp.mutate({
      invitationToken,
      email: "bob@example.com",
      username: "bob",
      displayName: "Bob",
      password: "a long enough password",
    });
    await bob.api.invitations.acceptByToken.mutate({ token: invitationToken });
    await admin.api.projects.addMember.mutate({ projectId: project.id, userId: me.id, role: "developer" });
    const repo = await admin.api.repositories.connect.mutate({
      projectId: project.id,
      provider: "git",
      url: await git.createRepo("shop"),
      credential: { type: "token", token },
      registerWebhook: false,
    });
    await admin.api.repositories.initializeLayout.mutate({
      repositoryId: repo.id,
      image: "ghcr.io/acme/shop:1.0.0",
      port: 8080,
    });
    await admin.api.environments.createSuggested.mutate({ projectId: project.id, repositoryId: repo.id });

    const ctx = await newContext(browser, "zh-CN");
    const page = await ctx.newPage();
    watchPage(page, problems, "ada");

    // A wrong password: the domain's sentence, in Chinese.
    await page.goto(`${server.url}/sign-in`);
    await page.fill(id("sign-in-login"), "ada");
    await page.fill(id("sign-in-password"), "not the password");
    await page.click(id("submit"));
    expectForPeople(await textOf(page, id("error-alert")), "用户名、电子邮件或密码错误");
    await screenshot(page, "messages-01-wrong-password");
    await page.fill(id("sign-in-password"), "correct horse battery");
    await page.click(id("submit"));
    await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"));

    // A project slug the server refuses (a DNS label), then one that is taken.
    await page.goto(`${server.url}/orgs/acme-corp`);
    await page.click(id("create-project"));
    await page.fill(id("project-name"), "Shop Two");
    await page.fill(id("project-slug"), "Bad Slug!");
    await page.click(id("submit"));
    expectForPeople(await textOf(page, id("project-slug-error")), "必须是 DNS 标签");
    await screenshot(page, "messages-02-project-slug");
    await page.fill(id("project-slug"), "web-shop");
    await page.click(id("submit"));
    await waitForText(page, id("project-slug-error"), "已被占用");
    expectForPeople(await page.textContent(id("project-slug-error")), "已被占用");

    // An approval rule nobody can meet: besides the requester, only one person can approve.
    await page.goto(`${server.url}/orgs/acme-corp/projects/web-shop/environments`);
    await page.click(`${id("env-card")}[data-name="production"] ${id("env-settings")}`);
    await page.fill(id("env-min-approvals"), "3");
    await page.click(id("save-environment"));
    expectForPeople(
      await textOf(page, id("env-min-approvals-error")),
      "不能大于 1：除申请人外，只有 1 人可以审批此环境的部署",
    );
    await screenshot(page, "messages-03-approval-rule");
    await page.keyboard.press("Escape");
    await page.waitForSelector(id("environment-form"), { state: "detached" });

    // The deploy form: replicas out of range and an image without a tag, checked before anything is sent.
    await page.click(`${id("env-card")}[data-name="development"] ${id("deploy")}`);
    await page.waitForSelector(id("deploy-image"));
    await page.fill(id("deploy-image"), "nginx");
    await page.fill(id("deploy-replicas"), "5000");
    await page.click(id("submit-deploy"));
    expectForPeople(await textOf(page, id("deploy-image-error")), "必须带有标签或摘要");
    expectForPeople(await textOf(page, id("deploy-replicas-error")), "必须是 0 到 1000 之间的整数");
    await page.locator(id("deploy-image")).scrollIntoViewIfNeeded();
    await screenshot(page, "messages-04-deploy-form");
    // A registry with a port is not a tag either.
    await page.fill(id("deploy-image"), "localhost:5000/app");
    await page.click(id("submit-deploy"));
    await waitForText(page, id("deploy-image-error"), "标签");
    await page.fill(id("deploy-image"), "ghcr.io/acme/shop:1.1.0");
    await page.fill(id("deploy-replicas"), "2");
    await page.waitForSelector(id("deploy-image-error"), { state: "detached" });
    await page.waitForSelector(id("deploy-replicas-error"), { state: "detached" });

    // The server refuses the same image without a tag, naming the field in Chinese.
    const refused = await page.evaluate(
      `fetch("/trpc/deployments.preview", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ environmentId: "00000000-0000-4000-8000-000000000000", spec: { image: "nginx" } }) })
        .then((r) => r.json())`,
    );
    const details = (refused as { error: { data: { juanie: { issues: { field: string; rule: string }[] } } } }).error
      .data.juanie;
    expect(details.issues).toContainEqual(expect.objectContaining({ field: "spec.image", rule: "deploy.imageTag" }));

    // A deployment that does not exist: the domain's not-found sentence.
    await page.goto(`${server.url}/deployments/00000000-0000-4000-8000-000000000000`);
    expectForPeople(await textOf(page, id("error-alert")), "该部署不存在");
    await screenshot(page, "messages-05-not-found");

    expect(problems).toEqual([]);
  });
});
