import { type KubeSim, startKubeSim } from "@juanie/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileToken, requestReconcile, setSuspended } from "./actions.ts";
import { applyObjects, ensureNamespace, getObject } from "./apply.ts";
import { crd } from "./flux.testing.ts";
import { buildGitOpsObjects, type GitOpsInput, GitOpsInputError, gitOpsObjectRefs } from "./flux-objects.ts";
import { KubeNameError } from "./names.ts";
import type { KubeObject } from "./objects.ts";
import { simCluster } from "./sim.testing.ts";

const specOf = (o: KubeObject | null | undefined) => (o?.spec ?? {}) as Record<string, unknown>;

const input = (over: Partial<GitOpsInput> = {}): GitOpsInput => ({
  name: "web-production",
  fluxNamespace: "flux-system",
  targetNamespace: "web-prod",
  url: "https://git.example.com/team/web.git",
  branch: "main",
  path: "k8s/overlays/production",
  interval: "1m",
  timeout: "5m",
  prune: true,
  wait: true,
  suspend: false,
  credential: { type: "basic", username: "flux", password: "s3cret-pass" },
  labels: { "juanie.dev/environment": "production" },
  ...over,
});

describe("buildGitOpsObjects", () => {
  it("builds the Secret, GitRepository and Kustomization Flux expects", () => {
    const { secret, gitRepository, kustomization } = buildGitOpsObjects(input());
    expect(secret).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "web-production-git-auth",
        namespace: "flux-system",
        labels: { "juanie.dev/environment": "production", "app.kubernetes.io/managed-by": "juanie" },
      },
      type: "Opaque",
      data: {
        username: Buffer.from("flux").toString("base64"),
        password: Buffer.from("s3cret-pass").toString("base64"),
      },
    });
    expect(gitRepository).toMatchObject({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: "web-production", namespace: "flux-system" },
      spec: {
        url: "https://git.example.com/team/web.git",
        ref: { branch: "main" },
        interval: "1m",
        secretRef: { name: "web-production-git-auth" },
      },
    });
    expect(kustomization).toMatchObject({
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: {
        name: "web-production",
        namespace: "flux-system",
        labels: { "app.kubernetes.io/managed-by": "juanie" },
      },
      spec: {
        sourceRef: { kind: "GitRepository", name: "web-production" },
        path: "./k8s/overlays/production",
        interval: "1m",
        timeout: "5m",
        prune: true,
        wait: true,
        suspend: false,
        targetNamespace: "web-prod",
      },
    });
    expect(gitOpsObjectRefs(input()).secret).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      namespace: "flux-system",
      name: "web-production-git-auth",
    });
  });

  it("uses identity / known_hosts for SSH and no Secret for a public repository", () => {
    const ssh = buildGitOpsObjects(
      input({
        url: "ssh://git@git.example.com/team/web.git",
        credential: {
          type: "ssh",
          identity: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n",
          knownHosts: "git.example.com ssh-ed25519 AAAA",
        },
      }),
    );
    expect(Object.keys(ssh.secret?.data as object)).toEqual(["identity", "known_hosts"]);
    const open = buildGitOpsObjects(input({ credential: { type: "none" }, path: "" }));
    expect(open.secret).toBeNull();
    expect((open.gitRepository.spec as Record<string, unknown>).secretRef).toBeUndefined();
    expect((open.kustomization.spec as Record<string, unknown>).path).toBe("./");
  });

  it.each([
    [{ name: "Web_Prod" }, "name"],
    [{ targetNamespace: "x".repeat(64) }, "targetNamespace"],
    [{ url: "git@git.example.com:team/web.git" }, "url"],
    [
      {
        url: "https://git.example.com/web.git",
        credential: { type: "ssh", identity: "-----BEGIN OPENSSH PRIVATE KEY-----", knownHosts: "h" },
      },
      "url",
    ],
    [{ interval: "every minute" }, "interval"],
    [{ path: "../other-team" }, "path"],
    [{ branch: "" }, "branch"],
  ] as [Partial<GitOpsInput>, string][])(
    "refuses %o naming the field %s, never echoing the password",
    (over, field) => {
      let error: unknown;
      try {
        buildGitOpsObjects(input(over));
      } catch (e) {
        error = e;
      }
      expect(error instanceof GitOpsInputError || error instanceof KubeNameError).toBe(true);
      expect((error as GitOpsInputError).field).toBe(field);
      expect((error as Error).message).not.toContain("s3cret-pass");
    },
  );
});

describe("Flux actions", () => {
  let sim: KubeSim;
  beforeAll(async () => {
    sim = await startKubeSim({ workloads: false, crdEstablishDelayMs: 0 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("formats the reconcile token as RFC3339Nano", () => {
    expect(reconcileToken(new Date("2026-12-03T16:30:00.120Z"))).toBe("2026-12-03T16:30:00.12Z");
    expect(reconcileToken(new Date("2026-12-03T16:30:00.000Z"))).toBe("2026-12-03T16:30:00Z");
    expect(reconcileToken()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    expect(reconcileToken()).not.toBe(reconcileToken());
  });

  it("applies the GitOps objects, requests reconciles (with source) and suspends/resumes", async () => {
    const c = simCluster(sim);
    const fluxCrds = [
      crd("source.toolkit.fluxcd.io", "GitRepository", "gitrepositories"),
      crd("kustomize.toolkit.fluxcd.io", "Kustomization", "kustomizations"),
    ];
    await applyObjects(c, fluxCrds);
    await ensureNamespace(c, "flux-system");
    const objs = buildGitOpsObjects(input());
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await applyObjects(c, [objs.secret!, objs.gitRepository, objs.kustomization]);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const refs = gitOpsObjectRefs(input());

    const now = new Date("2026-12-03T16:30:00.123Z");
    const { token, source } = await requestReconcile(c, refs.kustomization, { withSource: true, now });
    expect(token).toBe("2026-12-03T16:30:00.123Z");
    expect(source).toEqual(refs.gitRepository);
    const ks = await getObject(c, refs.kustomization);
    const repo = await getObject(c, refs.gitRepository);
    expect(ks?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).toBe(token);
    expect(repo?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).toBe(token);
    expect(specOf(ks).path).toBe("./k8s/overlays/production");

    const later = await requestReconcile(c, refs.gitRepository);
    expect((await getObject(c, refs.gitRepository))?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).toBe(
      later.token,
    );
    expect((await getObject(c, refs.kustomization))?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).toBe(
      token,
    );

    expect(await setSuspended(c, refs.kustomization, true)).toEqual({});
    expect(specOf(await getObject(c, refs.kustomization)).suspend).toBe(true);
    const resumed = await setSuspended(c, refs.kustomization, false);
    const after = await getObject(c, refs.kustomization);
    expect(specOf(after).suspend).toBe(false);
    expect(after?.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).toBe(resumed.token);
    expect(resumed.token).not.toBe(token);
  });
});
