import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../apps/server/test/harness.ts";
import { type GitServer, startGitServer } from "../git-server.ts";
import { launchBrowser, newContext, type RunningServer, screenshot, startBuiltServer, watchPage } from "./harness.ts";

const run = promisify(execFile);
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

const watch = watchPage;

/** Signs a colleague up through an invitation and makes them a developer of the project. */
async function colleague(admin: Session, orgId: string, projectId: string, username: string): Promise<Session> {
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
  return s;
}

describe("GitOps journey in the browser", () => {
  it("connect → layout → environments → deploy (form, YAML, diff) → approvals → push → rollback", async () => {
    const problems: string[] = [];
    const repoUrl = await git.createRepo("shop");

    // Organization and project through the API (their UI is covered by the foundation journey).
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

    const ctx = await newContext(browser, "en");
    await ctx.addCookies([{ name: "juanie_session", value: admin.cookie!.split("=")[1]!, url: server.url }]);
    const page = await ctx.newPage();
    watch(page, problems, "ada");
    // What the page asks the server, to tell streamed updates from polled ones.
    const requests: { url: string; type: string; at: number }[] = [];
    page.on("request", (r) =>
      requests.push({ url: decodeURIComponent(r.url()), type: r.resourceType(), at: Date.now() }),
    );
    const streamed = (input: string) =>
      requests.some((r) => r.type === "eventsource" && r.url.includes("deployments.onChange") && r.url.includes(input));
    const projectUrl = `${server.url}/orgs/acme-corp/projects/web-shop`;

    // Connect: a wrong token is refused with the reason under the field; the right one connects.
    await page.goto(`${projectUrl}/repository`);
    await page.selectOption(id("repo-provider"), "git");
    await page.fill(id("repo-url"), repoUrl);
    await page.fill(id("repo-token"), "wrong-token");
    await page.click(id("connect-repo"));
    await page.waitForSelector(id("repo-token-error"));
    expect(await page.textContent(id("repo-token-error"))).toMatch(/authentication failed/i);
    await page.fill(id("repo-token"), token);
    await page.click(id("connect-repo"));
    await page.waitForSelector(id("repo-info"));
    await page.fill(id("init-image"), "ghcr.io/acme/shop:1.0.0");
    await page.click(id("init-layout"));
    await page.waitForSelector(id("init-layout-done"));
    expect(await git.git("shop", ["ls-tree", "-r", "--name-only", "main"])).toContain(
      "k8s/overlays/production/kustomization.yaml",
    );
    // A maintainer can read the webhook secret, to add the webhook at the Git host by hand.
    await page.click(id("repo-webhook-secret-reveal"));
    await page.waitForSelector(id("repo-webhook-secret"));
    expect((await page.inputValue(id("repo-webhook-secret"))).length).toBeGreaterThanOrEqual(24);
    await screenshot(page, "gitops-01-repository");

    // The suggested environments.
    await page.click(id("tab-environments"));
    // The layout is on main only: production is verified, develop and staging do not exist yet (the first
    // deployments create them), so those two are kept unchecked.
    const check = (name: string) => `${id("suggested-env")}[data-name="${name}"] ${id("suggestion-check")}`;
    await page.waitForSelector(`${check("production")}[data-status="verified"]`, { timeout: 30_000 });
    for (const name of ["development", "staging"]) {
      await page.waitForSelector(`${check(name)}[data-status="missing-branch"]`);
      await page.click(`${check(name)} ${id("suggestion-keep-unchecked")}`);
      await page.waitForSelector(`${check(name)}[data-status="unchecked"]`);
    }
    await page.click(id("create-suggested-envs"));
    await page.waitForSelector(`${id("env-card")}[data-name="production"]`);
    await screenshot(page, "gitops-02-environments");

    // Deploy to development from the form, looking at the YAML and the diff first.
    await page.click(`${id("env-card")}[data-name="development"] ${id("deploy")}`);
    await page.waitForSelector(id("deploy-image"));
    expect(await page.inputValue(id("deploy-image"))).toBe("ghcr.io/acme/shop:1.0.0");
    await page.fill(id("deploy-replicas"), "abc");
    await page.fill(id("deploy-image"), "ghcr.io/acme/shop:1.1.0");
    await page.fill(id("deploy-replicas"), "3");
    await page.click(id("deploy-env-add"));
    await page.locator(id("deploy-env-name")).last().fill("FEATURE_X");
    await page.locator(id("deploy-env-value")).last().fill("on");
    await page.click(id("tab-yaml"));
    await page.waitForSelector(id("deploy-yaml-file"));
    expect(await page.textContent(id("deploy-yaml"))).toContain("FEATURE_X");
    await page.click(id("tab-diff"));
    await page.waitForSelector(id("deploy-diff"));
    expect(await page.textContent(id("deploy-diff"))).toContain('+    newTag: "1.1.0"');
    await page.fill(id("commit-message"), `${await page.inputValue(id("commit-message"))}\n\nTry the new checkout.`);
    await screenshot(page, "gitops-03-deploy-diff");
    await page.click(id("submit-deploy"));
    await page.waitForURL("**/deployments/*");
    await page.waitForSelector(`${id("step-git")}[data-state="done"]`, { timeout: 30_000 });
    const firstDeployment = page.url();
    expect(streamed(`"deploymentId":"${firstDeployment.split("/deployments/")[1]}"`)).toBe(true);
    await screenshot(page, "gitops-04-deployment");
    // Exactly that commit is on the environment's branch, with the user's words and the trailers.
    const message = await git.git("shop", ["log", "-1", "--format=%B", "develop"]);
    expect(message).toMatch(/^chore\(deploy\): update image to ghcr\.io\/acme\/shop:1\.1\.0/);
    expect(message).toContain("Try the new checkout.");
    expect(message).toContain("Requested-by: Ada Admin <ada@example.com>");
    const overlay = await git.git("shop", ["show", "develop:k8s/overlays/development/kustomization.yaml"]);
    expect(overlay).toContain('newTag: "1.1.0"');
    expect(overlay).toContain("count: 3");

    // Production waits for two other people; nothing is pushed before.
    const mainBefore = (await git.git("shop", ["rev-parse", "main"])).trim();
    await page.goto(`${projectUrl}/environments`);
    await page.click(`${id("env-card")}[data-name="production"] ${id("deploy")}`);
    await page.fill(id("deploy-image"), "ghcr.io/acme/shop:2.0.0");
    await page.click(id("submit-deploy"));
    await page.waitForURL("**/deployments/*");
    await page.waitForSelector(`${id("deployment-status")}[data-status="awaiting_approval"]`);
    const approvalUrl = page.url();
    const approvalId = approvalUrl.split("/deployments/")[1]!;
    const shownAt = Date.now();
    expect((await git.git("shop", ["rev-parse", "main"])).trim()).toBe(mainBefore);
    const bobPage = await (await newContext(browser, "en")).newPage();
    watch(bobPage, problems, "bob");
    await bobPage
      .context()
      .addCookies([{ name: "juanie_session", value: bob.cookie!.split("=")[1]!, url: server.url }]);
    await bobPage.goto(approvalUrl);
    // The request keeps the rule it was made under, and says so.
    expect(await bobPage.textContent(id("approval-rule"))).toMatch(/needs 2 approvals under the rule in force/);
    await bobPage.click(id("approve"));
    await bobPage.fill(id("approve-comment"), "LGTM");
    await bobPage.click(id("confirm"));
    await bobPage.waitForSelector(`${id("approval-entry")}[data-decision="approved"]`);
    await screenshot(bobPage, "gitops-05-one-approval");
    expect((await git.git("shop", ["rev-parse", "main"])).trim()).toBe(mainBefore);
    // Live: the page, open all along, shows the commit within 5 s of the last approval, with no
    // reload. Its safety poll runs every 15 s; the 2 s polling of old (still used without a stream)
    // would have shown up as requests while the page waited for the approvals (2.5 s at least).
    await page.waitForTimeout(Math.max(0, 2_500 - (Date.now() - shownAt)));
    const approvedAt = Date.now();
    await carol.api.deployments.approve.mutate({ deploymentId: approvalId });
    await page.waitForSelector(`${id("step-git")}[data-state="done"]`, { timeout: 5_000 });
    expect(Date.now() - approvedAt).toBeLessThan(5_000);
    expect(streamed(`"deploymentId":"${approvalId}"`)).toBe(true);
    const polls = requests.filter(
      (r) => r.url.includes("deployments.get") && r.url.includes(approvalId) && r.at > shownAt && r.at < approvedAt,
    );
    expect(polls.length).toBeLessThanOrEqual(Math.floor((approvedAt - shownAt) / 15_000));
    expect(await page.getAttribute(id("deployment-status"), "data-status")).toBe("committed");
    await screenshot(page, "gitops-05-live-committed");
    expect(await git.git("shop", ["show", "main:k8s/overlays/production/kustomization.yaml"])).toContain(
      'newTag: "2.0.0"',
    );

    // A plain git push by a developer becomes a deployment by its author. No webhook here: the
    // platform polls the branch at the environment's sync interval (shortened to 10s). The project's
    // history, open before the push, shows it without a reload (nothing there is moving, so nothing
    // polls: only the stream can bring it).
    await page.goto(`${projectUrl}/deployments`);
    await page.waitForSelector(id("deployment-row"));
    const envs = await admin.api.environments.list.query({ projectId: project.id });
    const dev = envs.find((e) => e.name === "development")!;
    await admin.api.environments.update.mutate({
      environmentId: dev.id,
      name: dev.name,
      type: dev.type,
      cloudProvider: null,
      region: null,
      approvalRequired: dev.approvalRequired,
      minApprovals: dev.minApprovals,
      gitops: { ...dev.gitops, syncInterval: "10s" },
    });
    const work = await mkdtemp(path.join(os.tmpdir(), "juanie-e2e-push-"));
    const auth = {
      ...process.env,
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x:${token}`).toString("base64")}`,
    };
    await run("git", ["clone", "-q", "--branch", "develop", repoUrl, work], { env: auth });
    const file = path.join(work, "k8s/overlays/development/kustomization.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace("count: 3", "count: 4"));
    const g = (args: string[]) =>
      run("git", ["-c", "user.name=Dora Dev", "-c", "user.email=dora@example.com", ...args], { cwd: work, env: auth });
    await g(["commit", "-q", "-am", "scale development to 4"]);
    await g(["push", "-q", "origin", "develop"]);
    await rm(work, { recursive: true, force: true });
    const pushed = `${id("deployment-row")}[data-method="gitops-git"]`;
    await page.waitForSelector(pushed, { timeout: 40_000 });
    expect(streamed(`"projectId":"${project.id}"`)).toBe(true);
    expect(await page.textContent(pushed)).toContain("Dora Dev");
    await screenshot(page, "gitops-06-history");
    // The global history names each deployment's project.
    await page.click(id("nav-deployments"));
    await page.waitForSelector(id("deployment-project"));
    expect(await page.textContent(id("deployment-project"))).toContain("Web Shop");

    // Roll development back to the first deployment: a new commit restores its files.
    await page.goto(firstDeployment);
    await page.click(id("rollback"));
    await page.fill(id("rollback-message"), "back to 1.1.0 with 3 replicas");
    await page.click(id("confirm"));
    await page.waitForURL((u) => u.href !== firstDeployment);
    await page.waitForSelector(`${id("deployment-method")}[data-method="rollback"]`);
    await page.waitForSelector(`${id("step-git")}[data-state="done"]`, { timeout: 30_000 });
    expect(await git.git("shop", ["show", "develop:k8s/overlays/development/kustomization.yaml"])).toContain(
      "count: 3",
    );
    expect(await git.git("shop", ["log", "-1", "--format=%s", "develop"])).toMatch(/^revert\(deploy\)/);
    await screenshot(page, "gitops-07-rollback");

    // The same pages in Chinese have every translation.
    await page.selectOption(id("locale-switch"), "zh-CN");
    await page.goto(`${projectUrl}/environments`);
    await page.waitForSelector(`${id("env-card")}[data-name="production"]`);
    await page.goto(approvalUrl);
    await page.waitForSelector(id("deployment-status"));
    await screenshot(page, "gitops-08-zh-CN-deployment");

    expect(problems).toEqual([]);
  });
});
