import type { Environment } from "@juanie/contracts";
import { describe, expect, it } from "vitest";
import {
  applySuggestion,
  defaultNamespace,
  environmentInput,
  formFromEnvironment,
  newEnvironmentForm,
  removesGitopsObjects,
} from "./environmentForm.ts";

const repositoryId = "5b0e8f62-3f55-4c4e-9a57-1c1d2d3e4f50";

describe("the environment form", () => {
  it("starts from the seeds' development settings, with GitOps on when there is a repository", () => {
    const form = newEnvironmentForm(repositoryId);
    expect(form.gitops).toEqual({
      enabled: true,
      repositoryId,
      branch: "develop",
      path: "k8s/overlays/development",
      syncInterval: "1m",
      autoSync: true,
      clusterId: "",
      namespace: "",
      prune: true,
      timeout: "5m",
      wait: true,
    });
    expect(newEnvironmentForm(null).gitops.enabled).toBe(false);
  });

  it("switches to another type's suggestion, but keeps what the user typed", () => {
    const form = newEnvironmentForm(repositoryId);
    form.gitops.path = "deploy/prod";
    form.type = "production";
    applySuggestion(form, "production", "development");
    expect(form.gitops).toMatchObject({ branch: "main", path: "deploy/prod", syncInterval: "10m", autoSync: false });
    // Gated, starting at one approval: the default for a new gated environment.
    expect(form).toMatchObject({ approvalRequired: true, minApprovals: "1" });
    applySuggestion(form, "testing", "production");
    expect(form.gitops.branch).toBe("main");
  });

  it("sends empty optional fields as null", () => {
    const form = newEnvironmentForm(null);
    form.name = " staging ";
    form.gitops.branch = "";
    expect(environmentInput(form)).toMatchObject({
      name: "staging",
      cloudProvider: null,
      region: null,
      minApprovals: 1,
      gitops: { repositoryId: null, branch: null },
    });
  });

  it("reads an environment back into the form", () => {
    const environment: Environment = {
      id: "e1",
      projectId: "p1",
      name: "production",
      type: "production",
      position: 2,
      bypass: null,
      landedDeployment: null,
      cloudProvider: "aliyun",
      region: "cn-hangzhou",
      approvalRequired: true,
      minApprovals: 2,
      gitops: {
        enabled: true,
        repositoryId,
        branch: "main",
        path: "k8s/overlays/production",
        syncInterval: "10m",
        autoSync: false,
        clusterId: "0b9a4c07-3f5e-4c53-9a43-1f1f1b1b1b1b",
        namespace: "shop-production",
        prune: false,
        timeout: "10m",
        wait: true,
      },
      grants: [],
      myPermission: "admin",
      cluster: null,
      flux: null,
      lastDeployment: null,
      createdAt: "2025-01-01T00:00:00.000Z",
    };
    const form = formFromEnvironment(environment);
    expect(form).toMatchObject({ cloudProvider: "aliyun", region: "cn-hangzhou", minApprovals: "2" });
    expect(environmentInput(form).gitops).toEqual(environment.gitops);
  });
});

describe("leaving a cluster", () => {
  const clusterId = "0b9a4c07-3f5e-4c53-9a43-1f1f1b1b1b1b";
  const otherCluster = "7c1d2e3f-4a5b-4c6d-8e7f-901234567890";
  const bound: Environment = {
    id: "e1",
    projectId: "p1",
    name: "development",
    type: "development",
    position: 0,
    bypass: null,
    landedDeployment: null,
    cloudProvider: null,
    region: null,
    approvalRequired: false,
    minApprovals: 1,
    gitops: {
      enabled: true,
      repositoryId,
      branch: "develop",
      path: "k8s/overlays/development",
      syncInterval: "1m",
      autoSync: true,
      clusterId,
      namespace: null,
      prune: true,
      timeout: "5m",
      wait: true,
    },
    grants: [],
    myPermission: "admin",
    cluster: {
      id: clusterId,
      name: "dev-cluster",
      simulated: true,
      status: "connected",
      namespace: "shop-development",
      fluxName: "shop-development",
      fluxNamespace: "flux-system",
      gitopsState: "applied",
      gitopsError: null,
    },
    flux: null,
    lastDeployment: null,
    createdAt: "2025-01-01T00:00:00.000Z",
  };

  it("asks for confirmation when GitOps is turned off, the cluster removed or changed", () => {
    const off = formFromEnvironment(bound);
    off.gitops.enabled = false;
    expect(removesGitopsObjects(bound, off)).toBe(true);
    const none = formFromEnvironment(bound);
    none.gitops.clusterId = "";
    expect(removesGitopsObjects(bound, none)).toBe(true);
    const moved = formFromEnvironment(bound);
    moved.gitops.clusterId = otherCluster;
    expect(removesGitopsObjects(bound, moved)).toBe(true);
  });

  it("saves other changes directly, and when nothing was applied to a cluster", () => {
    const renamedBranch = formFromEnvironment(bound);
    renamedBranch.gitops.branch = "dev";
    renamedBranch.gitops.prune = false;
    expect(removesGitopsObjects(bound, renamedBranch)).toBe(false);
    const neverApplied: Environment = { ...bound, cluster: { ...bound.cluster!, gitopsState: "off" } };
    const off = formFromEnvironment(neverApplied);
    off.gitops.enabled = false;
    expect(removesGitopsObjects(neverApplied, off)).toBe(false);
    const unbound: Environment = { ...bound, gitops: { ...bound.gitops, clusterId: null }, cluster: null };
    const bind = formFromEnvironment(unbound);
    bind.gitops.clusterId = clusterId;
    expect(removesGitopsObjects(unbound, bind)).toBe(false);
  });

  it("shows the namespace the server will choose, as a Kubernetes name", () => {
    expect(defaultNamespace("shop", "Production EU")).toBe("shop-production-eu");
    expect(defaultNamespace("shop", "")).toBe("shop-environment");
  });
});
