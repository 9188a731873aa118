import { describe, expect, it } from "vitest";
import {
  buildSpec,
  cloneForm,
  commitMessageExtra,
  displayValue,
  envRow,
  formFromValues,
  loadChoice,
  readDeployableValues,
  readProbe,
  rebaseCommitMessage,
  saveChoice,
  shownSpecFields,
  specField,
  specTarget,
} from "./deployForm.ts";

/** What `deployments.deployableValues` answers (see currentDeployValues in @juanie/manifests). */
const serverValues = {
  kind: "Deployment",
  workload: "shop",
  workloads: [{ kind: "Deployment", name: "shop", containers: ["app"] }],
  container: "app",
  containers: ["app"],
  replicas: 2,
  image: "ghcr.io/acme/shop:1.0.0",
  imagePullPolicy: "IfNotPresent",
  env: [
    { name: "NODE_ENV", value: "production" },
    { name: "API_URL", value: "https://api.example.com" },
  ],
  valueFromEnv: ["DATABASE_URL"],
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
  readinessProbe: { type: "http", path: "/healthz", port: 8080, periodSeconds: 10, failureThreshold: 3 },
};

function start() {
  const values = readDeployableValues(serverValues);
  const initial = formFromValues(values);
  return { values, initial, form: cloneForm(initial) };
}

describe("readDeployableValues", () => {
  it("reads the workload, its container and the container's fields", () => {
    const values = readDeployableValues(serverValues);
    expect(values).toMatchObject({
      kind: "Deployment",
      workloadName: "shop",
      workloads: [{ kind: "Deployment", name: "shop", containers: ["app"] }],
      containerName: "app",
      containers: ["app"],
      replicas: 2,
      container: {
        image: "ghcr.io/acme/shop:1.0.0",
        imagePullPolicy: "IfNotPresent",
        valueFromEnv: ["DATABASE_URL"],
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "", memory: "512Mi" } },
        livenessProbe: null,
        readinessProbe: { type: "http", path: "/healthz", port: 8080, periodSeconds: 10, failureThreshold: 3 },
      },
    });
    expect(values.container.env).toEqual(serverValues.env);
  });

  it("copes with missing fields", () => {
    const values = readDeployableValues({});
    expect(values).toMatchObject({ kind: null, workloadName: null, workloads: [], containers: [], replicas: null });
    expect(values.container).toMatchObject({ image: "", imagePullPolicy: "", env: [], livenessProbe: null });
  });

  it("reads probes as the spec writes them and as a container spec does", () => {
    expect(readProbe({ tcpSocket: { port: "http" }, initialDelaySeconds: 5 })).toEqual({
      type: "tcp",
      port: "http",
      initialDelaySeconds: 5,
    });
    expect(readProbe({ exec: { command: ["cat", "/tmp/ready"] } })).toEqual({
      type: "exec",
      command: ["cat", "/tmp/ready"],
    });
    expect(readProbe({ grpc: { port: 9000 } })).toBeNull();
  });
});

