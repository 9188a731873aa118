import { auditLogs, repositories } from "@juanie/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canRunSshd, type SshTestServer, startSshTestServer } from "../../../packages/git/src/ssh-test-server.ts";
import { type GitServer, startGitServer } from "../../../test/git-server.ts";
import { Session, startTestServer, type TestServer } from "./harness.ts";
import { type Backdoor, failure, openBackdoor, password, waitFor } from "./support.ts";

/**
 * A repository reached over SSH with a deploy key, through the real server: connect (with precise
 * errors for an unknown or read-only key), starter layout, environment, a UI deploy that lands as a
 * commit in the repository served by a real OpenSSH server. Skipped where openssh-server is missing
 * (CI installs it).
 */
describe.skipIf(!(await canRunSshd()))("a repository over SSH with a deploy key", () => {
  let sshd: SshTestServer;
  let repos: GitServer; // creates and inspects the bare repositories on disk that sshd serves
  let server: TestServer;
  let back: Backdoor;
  let ada: Session;
  let projectId: string;

  const sshUrl = (name: string) => `ssh://${sshd.user}@127.0.0.1:${sshd.port}${repos.root}/${name}.git`;
  const deployKey = (privateKey: string) => ({ type: "ssh_key" as const, privateKey, knownHosts: sshd.knownHosts });

  beforeAll(async () => {
    sshd = await startSshTestServer();
    repos = await startGitServer({ token: "unused" });
    server = await startTestServer();
    back = openBackdoor(server);
    ada = new Session(server.url);
    await ada.api.auth.setup.mutate({ email: "ada@example.com", username: "ada", displayName: "Ada", password });
    const org = await ada.api.orgs.create.mutate({ name: "Acme", slug: "acme" });
    projectId = (
      await ada.api.projects.create.mutate({
        organizationId: org.id,
        name: "Shop",
        slug: "shop",
        visibility: "private",
      })
    ).id;
  });

  afterAll(async () => {
    await back?.close();
    await server?.close();
    await sshd?.close();
    await repos?.close();
  });

  it("names the key when the server does not know it or it may only read, and stores nothing", async () => {
    await repos.createRepo("ssh-shop");
    const stranger = await failure(
      ada.api.repositories.connect.mutate({
        projectId,
        provider: "git",
        url: sshUrl("ssh-shop"),
        credential: deployKey(sshd.strangerKey),
      }),
    );
    expect(stranger.juanie.fieldErrors?.credential?.join(" ")).toMatch(/authentication failed/i);
    const readOnly = await failure(
      ada.api.repositories.connect.mutate({
        projectId,
        provider: "git",
        url: sshUrl("ssh-shop"),
        credential: deployKey(sshd.readOnlyKey),
      }),
    );
    expect(readOnly.message).toMatch(/write/i);
    expect(await back.handle.db.select().from(repositories)).toEqual([]);
    for (const f of [stranger, readOnly]) expect(JSON.stringify(f)).not.toContain("PRIVATE KEY");
  });

  it("connects, writes the starter layout and deploys from the UI as a commit pushed over SSH", async () => {
    const repo = await ada.api.repositories.connect.mutate({
      projectId,
      provider: "git",
      url: sshUrl("ssh-shop"),
      credential: deployKey(sshd.privateKey),
    });
    expect(repo).toMatchObject({ authType: "ssh_key", url: sshUrl("ssh-shop") });
    expect(JSON.stringify(await ada.api.repositories.list.query({ projectId }))).not.toContain("PRIVATE KEY");

    await ada.api.repositories.initializeLayout.mutate({ repositoryId: repo.id, image: "ghcr.io/acme/shop:1.0.0" });
    expect(await repos.git("ssh-shop", ["ls-tree", "-r", "--name-only", "main"])).toContain(
      "k8s/overlays/development/kustomization.yaml",
    );

    const env = await ada.api.environments.create.mutate({
      projectId,
      name: "development",
      type: "development",
      approvalRequired: false,
      gitops: {
        enabled: true,
        repositoryId: repo.id,
        branch: "develop",
        path: "k8s/overlays/development",
        syncInterval: "5m",
        autoSync: true,
      },
    });
    const requested = await ada.api.deployments.request.mutate({
      environmentId: env.id,
      spec: { image: "ghcr.io/acme/shop:1.1.0", replicas: 3 },
    });
    const done = await waitFor(
      () => ada.api.deployments.get.query({ deploymentId: requested.id }),
      (d) => ["committed", "failed"].includes(d.status),
      30_000,
    );
    expect(done.error).toBeNull();
    expect(done.status).toBe("committed");
    expect((await repos.git("ssh-shop", ["rev-parse", "develop"])).trim()).toBe(done.commitSha);
    const overlay = await repos.git("ssh-shop", ["show", "develop:k8s/overlays/development/kustomization.yaml"]);
    expect(overlay).toContain('newTag: "1.1.0"');
    expect(overlay).toMatch(/count: 3/);

    // The key never leaves the encrypted column: not in the audit log, not in the server's logs.
    const audit = await back.handle.db.select().from(auditLogs);
    expect(JSON.stringify(audit)).not.toContain("PRIVATE KEY");
    expect(server.logs.join("")).not.toContain("PRIVATE KEY");
    const [row] = await back.handle.db.select().from(repositories);
    expect(row!.credential).not.toContain("PRIVATE KEY");
  });
});
