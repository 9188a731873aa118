import type { Cluster } from "@juanie/contracts";
import { describe, expect, it } from "vitest";
import { formFromCluster, newClusterForm, registerClusterInput, updateClusterInput } from "./clusterForm.ts";

const cluster: Cluster = {
  id: "c1",
  organizationId: "o1",
  name: "prod",
  description: null,
  connection: "kubeconfig",
  context: "k3s",
  server: "https://10.0.0.1:6443",
  status: "connected",
  statusReason: null,
  statusMessage: null,
  serverVersion: "v1.33.1+k3s1",
  nodes: { total: 3, ready: 3 },
  simulated: false,
  lastCheckedAt: null,
  fluxNamespace: "flux-system",
  fluxMirrorUrl: null,
  watchState: "watching",
  watchError: null,
  environments: [],
  createdAt: "2026-12-01T10:00:00.000Z",
};

describe("cluster form", () => {
  it("registers a pasted kubeconfig with its context, or the in-cluster account", () => {
    const form = { ...newClusterForm(), name: " prod ", kubeconfig: "apiVersion: v1", context: " k3s " };
    expect(registerClusterInput("o1", form)).toEqual({
      organizationId: "o1",
      name: "prod",
      description: null,
      connection: { type: "kubeconfig", kubeconfig: "apiVersion: v1", context: "k3s" },
    });
    const inCluster = { ...form, connectionType: "in_cluster" as const };
    expect(registerClusterInput("o1", inCluster).connection).toEqual({ type: "in_cluster" });
    expect(registerClusterInput("o1", { ...form, context: "" }).connection).toMatchObject({ context: null });
  });

  it("keeps the stored credentials on edit unless they are replaced", () => {
    const form = formFromCluster(cluster);
    expect(form.kubeconfig).toBe("");
    const kept = updateClusterInput("c1", { ...form, fluxMirrorUrl: " https://m.example/v{version}/install.yaml " });
    expect(kept).toEqual({
      clusterId: "c1",
      name: "prod",
      description: null,
      fluxMirrorUrl: "https://m.example/v{version}/install.yaml",
    });
    const replaced = updateClusterInput("c1", { ...form, replaceConnection: true, kubeconfig: "new" });
    expect(replaced.connection).toEqual({ type: "kubeconfig", kubeconfig: "new", context: "k3s" });
  });

  it("clears the mirror URL when the field is emptied", () => {
    const form = { ...formFromCluster({ ...cluster, fluxMirrorUrl: "https://m/{version}" }), fluxMirrorUrl: "" };
    expect(updateClusterInput("c1", form).fluxMirrorUrl).toBeNull();
  });
});
