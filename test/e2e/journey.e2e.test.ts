import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, newContext, type RunningServer, screenshot, startBuiltServer, watchPage } from "./harness.ts";

const id = (t: string) => `[data-testid="${t}"]`;

/** Collects everything a user would see go wrong: page errors, console errors, missing i18n keys. */
const watch = watchPage;

const words = {
  en: { organizations: "Organizations", auditLog: "Audit log" },
  "zh-CN": { organizations: "组织", auditLog: "审计日志" },
} as const;

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(["en", "zh-CN"] as const)("the foundation journey in a %s browser", (locale) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startBuiltServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("setup → organization → invitation accepted → team → project → team grant → audit log", async () => {
    const problems: string[] = [];
    const shot = (page: Page, name: string) => screenshot(page, `${locale}-${name}`);
    const admin = await (await newContext(browser, locale)).newPage();
    watch(admin, problems, "admin");

    // First run: every page leads to setup, which creates the administrator.
    await admin.goto(`${server.url}/orgs`);
    await admin.waitForURL("**/setup");
    await admin.click(id("submit"));
    await admin.waitForSelector(id("setup-email-error"));
    await admin.fill(id("setup-email"), "ada@example.com");
    await admin.fill(id("setup-username"), "ada");
    await admin.fill(id("setup-display-name"), "Ada Admin");
    await admin.fill(id("setup-password"), "correct horse battery");
    await shot(admin, "01-setup");
    await admin.click(id("submit"));
    await admin.waitForURL("**/orgs");
    expect(await admin.textContent(id("nav-orgs"))).toContain(words[locale].organizations);
    expect(await admin.textContent(id("nav-audit"))).toContain(words[locale].auditLog);
    expect(await admin.getAttribute("html", "lang")).toBe(locale);

    // Organization, with the slug suggested from the name.
    await admin.click(id("create-org"));
    await admin.fill(id("org-name"), "Acme Corp");
    expect(await admin.inputValue(id("org-slug"))).toBe("acme-corp");
    await admin.click(id("submit"));
    await admin.click(`${id("org-card")}[data-slug="acme-corp"]`);
    await admin.waitForSelector(id("org-title"));

    // A duplicate slug is refused with the reason under the field.
    await admin.goto(`${server.url}/orgs`);
    await admin.click(id("create-org"));
    await admin.fill(id("org-name"), "Acme Corp");
    await admin.click(id("submit"));
    await admin.waitForSelector(id("org-slug-error"));
    await shot(admin, "02-duplicate-slug");
    await admin.keyboard.press("Escape");

    // Invite a colleague by e-mail; the link is shown once.
    await admin.goto(`${server.url}/orgs/acme-corp/members`);
    await admin.click(id("invite-member"));
    await admin.fill(id("invite-invitee"), "bob@example.com");
    await admin.click(id("submit"));
    const inviteUrl = await admin.inputValue(id("invite-url"));
    expect(inviteUrl).toMatch(new RegExp(`^${server.url}/invitations/[A-Za-z0-9_-]{20,}$`));
    await shot(admin, "03-invitation-link");
    await admin.click(id("invite-done"));
    await admin.waitForSelector(id("pending-invitation"));

    // The colleague opens the link, creates an account and joins.
    const bob = await (await newContext(browser, locale)).newPage();
    watch(bob, problems, "bob");
    await bob.goto(inviteUrl);
    await bob.waitForSelector(id("invitation-summary"));
    expect(await bob.locator("main").textContent()).toContain("Acme Corp");
    await bob.fill(id("sign-up-username"), "bob");
    await bob.fill(id("sign-up-display-name"), "Bob Builder");
    await bob.fill(id("sign-up-password"), "another long password");
    await shot(bob, "04-accept-invitation");
    await bob.click(id("submit"));
    await bob.waitForURL("**/orgs/acme-corp");
    await bob.waitForSelector(id("org-title"));
    expect(await bob.isVisible(id("tab-settings"))).toBe(false);
    await admin.reload();
    await admin.waitForSelector(`${id("member-row")}[data-username="bob"]`);

    // A team, with the colleague in it; he is told live (bell count over SSE).
    await admin.goto(`${server.url}/orgs/acme-corp/teams`);
    await admin.click(id("create-team"));
    await admin.fill(id("team-name"), "Frontend");
    await admin.click(id("submit"));
    await admin.waitForURL("**/teams/frontend");
    await admin.fill(id("team-member-picker"), "bob");
    await admin.click(`${id("user-option")}[data-username="bob"]`);
    await admin.click(id("add-team-member"));
    await admin.waitForSelector(`${id("team-member-row")}[data-username="bob"]`);
    await bob.waitForSelector(`${id("notification-bell")}[data-count="1"]`, { timeout: 15_000 });
    await bob.click(id("notification-bell"));
    await bob.waitForSelector(`${id("notification-item")}[data-kind="team.added"]`);
    await shot(bob, "05-notification");

    // A private project; the initialisation job makes it active.
    await admin.goto(`${server.url}/orgs/acme-corp`);
    await admin.click(id("create-project"));
    await admin.fill(id("project-name"), "Web Shop");
    await admin.fill(id("project-description"), "The storefront");
    await admin.selectOption(id("project-visibility"), "private");
    await admin.click(id("submit"));
    await admin.waitForURL("**/projects/web-shop");
    await admin.waitForSelector(`${id("project-status")}[data-status="active"]`, { timeout: 15_000 });
    await shot(admin, "06-project");

    // The colleague cannot open the private project until his team is granted a role.
    await bob.goto(`${server.url}/orgs/acme-corp/projects/web-shop`);
    await bob.waitForSelector(`${id("not-found")}, ${id("error-alert")}`);
    await admin.goto(`${server.url}/orgs/acme-corp/projects/web-shop/members`);
    await admin.selectOption(id("project-team-picker"), { label: "Frontend" });
    await admin.selectOption(id("project-team-new-role"), "developer");
    await admin.click(id("grant-team"));
    await admin.waitForSelector(`${id("project-team-row")}[data-slug="frontend"]`);
    await shot(admin, "07-project-access");
    await bob.goto(`${server.url}/orgs/acme-corp/projects/web-shop`);
    await bob.waitForSelector(id("project-title"));
    expect(await bob.textContent(id("project-title"))).toContain("Web Shop");

    // Every step is in the audit log.
    await admin.goto(`${server.url}/audit`);
    await admin.selectOption(id("audit-org"), { label: "Acme Corp" });
    for (const action of [
      "org.create",
      "invitation.create",
      "invitation.accept",
      "team.create",
      "team.member.add",
      "project.create",
      "project.team.grant",
    ]) {
      await admin.waitForSelector(`${id("audit-row")}[data-action="${action}"][data-result="success"]`);
    }
    await shot(admin, "08-audit-log");
    const href = await admin.getAttribute(id("export-csv"), "href");
    const csv = await admin.evaluate(async (url) => {
      const r = await fetch(url);
      return { status: r.status, body: await r.text() };
    }, href ?? "");
    expect(csv.status).toBe(200);
    expect(csv.body).toContain("project.team.grant");

    expect(problems).toEqual([]);
  });
});