describe("buildSpec", () => {
  const target = { kind: null, workload: null, container: null };

  it("sends nothing for an untouched form", () => {
    const { initial, form } = start();
    expect(buildSpec(initial, form, target)).toEqual({ spec: {}, changed: [], envRows: [0, 1] });
  });

  it("sends only the changed fields, numbers as numbers", () => {
    const { initial, form } = start();
    form.image = " ghcr.io/acme/shop:1.2.3 ";
    form.replicas = "3";
    form.resources.limits.cpu = "500m";
    const draft = buildSpec(initial, form, target);
    expect(draft.spec).toEqual({
      image: "ghcr.io/acme/shop:1.2.3",
      replicas: 3,
      resources: { limits: { cpu: "500m" } },
    });
    expect(draft.changed).toEqual(["image", "replicas", "resources"]);
  });

  it("sends what the user typed when it is not a number, so the schema names the rule", () => {
    const { initial, form } = start();
    form.replicas = "three";
    form.resources.requests.cpu = "";
    expect(buildSpec(initial, form, target).spec).toEqual({ replicas: "three", resources: { requests: { cpu: "" } } });
  });

  it("sends the whole env list when one entry changes, skipping blank rows, and maps indexes to rows", () => {
    const { initial, form } = start();
    form.env.splice(1, 0, envRow());
    form.env.push(envRow("FEATURE_X", "on"));
    const draft = buildSpec(initial, form, target);
    expect(draft.spec.env).toEqual([
      { name: "NODE_ENV", value: "production" },
      { name: "API_URL", value: "https://api.example.com" },
      { name: "FEATURE_X", value: "on" },
    ]);
    expect(draft.envRows).toEqual([0, 2, 3]);
  });

  it("does not count a blank row as a change", () => {
    const { initial, form } = start();
    form.env.push(envRow());
    expect(buildSpec(initial, form, target).changed).toEqual([]);
  });

  it("sends a probe when it changes, keeps the timing the form does not show, and null removes it", () => {
    const { initial, form } = start();
    form.readinessProbe.path = "/ready";
    form.livenessProbe = { ...form.livenessProbe, type: "tcp", port: "8080", initialDelaySeconds: "15" };
    let draft = buildSpec(initial, form, target);
    expect(draft.spec.readinessProbe).toEqual({
      type: "http",
      path: "/ready",
      port: 8080,
      periodSeconds: 10,
      failureThreshold: 3,
    });
    expect(draft.spec.livenessProbe).toEqual({ type: "tcp", port: 8080, initialDelaySeconds: 15 });

    const removed = cloneForm(initial);
    removed.readinessProbe.type = "none";
    draft = buildSpec(initial, removed, target);
    expect(draft.spec).toEqual({ readinessProbe: null });
  });

  it("names the workload and container the form shows, once something changed", () => {
    const several = readDeployableValues({
      ...serverValues,
      kind: "StatefulSet",
      container: "sidecar",
      containers: ["app", "sidecar"],
      workloads: [
        { kind: "StatefulSet", name: "shop", containers: ["app", "sidecar"] },
        { kind: "Deployment", name: "worker", containers: ["worker"] },
      ],
    });
    expect(specTarget(several)).toEqual({ kind: "StatefulSet", workload: "shop", container: "sidecar" });

    const initial = formFromValues(several);
    const form = cloneForm(initial);
    expect(buildSpec(initial, form, specTarget(several)).spec).toEqual({});
    form.image = "ghcr.io/acme/shop:2";
    expect(buildSpec(initial, form, specTarget(several)).spec).toEqual({
      image: "ghcr.io/acme/shop:2",
      kind: "StatefulSet",
      workload: "shop",
      container: "sidecar",
    });
  });
});

describe("remembering the last workload and container", () => {
  it("keeps one choice per environment and ignores what it cannot read", () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
    };
    expect(loadChoice("env-1", storage)).toBeNull();
    saveChoice("env-1", { kind: "DaemonSet", workload: "agent", container: "collector" }, storage);
    expect(loadChoice("env-1", storage)).toEqual({ kind: "DaemonSet", workload: "agent", container: "collector" });
    expect(loadChoice("env-2", storage)).toBeNull();
    store.set("juanie.deploy.target.env-3", "{not json");
    expect(loadChoice("env-3", storage)).toBeNull();
    store.set("juanie.deploy.target.env-4", JSON.stringify({ kind: "Pod", workload: "x", container: "y" }));
    expect(loadChoice("env-4", storage)).toBeNull();
  });
});

describe("field names", () => {
  it("names fields the way the server does", () => {
    expect(specField(["env", 2, "name"])).toBe("spec.env.2.name");
    expect(specField([])).toBe("spec");
  });

  it("lists the fields the form shows errors under", () => {
    const fields = shownSpecFields([0, 2]);
    expect(fields).toContain("spec.env.1.value");
    expect(fields).not.toContain("spec.env.2.name");
    expect(fields).toContain("spec.resources.limits.cpu");
    expect(fields).toContain("spec.readinessProbe.port");
    expect(fields).not.toContain("spec");
  });
});

describe("commit message", () => {
  const generated = "chore(deploy): update image to ghcr.io/acme/shop:1.2.3";

  it("sends only the text the user added below the generated line", () => {
    expect(commitMessageExtra(generated, generated)).toBeUndefined();
    expect(commitMessageExtra(`${generated}\n\n- fixes the login\n`, generated)).toBe("- fixes the login");
    expect(commitMessageExtra("Release 1.2.3", generated)).toBe("Release 1.2.3");
    expect(commitMessageExtra("  ", generated)).toBeUndefined();
  });

  it("follows the generated line as the form changes, keeping the user's text", () => {
    const next = "chore(deploy): update image, scale to 3 replicas";
    expect(rebaseCommitMessage("", "", generated)).toBe(generated);
    expect(rebaseCommitMessage(generated, generated, next)).toBe(next);
    expect(rebaseCommitMessage(`${generated}\n\nwhy`, generated, next)).toBe(`${next}\n\nwhy`);
    expect(rebaseCommitMessage("my own subject", generated, next)).toBe("my own subject");
  });
});

describe("displayValue", () => {
  it("shows strings as written and everything else as JSON", () => {
    expect(displayValue("v1")).toBe("v1");
    expect(displayValue(null)).toBe("—");
    expect(displayValue(undefined)).toBe("—");
    expect(displayValue(3)).toBe("3");
    expect(displayValue({ cpu: "1" })).toBe('{"cpu":"1"}');
  });
});
