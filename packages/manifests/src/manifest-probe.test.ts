import { describe, expect, it } from "vitest";
import { holdsKubernetesObject, isKustomizationFile, isYamlFile } from "./manifest-probe.ts";

describe("manifest probe", () => {
  it("knows kustomize's file names", () => {
    expect(isKustomizationFile("k8s/overlays/dev/kustomization.yaml")).toBe(true);
    expect(isKustomizationFile("kustomization.yml")).toBe(true);
    expect(isKustomizationFile("a/Kustomization")).toBe(true);
    expect(isKustomizationFile("a/kustomization.json")).toBe(false);
    expect(isKustomizationFile("a/my-kustomization.yaml")).toBe(false);
  });

  it("takes .yaml and .yml files as candidate manifests", () => {
    expect(isYamlFile("a/deploy.yaml")).toBe(true);
    expect(isYamlFile("a/deploy.YML")).toBe(true);
    expect(isYamlFile("a/README.md")).toBe(false);
  });

  it("finds a Kubernetes object only where a document has apiVersion and kind", () => {
    expect(holdsKubernetesObject("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")).toBe(true);
    expect(holdsKubernetesObject("# notes\nfoo: bar\n---\napiVersion: apps/v1\nkind: Deployment\n")).toBe(true);
    expect(holdsKubernetesObject("foo: bar\n")).toBe(false);
    expect(holdsKubernetesObject("apiVersion: v1\n")).toBe(false);
    expect(holdsKubernetesObject("kind: ConfigMap\napiVersion: ''\n")).toBe(false);
    expect(holdsKubernetesObject("- apiVersion: v1\n  kind: List\n")).toBe(false);
    expect(holdsKubernetesObject("apiVersion: v1\nkind: [unclosed\n")).toBe(false);
    expect(holdsKubernetesObject("")).toBe(false);
  });
});
