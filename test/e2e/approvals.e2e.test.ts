import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../apps/server/test/harness.ts";
import { type GitServer, startGitServer } from "../git-server.ts";
import { launchBrowser, newContext, type RunningServer, screenshot, startBuiltServer, watchPage } from "./harness.ts";

/**
 * Approvals that can always be completed, in the browser: the settings refuse a rule nobody can meet with
 * the count, a request that can no longer reach its quorum says so and names who could approve (in
 * Chinese too), and an organization admin approves it break glass with a reason.
 */

const id = (t: string) => `[data-testid="${t}"]`;
const token = "e2e-git-token";

let browser: Browser;
let git: GitServer;
let server: RunningServer;

beforeAll(async () => {
  git = await startGitServer({ token });
  server = await startBuiltServer({ JUANIE_ALLOW_LOCAL_REPOSITORIES: "true", JUANIE_SCHEDULER_INTERVAL_MS: "300" });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await git?.close();
});

async function colleague(admin: Session, orgId: string, projectId: string, username: string) {
  const { acceptUrl } = await admin.api.invitations.create.mutate({
    organizationId: orgId,
    invitee: `${username}@example.com`,
    role: "member",
  });
  const invitationToken = acceptUrl.split("/invitations/")[1]!;
  const s = new Session(server.url);
  const me = await s.api.auth.signUp.mutate({
    invitationToken,
    email: `${username}@example.com`,
    username,
    displayName: username[0]!.toUpperCase() + username.slice(1),
    password: "a long enough password",
  });
  await s.api.invitations.acceptByToken.mutate({ token: invitationToken });
  await admin.api.projects.addMember.mutate({ projectId, userId: me.id, role: "developer" });
  return { s, id: me.id };
}

async function pageOf(s: Session, locale: "en" | "zh-CN", problems: string[], who: string): Promise<Page> {
  const ctx = await newContext(browser, locale);
  await ctx.addCookies([{ name: "juanie_session", value: s.cookie!.split("=")[1]!, url: server.url }]);
  const page = await ctx.newPage();
  watchPage(page, problems, who);
  return page;
}

describe("approvals in the browser", () => {
  it("unmeetable rule refused with the count → blocked request names who could approve → break glass", async () => {
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
    const bob = await colleague(admin, org.id, project.id, "bob");
    const carol = await colleague(admin, org.id, project.id, "carol");
    const dave = await colleague(admin, org.id, project.id, "dave");
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
    const envs = await admin.api.environments.createSuggested.mutate({ projectId: project.id, repositoryId: repo.id });
    const production = envs.find((e) => e.name === "production")!;
    // Ada, Bob, Carol and Dave may approve: three besides the requester, so two approvals are kept.
    expect(production).toMatchObject({ approvalRequired: true, minApprovals: 2 });

    // The settings refuse four approvals, naming the count under the field.
    const page = await pageOf(admin, "en", problems, "ada");
    await page.goto(`${server.url}/orgs/acme-corp/projects/web-shop/environments`);
    await page.click(`${id("env-card")}[data-name="production"] ${id("env-settings")}`);
    await page.fill(id("env-min-approvals"), "4");
    await page.click(id("save-environment"));
    await page.waitForSelector(id("env-min-approvals-error"));
    expect(await page.textContent(id("env-min-approvals-error"))).toContain(
      "must be at most 3: only 3 people other than the requester can approve deployments to this environment",
    );
    await screenshot(page, "approvals-01-rule-refused");
    await page.fill(id("env-min-approvals"), "3");
    await page.click(id("save-environment"));
    await page.waitForSelector(id("environment-form"), { state: "detached" });

    // Bob asks for three approvals; Carol approves; Dave leaves: two more are needed, only Ada can give one.
    const d = await bob.s.api.deployments.request.mutate({ environmentId: production.id, spec: { replicas: 4 } });
    await carol.s.api.deployments.approve.mutate({ deploymentId: d.id });
    await admin.api.projects.removeMember.mutate({ projectId: project.id, userId: dave.id });

    // Bob, in Chinese: the warning with the names; he may cancel (and then request again).
    const bobPage = await pageOf(bob.s, "zh-CN", problems, "bob");
    await bobPage.goto(`${server.url}/deployments/${d.id}`);
    await bobPage.waitForSelector(id("approval-blocked"));
    const blocked = (await bobPage.textContent(id("approval-blocked")))!;
    expect(blocked).toContain("还需要 2 个审批");
    expect(blocked).toContain("只剩 1 人");
    expect(await bobPage.textContent(id("approval-blocked-approvers"))).toContain("Ada Admin");
    expect(await bobPage.isVisible(id("cancel-deployment"))).toBe(true);
    expect(await bobPage.isVisible(id("break-glass"))).toBe(false);
    await screenshot(bobPage, "approvals-02-blocked-zh-CN");

    // Ada, organization admin: break glass needs a reason.
    await page.goto(`${server.url}/deployments/${d.id}`);
    await page.waitForSelector(id("approval-blocked"));
    expect(await page.textContent(id("approval-blocked"))).toContain("It still needs 2 approval(s)");
    await page.click(id("break-glass"));
    await page.click(`${id("break-glass-form")} ${id("confirm")}`);
    await page.waitForSelector(id("break-glass-reason-error"));
    expect(await page.textContent(id("break-glass-reason-error"))).toMatch(/is required/);
    await page.fill(id("break-glass-reason"), "Checkout is down; the fix cannot wait.");
    await screenshot(page, "approvals-03-break-glass-dialog");
    await page.click(`${id("break-glass-form")} ${id("confirm")}`);
    await page.waitForSelector(id("break-glass-record"));
    expect(await page.textContent(id("break-glass-record"))).toContain("Checkout is down; the fix cannot wait.");
    await page.waitForSelector(`${id("deployment-status")}[data-status="committed"]`, { timeout: 30_000 });
    expect(await page.isVisible(id("approval-blocked"))).toBe(false);
    await screenshot(page, "approvals-04-break-glass-recorded");

    // Bob's page shows it too, in Chinese.
    await bobPage.reload();
    await bobPage.waitForSelector(id("break-glass-record"));
    expect(await bobPage.textContent(id("break-glass-record"))).toContain("破窗批准");
    expect(problems).toEqual([]);
  });
});
